-- test/fuzz/snapshot.sql: what the fuzzed roles must not be able to change,
-- one line per fact (run as a superuser; run.sh compares it with the
-- snapshot taken before the first call).  The victims are the tenants'
-- schemas, the extension's own objects and every role.  The rows of the
-- tenants' tables, their history and quota usage may change (the attacker
-- may UPDATE fuzz_tenant_a.orders), so they are not here.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
WITH ext AS (
	SELECT oid FROM pg_extension WHERE extname = 'statusflow'
), ext_objects AS (
	SELECT d.classid, d.objid FROM pg_depend d, ext
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), victim_ns AS (
	SELECT oid, nspname FROM pg_namespace
	WHERE nspname IN ('fuzz_tenant_a', 'fuzz_tenant_b', 'public', 'pg_catalog')
	   OR oid IN (SELECT objid FROM ext_objects WHERE classid = 'pg_namespace'::regclass)
	   OR oid = (SELECT extnamespace FROM pg_extension WHERE extname = 'statusflow')
), victim_types AS (
	SELECT t.oid FROM pg_type t JOIN pg_roles r ON r.oid = t.typowner
	WHERE r.rolname IN ('fuzz_tenant_a', 'fuzz_tenant_b')
), victim_workflows AS (
	SELECT w.name FROM statusflow.workflow w WHERE w.status_type IN (SELECT oid FROM victim_types)
), victim_tables AS (
	SELECT c.oid FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM victim_ns)
), facts AS (
	SELECT format('role %s super=%s inherit=%s createrole=%s createdb=%s login=%s replication=%s bypassrls=%s conn=%s valid=%s',
				  rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
				  rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil) AS f
	FROM pg_roles
	UNION ALL
	SELECT format('member %s in %s admin=%s', member::regrole, roleid::regrole, admin_option)
	FROM pg_auth_members
	UNION ALL
	SELECT format('role setting %s db=%s %s', setrole::regrole, d.datname, setconfig)
	FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase
	UNION ALL
	SELECT format('database %s owner=%s acl=%s', datname, datdba::regrole, datacl)
	FROM pg_database WHERE datname = current_database()
	UNION ALL
	SELECT format('extension %s owner=%s version=%s schema=%s', extname, extowner::regrole,
				  extversion, extnamespace::regnamespace)
	FROM pg_extension
	UNION ALL
	SELECT format('schema %s owner=%s acl=%s', nspname, nspowner::regrole, nspacl)
	FROM pg_namespace WHERE nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%'
	UNION ALL
	SELECT format('relation %s kind=%s owner=%s acl=%s rls=%s force=%s', c.oid::regclass, c.relkind,
				  c.relowner::regrole, c.relacl, c.relrowsecurity, c.relforcerowsecurity)
	FROM pg_class c WHERE c.oid IN (SELECT oid FROM victim_tables)
	   OR c.oid IN (SELECT objid FROM ext_objects WHERE classid = 'pg_class'::regclass)
	UNION ALL
	SELECT format('attribute %s.%s type=%s notnull=%s acl=%s', a.attrelid::regclass, a.attname,
				  format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attacl)
	FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	WHERE c.relnamespace IN (SELECT oid FROM victim_ns WHERE nspname <> 'pg_catalog')
	  AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT format('type %s owner=%s acl=%s labels=%s', t.oid::regtype, t.typowner::regrole, t.typacl,
				  (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e
				   WHERE e.enumtypid = t.oid))
	FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM victim_ns WHERE nspname <> 'pg_catalog')
	UNION ALL
	SELECT format('function %s owner=%s acl=%s secdef=%s config=%s src=%s', p.oid::regprocedure,
				  p.proowner::regrole, p.proacl, p.prosecdef, p.proconfig, md5(p.prosrc))
	FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM victim_ns WHERE nspname <> 'pg_catalog')
	   OR p.oid IN (SELECT objid FROM ext_objects WHERE classid = 'pg_proc'::regclass)
	UNION ALL
	SELECT format('function acl %s %s', p.oid::regprocedure, p.proacl)
	FROM pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proacl IS NOT NULL
	UNION ALL
	SELECT format('trigger %s on %s enabled=%s function=%s', t.tgname, t.tgrelid::regclass,
				  t.tgenabled, t.tgfoid::regprocedure)
	FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM victim_tables)
	UNION ALL
	SELECT format('event trigger %s owner=%s enabled=%s function=%s', evtname, evtowner::regrole,
				  evtenabled, evtfoid::regprocedure)
	FROM pg_event_trigger
	UNION ALL
	SELECT format('policy %s on %s cmd=%s roles=%s using=%s check=%s', p.polname, p.polrelid::regclass,
				  p.polcmd, p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid),
				  pg_get_expr(p.polwithcheck, p.polrelid))
	FROM pg_policy p WHERE p.polrelid IN (SELECT oid FROM victim_tables)
	   OR p.polrelid IN (SELECT objid FROM ext_objects WHERE classid = 'pg_class'::regclass)
	UNION ALL
	SELECT format('default acl %s %s %s', defaclrole::regrole, defaclnamespace, defaclacl)
	FROM pg_default_acl
	UNION ALL
	SELECT format('index %s on %s', i.indexrelid::regclass, i.indrelid::regclass)
	FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM victim_tables)
	UNION ALL
	SELECT 'statusflow.workflow ' || w::text FROM statusflow.workflow w
	WHERE w.name IN (SELECT name FROM victim_workflows)
	UNION ALL
	SELECT 'statusflow.status ' || s::text FROM statusflow.status s
	WHERE s.workflow IN (SELECT name FROM victim_workflows)
	UNION ALL
	SELECT 'statusflow.transition ' || t::text FROM statusflow.transition t
	WHERE t.workflow IN (SELECT name FROM victim_workflows)
	UNION ALL
	SELECT 'statusflow.quota ' || q::text FROM statusflow.quota q
	WHERE q.workflow IN (SELECT name FROM victim_workflows)
	UNION ALL
	SELECT 'statusflow.timer ' || t::text FROM statusflow.timer t
	WHERE t.workflow IN (SELECT name FROM victim_workflows)
	UNION ALL
	SELECT 'statusflow.binding ' || b::text FROM statusflow.binding b
	WHERE b.table_name IN (SELECT oid FROM victim_tables)
	   OR b.history_table IN (SELECT oid FROM victim_tables)
	   OR b.workflow IN (SELECT name FROM victim_workflows)
)
SELECT f FROM facts ORDER BY f COLLATE "C";

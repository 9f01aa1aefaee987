-- Everything the statusflow extension defines, normalized, one object per
-- line: two databases whose outputs are equal hold the same extension (the
-- upgrade test compares an upgraded database with a fresh install).
\pset format unaligned
\pset tuples_only on
SET search_path = pg_catalog;

-- the extension and its members
SELECT 'extension', extname, extversion, extrelocatable,
	   (SELECT array_agg(c::regclass::text ORDER BY c::regclass::text)
		FROM unnest(extconfig) c)
FROM pg_extension WHERE extname = 'statusflow';
SELECT 'member', pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'statusflow' AND d.deptype = 'e'
ORDER BY 2;

-- functions: signature, properties, privileges, body and comment
SELECT 'function', p.oid::regprocedure::text, p.prorettype::regtype::text, p.prokind,
	   p.provolatile, p.proisstrict, p.prosecdef, p.proconfig, p.proacl,
	   pg_get_function_arguments(p.oid), md5(p.prosrc), p.probin,
	   obj_description(p.oid, 'pg_proc')
FROM pg_proc p
WHERE p.pronamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
ORDER BY 2;

-- tables, views, sequences and types
SELECT 'relation', c.oid::regclass::text, c.relkind, c.relrowsecurity, c.relacl,
	   obj_description(c.oid, 'pg_class'),
	   CASE WHEN c.relkind = 'v' THEN md5(pg_get_viewdef(c.oid)) END
FROM pg_class c
WHERE c.relnamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
ORDER BY 2;
SELECT 'column', a.attrelid::regclass::text, a.attnum, a.attname,
	   format_type(a.atttypid, a.atttypmod), a.attnotnull,
	   pg_get_expr(ad.adbin, ad.adrelid)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relnamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 2, 3;
SELECT 'constraint', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.connamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
ORDER BY 2, 3;
SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
ORDER BY 2;
SELECT 'trigger', tgrelid::regclass::text, tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
  AND NOT t.tgisinternal
ORDER BY 2, 3;
SELECT 'policy', polrelid::regclass::text, polname, polcmd, polpermissive, polroles,
	   pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
ORDER BY 2, 3;
SELECT 'type', t.oid::regtype::text, t.typtype, obj_description(t.oid, 'pg_type')
FROM pg_type t
WHERE t.typnamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
  AND t.typrelid = 0 OR t.typrelid IN (SELECT c.oid FROM pg_class c
									 WHERE c.relnamespace = 'statusflow'::regnamespace
									   AND c.relkind = 'c')
ORDER BY 2;
SELECT 'event trigger', evtname, evtevent, evtfoid::regprocedure::text, evtenabled, evttags
FROM pg_event_trigger e
WHERE EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
			  WHERE x.extname = 'statusflow' AND d.classid = 'pg_event_trigger'::regclass
				AND d.objid = e.oid)
ORDER BY 2;
SELECT 'schema', n.nspname, n.nspacl, obj_description(n.oid, 'pg_namespace')
FROM pg_namespace n WHERE n.nspname IN ('statusflow', 'statusflow_internal')
ORDER BY 2;

/*
 * statusflow: status workflows enforced inside PostgreSQL
 *
 * The install script statusflow--<version>.sql is built by the Makefile
 * from the files in src/sql/, in name order, one concern per file.
 */

\echo Use "CREATE EXTENSION statusflow" to load this file. \quit

/*
 * Catalog
 *
 * Small tables describe every workflow, binding, quota and timer.  They are
 * written by the API functions, run with the caller's rights; row-level
 * security lets a role change only the workflows whose enum type it owns
 * and the bindings of the tables it owns.  Every backend caches them (see
 * src/catalog.c); a statement trigger on each one invalidates those caches.
 */

CREATE TABLE statusflow.workflow (
	name		text PRIMARY KEY
				CHECK (name <> '' AND pg_catalog.octet_length(name) <= 63),
	status_type	regtype NOT NULL UNIQUE,
		allow_null	boolean NOT NULL DEFAULT false,
	monotonic	boolean NOT NULL DEFAULT false,
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- condition: a SQL boolean expression over the row, required to enter the
-- status (evaluated on the row as written).
CREATE TABLE statusflow.status (
	workflow	text NOT NULL,
	status		text NOT NULL,
	description	text,
	group_name	text,
	is_initial	boolean NOT NULL DEFAULT false,
		is_terminal	boolean NOT NULL DEFAULT false,
	is_sticky	boolean NOT NULL DEFAULT false,
	condition	text CHECK (condition <> ''),
	PRIMARY KEY (workflow, status)
);

-- A transition from one status to another (to_status NULL: back to the
-- status held before from_status), with its guards: roles allowed to take
-- it (none: anyone), a row condition, a required reason, and the most times
-- one entity may take it.
CREATE SEQUENCE statusflow.transition_id_seq;
CREATE TABLE statusflow.transition (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.transition_id_seq'),
	workflow	text NOT NULL,
	from_status	text NOT NULL,
	to_status	text,
	event		text CHECK (event <> ''),
	kind		text NOT NULL DEFAULT 'manual'
				CHECK (kind IN ('manual', 'automatic')),
	description	text,
	roles		regrole[] CHECK (pg_catalog.cardinality(roles) > 0),
	condition	text CHECK (condition <> ''),
	require_reason boolean NOT NULL DEFAULT false,
	max_uses	integer CHECK (max_uses > 0),
	UNIQUE NULLS NOT DISTINCT (workflow, from_status, to_status, event)
);
ALTER SEQUENCE statusflow.transition_id_seq OWNED BY statusflow.transition.id;

-- A quota: entries into statuses, counted per value of a column of the
-- bound table, per calendar period; over the limit a change is diverted to
-- overflow_status, or refused when there is none.
CREATE SEQUENCE statusflow.quota_id_seq;
CREATE TABLE statusflow.quota (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.quota_id_seq'),
	workflow	text NOT NULL,
	statuses	text[] NOT NULL CHECK (pg_catalog.cardinality(statuses) > 0),
	per_column	name NOT NULL,
	max_entries	integer NOT NULL CHECK (max_entries >= 0),
	period		text NOT NULL CHECK (period IN ('day', 'week', 'month', 'year')),
	overflow_status text,
	UNIQUE (workflow, statuses)
);
ALTER SEQUENCE statusflow.quota_id_seq OWNED BY statusflow.quota.id;

-- A timer: rows that stay in a status for an interval (or until the time
-- in one of their columns, plus an interval) move on by themselves, to a
-- status or by an event, when statusflow.tick() runs.
CREATE SEQUENCE statusflow.timer_id_seq;
CREATE TABLE statusflow.timer (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.timer_id_seq'),
	workflow	text NOT NULL,
	status		text NOT NULL,
	after		interval,
	at_column	name,
	to_status	text,
	event		text,
	CHECK (after IS NOT NULL OR at_column IS NOT NULL),
	CHECK ((to_status IS NULL) <> (event IS NULL))
);
ALTER SEQUENCE statusflow.timer_id_seq OWNED BY statusflow.timer.id;

-- How much of each quota each scope (column value) used in each period;
-- written by the BEFORE trigger under a row lock, so that concurrent changes
-- for one scope are counted one after the other.
CREATE TABLE statusflow.quota_usage (
	binding_id	integer NOT NULL,
	quota_id	integer NOT NULL,
	scope		text NOT NULL,
	period_start timestamptz NOT NULL,
	used		integer NOT NULL,
	PRIMARY KEY (binding_id, quota_id, scope, period_start)
);

CREATE SEQUENCE statusflow.binding_id_seq;
CREATE TABLE statusflow.binding (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.binding_id_seq'),
	table_name	regclass NOT NULL,
	column_name	name NOT NULL,
	workflow	text NOT NULL,
	history_table regclass NOT NULL UNIQUE,
	key_columns	name[] NOT NULL,
		entered_at_column name,
	notify_channel text CHECK (notify_channel <> ''),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	UNIQUE (table_name, column_name)
);
ALTER SEQUENCE statusflow.binding_id_seq OWNED BY statusflow.binding.id;

SELECT pg_catalog.pg_extension_config_dump('statusflow.workflow', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.status', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.transition', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.transition_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.binding', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.binding_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.quota', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.quota_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.quota_usage', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.timer', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.timer_id_seq', '');

/* Does the current role own (directly or through membership) this type? */
CREATE FUNCTION statusflow._owns_type(t regtype)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.pg_has_role(typowner, 'USAGE')
	FROM pg_catalog.pg_type WHERE oid OPERATOR(pg_catalog.=) t
$$;

/* Does the current role own the enum type of this workflow? */
CREATE FUNCTION statusflow._owns_workflow(w text)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow._owns_type(status_type)
	FROM statusflow.workflow WHERE name OPERATOR(pg_catalog.=) w
$$;

/* Does the current role own this table? */
CREATE FUNCTION statusflow._owns_relation(r regclass)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.pg_has_role(relowner, 'USAGE')
	FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) r
$$;

/* Does the current role own the table of this binding? */
CREATE FUNCTION statusflow._owns_binding(b integer)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow._owns_relation(table_name)
	FROM statusflow.binding WHERE id OPERATOR(pg_catalog.=) b
$$;

ALTER TABLE statusflow.workflow ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.status ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.transition ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.binding ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.quota ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.quota_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.timer ENABLE ROW LEVEL SECURITY;

CREATE POLICY read_all ON statusflow.workflow FOR SELECT USING (true);
CREATE POLICY type_owner ON statusflow.workflow
	USING (statusflow._owns_type(status_type))
	WITH CHECK (statusflow._owns_type(status_type));
CREATE POLICY read_all ON statusflow.status FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.status
	USING (statusflow._owns_workflow(workflow))
	WITH CHECK (statusflow._owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.transition FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.transition
	USING (statusflow._owns_workflow(workflow))
	WITH CHECK (statusflow._owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.quota FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.quota
	USING (statusflow._owns_workflow(workflow))
	WITH CHECK (statusflow._owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.timer FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.timer
	USING (statusflow._owns_workflow(workflow))
	WITH CHECK (statusflow._owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.quota_usage FOR SELECT USING (true);
CREATE POLICY table_owner ON statusflow.quota_usage
	USING (statusflow._owns_binding(binding_id))
	WITH CHECK (statusflow._owns_binding(binding_id));
CREATE POLICY read_all ON statusflow.binding FOR SELECT USING (true);
CREATE POLICY table_owner ON statusflow.binding
	USING (statusflow._owns_relation(table_name))
	WITH CHECK (statusflow._owns_relation(table_name)
				AND statusflow._owns_relation(history_table));

GRANT USAGE ON SCHEMA statusflow TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON statusflow.workflow, statusflow.status,
		statusflow.transition, statusflow.binding, statusflow.quota,
	statusflow.quota_usage, statusflow.timer TO PUBLIC;
GRANT USAGE ON SEQUENCE statusflow.transition_id_seq,
	statusflow.binding_id_seq, statusflow.quota_id_seq,
	statusflow.timer_id_seq TO PUBLIC;

/* Statement trigger on the catalog tables: tells every backend to reload. */
CREATE FUNCTION statusflow._invalidate_cache()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_invalidate_cache';
REVOKE ALL ON FUNCTION statusflow._invalidate_cache() FROM PUBLIC;

CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.workflow
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow._invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.status
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow._invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.transition
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow._invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.binding
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow._invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.quota
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow._invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.timer
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow._invalidate_cache();

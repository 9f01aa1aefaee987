/*
 * statusflow: status workflows enforced inside PostgreSQL
 *
 * The install script statusflow--<version>.sql is built by the Makefile
 * from the files in src/sql/, in name order, one concern per file.
 */

\echo Use "CREATE EXTENSION statusflow" to load this file. \quit

/*
 * Schemas
 *
 * statusflow holds the catalog, its views and the documented API: every
 * function in it is meant to be called by users.  statusflow_internal holds
 * everything else: trigger functions, catalog validation, and the helpers
 * the API functions call.  Only the helpers that API functions running with
 * the caller's rights need are executable by PUBLIC (see the end of this
 * script), and each checks its arguments.
 */
CREATE SCHEMA statusflow_internal;
COMMENT ON SCHEMA statusflow_internal IS
	'statusflow internals: trigger functions and helpers of the statusflow API; not an API';

/*
 * Catalog
 *
 * Small tables describe every workflow, binding, quota and timer.  They are
 * written by the API functions, run with the caller's rights; row-level
 * security lets a role change only the workflows whose enum type it owns
 * and the bindings of the tables it owns.  Foreign keys, checks and the
 * validation triggers below hold the catalog consistent on every write
 * path, the API's and direct DML alike.  Every backend caches the catalog
 * (see src/catalog.c); a statement trigger on each table invalidates those
 * caches.
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
	workflow	text NOT NULL REFERENCES statusflow.workflow
				ON UPDATE CASCADE ON DELETE CASCADE,
	status		text NOT NULL
				CHECK (status <> '' AND pg_catalog.octet_length(status) <= 63),
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
-- one entity may take it.  Staying in a status is a transition only for an
-- event (the event applies there, and changes nothing).
CREATE SEQUENCE statusflow.transition_id_seq;
CREATE TABLE statusflow.transition (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.transition_id_seq'),
	workflow	text NOT NULL,
	from_status	text NOT NULL,
	to_status	text,
	event		text CHECK (event <> '' AND pg_catalog.octet_length(event) <= 63),
	kind		text NOT NULL DEFAULT 'manual'
				CHECK (kind IN ('manual', 'automatic')),
	description	text,
	roles		regrole[] CHECK (pg_catalog.cardinality(roles) > 0
								 AND pg_catalog.array_position(roles, NULL) IS NULL),
	condition	text CHECK (condition <> ''),
	require_reason boolean NOT NULL DEFAULT false,
	max_uses	integer CHECK (max_uses > 0),
	UNIQUE NULLS NOT DISTINCT (workflow, from_status, to_status, event),
	CHECK (from_status <> to_status OR event IS NOT NULL),
	FOREIGN KEY (workflow, from_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE,
	FOREIGN KEY (workflow, to_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE
);
ALTER SEQUENCE statusflow.transition_id_seq OWNED BY statusflow.transition.id;

-- A quota: entries into statuses, counted per value of a column of the
-- bound table, per calendar period; over the limit a change is diverted to
-- overflow_status, or refused when there is none.
CREATE SEQUENCE statusflow.quota_id_seq;
CREATE TABLE statusflow.quota (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.quota_id_seq'),
	workflow	text NOT NULL REFERENCES statusflow.workflow
				ON UPDATE CASCADE ON DELETE CASCADE,
	statuses	text[] NOT NULL
				CHECK (pg_catalog.cardinality(statuses) > 0
					   AND pg_catalog.array_position(statuses, NULL) IS NULL),
	per_column	name NOT NULL,
	max_entries	integer NOT NULL CHECK (max_entries >= 0),
	period		text NOT NULL CHECK (period IN ('day', 'week', 'month', 'year')),
	overflow_status text,
	UNIQUE (workflow, statuses),
	CHECK (NOT overflow_status = ANY (statuses)),
	FOREIGN KEY (workflow, overflow_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE
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
	after		interval CHECK (after BETWEEN interval '0' AND interval '100 years'),
	at_column	name,
	to_status	text,
	event		text,
	CHECK (after IS NOT NULL OR at_column IS NOT NULL),
	CHECK ((to_status IS NULL) <> (event IS NULL)),
	FOREIGN KEY (workflow, status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE,
	FOREIGN KEY (workflow, to_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE
);
ALTER SEQUENCE statusflow.timer_id_seq OWNED BY statusflow.timer.id;

CREATE SEQUENCE statusflow.binding_id_seq;
CREATE TABLE statusflow.binding (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.binding_id_seq'),
	table_name	regclass NOT NULL,
	column_name	name NOT NULL,
	workflow	text NOT NULL REFERENCES statusflow.workflow
				ON UPDATE CASCADE,
	history_table regclass NOT NULL UNIQUE,
	key_columns	name[] NOT NULL
				CHECK (pg_catalog.cardinality(key_columns) BETWEEN 1 AND 32
					   AND pg_catalog.array_position(key_columns, NULL) IS NULL),
	entered_at_column name,
	notify_channel text CHECK (notify_channel <> ''
							   AND pg_catalog.octet_length(notify_channel) <= 63),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	UNIQUE (table_name, column_name),
	CHECK (table_name <> history_table)
);
ALTER SEQUENCE statusflow.binding_id_seq OWNED BY statusflow.binding.id;

-- How much of each quota each scope (column value) used in each period;
-- written by the BEFORE trigger under a row lock, so that concurrent changes
-- for one scope are counted one after the other.
CREATE TABLE statusflow.quota_usage (
	binding_id	integer NOT NULL REFERENCES statusflow.binding ON DELETE CASCADE,
	quota_id	integer NOT NULL REFERENCES statusflow.quota ON DELETE CASCADE,
	scope		text NOT NULL,
	period_start timestamptz NOT NULL,
	used		integer NOT NULL CHECK (used >= 0),
	PRIMARY KEY (binding_id, quota_id, scope, period_start)
);

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
CREATE FUNCTION statusflow_internal.owns_type(t regtype)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.pg_has_role(typowner, 'USAGE')
	FROM pg_catalog.pg_type WHERE oid OPERATOR(pg_catalog.=) t
$$;

/* Does the current role own the enum type of this workflow? */
CREATE FUNCTION statusflow_internal.owns_workflow(w text)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.owns_type(status_type)
	FROM statusflow.workflow WHERE name OPERATOR(pg_catalog.=) w
$$;

/* Does the current role own this table? */
CREATE FUNCTION statusflow_internal.owns_relation(r regclass)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.pg_has_role(relowner, 'USAGE')
	FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) r
$$;

/* Does the current role own the table of this binding? */
CREATE FUNCTION statusflow_internal.owns_binding(b integer)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.owns_relation(table_name)
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
	USING (statusflow_internal.owns_type(status_type))
	WITH CHECK (statusflow_internal.owns_type(status_type));
CREATE POLICY read_all ON statusflow.status FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.status
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.transition FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.transition
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.quota FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.quota
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.timer FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.timer
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY table_owner ON statusflow.quota_usage
	USING (statusflow_internal.owns_binding(binding_id))
	WITH CHECK (statusflow_internal.owns_binding(binding_id));
CREATE POLICY read_all ON statusflow.binding FOR SELECT USING (true);
CREATE POLICY table_owner ON statusflow.binding
	USING (statusflow_internal.owns_relation(table_name))
	WITH CHECK (statusflow_internal.owns_relation(table_name)
				AND statusflow_internal.owns_relation(history_table));


/* Statement trigger on the catalog tables: tells every backend to reload. */
CREATE FUNCTION statusflow_internal.invalidate_cache()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_invalidate_cache';

CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.workflow
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.status
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.transition
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.binding
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.quota
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.timer
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
/*
 * Catalog integrity
 *
 * Row-level security decides who may write a catalog row; foreign keys and
 * checks keep rows consistent with each other; the triggers below check
 * what those cannot: that statuses are labels of their enum type, that
 * terminal statuses have no way out, that conditions parse, that a binding
 * names a real column of the workflow's type.  They run on every write,
 * through the API or not, with the writer's rights.  The cache (see
 * src/catalog.c) still trusts nothing: a row that gets past all this fails
 * only its own workflow's tables.
 *
 * An enum label renamed with ALTER TYPE ... RENAME VALUE is followed: the
 * event trigger below renames the status wherever the catalog names it.
 */

/* A workflow's type is an enum type. */
CREATE FUNCTION statusflow_internal.check_workflow_row()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_type t
				   WHERE t.oid = NEW.status_type AND t.typtype = 'e') THEN
		RAISE EXCEPTION 'type % of workflow "%" is not an enum type',
			NEW.status_type, NEW.name
			USING ERRCODE = 'datatype_mismatch',
				  HINT = 'Create workflows with statusflow.create_workflow().';
	END IF;
	RETURN NEW;
END
$$;

/*
 * A status is a label of its workflow's enum type, a terminal one has no
 * outgoing transition, and its condition parses.
 */
CREATE FUNCTION statusflow_internal.check_status_row()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	type_name regtype;
BEGIN
	SELECT w.status_type INTO type_name FROM statusflow.workflow w
	WHERE w.name = NEW.workflow;
	IF NOT EXISTS (SELECT 1 FROM pg_enum e
				   WHERE e.enumtypid = type_name
					 AND e.enumlabel::text = NEW.status) THEN
		RAISE EXCEPTION 'status "%" of workflow "%" is not a label of type %',
			NEW.status, NEW.workflow, type_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Add statuses with statusflow.add_status().';
	END IF;
	IF NEW.is_terminal AND EXISTS (
		SELECT 1 FROM statusflow.transition t
		WHERE t.workflow = NEW.workflow AND t.from_status = NEW.status) THEN
		RAISE EXCEPTION 'status "%" has outgoing transitions and cannot be terminal',
			NEW.status
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Remove its transitions with statusflow.remove_transition() first.';
	END IF;
	PERFORM statusflow_internal.check_condition(NEW.condition, NULL, NULL);
	RETURN NEW;
END
$$;

/* No transition leaves a terminal status, and a condition parses. */
CREATE FUNCTION statusflow_internal.check_transition_row()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM statusflow.status s
			   WHERE s.workflow = NEW.workflow AND s.status = NEW.from_status
				 AND s.is_terminal) THEN
		RAISE EXCEPTION 'status "%" of workflow "%" is terminal', NEW.from_status,
			NEW.workflow
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'No transition may leave a terminal status.',
				  HINT = 'Call statusflow.set_status_info() with terminal => false first.';
	END IF;
	PERFORM statusflow_internal.check_condition(NEW.condition, NULL, NULL);
	RETURN NEW;
END
$$;

/* The statuses a quota counts belong to its workflow. */
CREATE FUNCTION statusflow_internal.check_quota_row()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad text;
BEGIN
	SELECT l INTO bad FROM unnest(NEW.statuses) l
	WHERE NOT EXISTS (SELECT 1 FROM statusflow.status s
					  WHERE s.workflow = NEW.workflow AND s.status = l)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'status "%" is not part of workflow "%"', bad, NEW.workflow
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN NEW;
END
$$;

/*
 * A binding names a table, one of its columns of the workflow's type (not in
 * a partition key), existing key columns other than that one, a history
 * table, and a timestamptz entered-at column when it has one.  Whether the
 * key columns are the primary key is checked by attach(): a restore loads
 * the catalog before it creates the tables' constraints.
 */
CREATE FUNCTION statusflow_internal.check_binding_row()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	wtype oid;
	missing name;
BEGIN
	SELECT w.status_type INTO wtype FROM statusflow.workflow w
	WHERE w.name = NEW.workflow;
	IF NOT EXISTS (SELECT 1 FROM pg_class c
				   WHERE c.oid = NEW.table_name AND c.relkind IN ('r', 'p')) THEN
		RAISE EXCEPTION '% is not a table', NEW.table_name
			USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_class c
				   WHERE c.oid = NEW.history_table AND c.relkind IN ('r', 'p')) THEN
		RAISE EXCEPTION 'history table % is not a table', NEW.history_table
			USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_attribute a
				   WHERE a.attrelid = NEW.table_name AND a.attname = NEW.column_name
					 AND a.attnum > 0 AND NOT a.attisdropped
					 AND a.atttypid = wtype) THEN
		RAISE EXCEPTION 'table % has no column "%" of the type of workflow "%"',
			NEW.table_name, NEW.column_name, NEW.workflow
			USING ERRCODE = 'datatype_mismatch',
				  HINT = 'Bind columns with statusflow.attach().';
	END IF;
	SELECT k INTO missing FROM unnest(NEW.key_columns) k
	WHERE k = NEW.column_name
	   OR NOT EXISTS (SELECT 1 FROM pg_attribute a
					  WHERE a.attrelid = NEW.table_name AND a.attname = k
						AND a.attnum > 0 AND NOT a.attisdropped)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'key column "%" of table % does not exist or is the bound column',
			missing, NEW.table_name
			USING ERRCODE = 'undefined_column';
	END IF;
	IF NEW.entered_at_column IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM pg_attribute a
		WHERE a.attrelid = NEW.table_name AND a.attname = NEW.entered_at_column
		  AND a.attnum > 0 AND NOT a.attisdropped
		  AND a.atttypid = 'timestamptz'::regtype) THEN
		RAISE EXCEPTION 'table % has no column "%" of type timestamp with time zone',
			NEW.table_name, NEW.entered_at_column
			USING ERRCODE = 'undefined_column';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_partition_tree(NEW.table_name) t
			   JOIN pg_partitioned_table p ON p.partrelid = t.relid
			   JOIN pg_attribute a ON a.attrelid = t.relid
								  AND a.attname = NEW.column_name
			   WHERE a.attnum = ANY (p.partattrs::int2[])) THEN
		RAISE EXCEPTION 'column "%" of table % is part of a partition key',
			NEW.column_name, NEW.table_name
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'A status change would move the row to another partition, which PostgreSQL reports to triggers as a DELETE and an INSERT.',
				  HINT = 'Partition the table by another column.';
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON statusflow.workflow
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.check_workflow_row();
CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON statusflow.status
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.check_status_row();
CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON statusflow.transition
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.check_transition_row();
CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON statusflow.quota
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.check_quota_row();
CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON statusflow.binding
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.check_binding_row();

/*
 * ALTER TYPE ... RENAME VALUE on a workflow's type: the one label of the
 * catalog that the type lost is renamed to the one label it gained, in the
 * status row (foreign keys carry it to transitions, timers and overflow
 * statuses) and in quotas.  Runs as the role that renamed the value, which
 * owns the type and so the workflow.
 */
CREATE FUNCTION statusflow_internal.follow_enum_renames()
RETURNS event_trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w record;
	lost text[];
	gained text[];
BEGIN
	FOR w IN SELECT DISTINCT x.name, x.status_type
			 FROM pg_event_trigger_ddl_commands() c
			 JOIN statusflow.workflow x ON x.status_type::oid = c.objid
			 WHERE c.classid = 'pg_type'::regclass LOOP
		SELECT array_agg(s.status) INTO lost FROM statusflow.status s
		WHERE s.workflow = w.name
		  AND NOT EXISTS (SELECT 1 FROM pg_enum e
						  WHERE e.enumtypid = w.status_type
							AND e.enumlabel::text = s.status);
		SELECT array_agg(e.enumlabel::text) INTO gained FROM pg_enum e
		WHERE e.enumtypid = w.status_type
		  AND NOT EXISTS (SELECT 1 FROM statusflow.status s
						  WHERE s.workflow = w.name
							AND s.status = e.enumlabel::text);
		IF cardinality(lost) = 1 AND cardinality(gained) = 1 THEN
			UPDATE statusflow.status s SET status = gained[1]
			WHERE s.workflow = w.name AND s.status = lost[1];
			UPDATE statusflow.quota q
			SET statuses = array_replace(q.statuses, lost[1], gained[1])
			WHERE q.workflow = w.name AND lost[1] = ANY (q.statuses);
		END IF;
	END LOOP;
END
$$;

CREATE EVENT TRIGGER statusflow_enum_rename ON ddl_command_end
	WHEN TAG IN ('ALTER TYPE')
	EXECUTE FUNCTION statusflow_internal.follow_enum_renames();
/*
 * Workflow definition: views, definition API, introspection
 */

/*
 * Introspection views
 */

CREATE VIEW statusflow.statuses AS
SELECT s.workflow, s.status, e.rank::integer AS rank, s.group_name,
	   s.description, s.is_initial, s.is_terminal, s.is_sticky, s.condition
FROM statusflow.status s
JOIN statusflow.workflow w ON w.name OPERATOR(pg_catalog.=) s.workflow
JOIN LATERAL (
	SELECT pe.enumlabel::text AS label,
		   pg_catalog.row_number() OVER (ORDER BY pe.enumsortorder) AS rank
	FROM pg_catalog.pg_enum pe
	WHERE pe.enumtypid OPERATOR(pg_catalog.=) w.status_type::oid
) e ON e.label OPERATOR(pg_catalog.=) s.status;

CREATE VIEW statusflow.workflows AS
SELECT w.name AS workflow, w.status_type, w.allow_null, w.monotonic,
	   w.description,
	   ARRAY(SELECT s.status FROM statusflow.statuses s
			 WHERE s.workflow OPERATOR(pg_catalog.=) w.name ORDER BY s.rank)
		   AS statuses,
	   ARRAY(SELECT s.status FROM statusflow.statuses s
			 WHERE s.workflow OPERATOR(pg_catalog.=) w.name AND s.is_initial
			 ORDER BY s.rank) AS initial,
	   ARRAY(SELECT s.status FROM statusflow.statuses s
			 WHERE s.workflow OPERATOR(pg_catalog.=) w.name AND s.is_terminal
			 ORDER BY s.rank) AS terminal,
	   (SELECT pg_catalog.count(*) FROM statusflow.binding b
		WHERE b.workflow OPERATOR(pg_catalog.=) w.name) AS bindings
FROM statusflow.workflow w;

CREATE VIEW statusflow.transitions AS
SELECT t.workflow, t.from_status, t.to_status, t.event, t.kind,
	   t.description, t.roles, t.condition, t.require_reason, t.max_uses,
	   t.to_status IS NULL AS restores_previous, t.id
FROM statusflow.transition t
LEFT JOIN statusflow.statuses f
	   ON f.workflow OPERATOR(pg_catalog.=) t.workflow
	  AND f.status OPERATOR(pg_catalog.=) t.from_status
LEFT JOIN statusflow.statuses tt
	   ON tt.workflow OPERATOR(pg_catalog.=) t.workflow
	  AND tt.status OPERATOR(pg_catalog.=) t.to_status
ORDER BY t.workflow, f.rank, tt.rank, t.event NULLS FIRST;

CREATE VIEW statusflow.timers AS
SELECT t.workflow, t.status, t.after, t.at_column, t.to_status, t.event, t.id
FROM statusflow.timer t
ORDER BY t.workflow, t.id;

CREATE VIEW statusflow.quotas AS
SELECT q.workflow, q.statuses, q.per_column, q.max_entries, q.period,
	   q.overflow_status, q.id
FROM statusflow.quota q
ORDER BY q.workflow, q.id;

CREATE VIEW statusflow.bindings AS
SELECT b.table_name, b.column_name, b.workflow, b.history_table,
	   b.key_columns, b.entered_at_column, b.notify_channel,
	   b.id AS binding_id, b.created_at
FROM statusflow.binding b;


/*
 * Helpers for the definition API
 */

/* The workflow row, or a clear error when there is none. */
CREATE FUNCTION statusflow_internal.workflow(workflow text)
RETURNS statusflow.workflow LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	PERFORM statusflow_internal.require(workflow IS NOT NULL, 'workflow');
	SELECT * INTO w FROM statusflow.workflow x
	WHERE x.name OPERATOR(pg_catalog.=) workflow.workflow;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow "%" does not exist', workflow
			USING ERRCODE = 'undefined_object',
				  HINT = 'The view statusflow.workflows lists the workflows.';
	END IF;
	RETURN w;
END
$$;

/* Raise a clear error for a required argument that is null. */
CREATE FUNCTION statusflow_internal.require(present boolean, what text)
RETURNS void LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT present THEN
		RAISE EXCEPTION '% must not be null', what
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
END
$$;

/* Raise unless every element of labels is a status of the workflow. */
CREATE FUNCTION statusflow_internal.check_statuses(workflow text, labels text[],
										   what text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad text;
BEGIN
	PERFORM statusflow_internal.require(array_position(labels, NULL) IS NULL
								AND labels IS NOT NULL, what);
	SELECT l INTO bad FROM unnest(labels) l
	WHERE NOT EXISTS (SELECT 1 FROM statusflow.status s
					  WHERE s.workflow = check_statuses.workflow
						AND s.status = l)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'status "%" is not part of workflow "%"', bad, workflow
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = format('Its statuses are: %s.',
								(SELECT string_agg(format('"%s"', s.status), ', '
												   ORDER BY s.rank)
								 FROM statusflow.statuses s
								 WHERE s.workflow = check_statuses.workflow));
	END IF;
END
$$;

/* Raise unless the current role may change the workflow (owns its type). */
CREATE FUNCTION statusflow_internal.check_owner(w statusflow.workflow)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT statusflow_internal.owns_type(w.status_type) THEN
		RAISE EXCEPTION 'must be owner of type % to change workflow "%"',
			w.status_type, w.name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
END
$$;

/* "schema"."name" for a possibly qualified type or table name. */
CREATE FUNCTION statusflow_internal.qualified_name(name text, default_schema text)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts text[];
BEGIN
	parts := parse_ident(name);
	IF cardinality(parts) = 1 THEN
		IF default_schema IS NULL THEN
			RAISE EXCEPTION 'no schema has been selected to create in'
				USING ERRCODE = 'invalid_schema_name';
		END IF;
		RETURN format('%I.%I', default_schema, parts[1]);
	ELSIF cardinality(parts) = 2 THEN
		RETURN format('%I.%I', parts[1], parts[2]);
	END IF;
	RAISE EXCEPTION 'improper qualified name (too many dotted names): %', name
		USING ERRCODE = 'syntax_error';
END
$$;

/* Role names as regrole[], or a clear error for one that does not exist. */
CREATE FUNCTION statusflow_internal.roles(names text[])
RETURNS regrole[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad text;
BEGIN
	IF names IS NULL THEN
		RETURN NULL;
	END IF;
	IF cardinality(names) = 0 THEN
		RAISE EXCEPTION 'roles must list at least one role'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass NULL to let every role take the transition.';
	END IF;
	SELECT r INTO bad FROM unnest(names) r WHERE r IS NULL OR to_regrole(quote_ident(r)) IS NULL
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'role "%" does not exist', bad
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN (SELECT array_agg(to_regrole(quote_ident(r))) FROM unnest(names) r);
END
$$;

/*
 * Check a row condition: its syntax, and that it can be evaluated on every
 * table bound to the workflow.
 */
CREATE FUNCTION statusflow_internal.check_condition_everywhere(workflow text,
													   condition text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t regclass;
BEGIN
	IF condition IS NULL THEN
		RETURN;
	END IF;
	PERFORM statusflow_internal.check_condition(condition, NULL, NULL);
	FOR t IN SELECT b.table_name FROM statusflow.binding b
			 WHERE b.workflow = check_condition_everywhere.workflow LOOP
		PERFORM statusflow_internal.check_condition(condition, workflow, t);
	END LOOP;
END
$$;

/*
 * Definition API
 */

CREATE FUNCTION statusflow.create_workflow(name text,
										   statuses text[],
										   initial text[],
										   terminal text[] DEFAULT '{}',
										   type_name text DEFAULT NULL,
										   allow_null boolean DEFAULT false,
										   description text DEFAULT NULL,
										   monotonic boolean DEFAULT false,
										   schema name DEFAULT pg_catalog.current_schema())
RETURNS regtype LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	qualified text;
	new_type regtype;
	bad text;
BEGIN
	PERFORM statusflow_internal.require(name IS NOT NULL, 'name');
	PERFORM statusflow_internal.require(statuses IS NOT NULL, 'statuses');
	PERFORM statusflow_internal.require(initial IS NOT NULL, 'initial');
	IF name = '' OR pg_catalog.octet_length(name) > 63 THEN
		RAISE EXCEPTION 'invalid workflow name %',
			coalesce(pg_catalog.quote_literal(name), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A workflow name has 1 to 63 bytes.';
	END IF;
	IF EXISTS (SELECT 1 FROM statusflow.workflow w
			   WHERE w.name OPERATOR(pg_catalog.=) create_workflow.name) THEN
		RAISE EXCEPTION 'workflow "%" already exists', name
			USING ERRCODE = 'duplicate_object';
	END IF;
	IF statuses IS NULL OR pg_catalog.cardinality(statuses) = 0 THEN
		RAISE EXCEPTION 'a workflow needs at least one status'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT s INTO bad FROM pg_catalog.unnest(statuses) s
	WHERE s IS NULL OR s = '' OR pg_catalog.octet_length(s) > 63 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'invalid status label %',
			coalesce(pg_catalog.quote_literal(bad), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A status label has 1 to 63 bytes.';
	END IF;
	SELECT s INTO bad FROM pg_catalog.unnest(statuses) s
	GROUP BY s HAVING pg_catalog.count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'status "%" is listed twice', bad
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF initial IS NULL OR pg_catalog.cardinality(initial) = 0 THEN
		RAISE EXCEPTION 'a workflow needs at least one initial status'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'New rows must start in an initial status.';
	END IF;
	SELECT s INTO bad FROM pg_catalog.unnest(initial || coalesce(terminal, '{}')) s
	WHERE s IS NULL OR NOT s OPERATOR(pg_catalog.=) ANY (statuses) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'initial or terminal status % is not in the list of statuses',
			coalesce(pg_catalog.format('"%s"', bad), 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	qualified := statusflow_internal.qualified_name(
		coalesce(type_name, name || '_status'), schema);
	IF pg_catalog.to_regtype(qualified) IS NOT NULL THEN
		RAISE EXCEPTION 'type % already exists', qualified
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Choose another name with type_name.';
	END IF;
	EXECUTE pg_catalog.format('CREATE TYPE %s AS ENUM (%s)', qualified,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_literal(s), ', ' ORDER BY o)
		 FROM pg_catalog.unnest(statuses) WITH ORDINALITY AS u(s, o)));
	new_type := pg_catalog.to_regtype(qualified);

		INSERT INTO statusflow.workflow (name, status_type, allow_null, description,
									 monotonic)
	VALUES (name, new_type, coalesce(allow_null, false), description,
			coalesce(monotonic, false));
	INSERT INTO statusflow.status (workflow, status, is_initial, is_terminal)
	SELECT name, s, s OPERATOR(pg_catalog.=) ANY (initial),
		   s OPERATOR(pg_catalog.=) ANY (coalesce(terminal, '{}'))
	FROM pg_catalog.unnest(statuses) s;
	RETURN new_type;
END
$$;

CREATE FUNCTION statusflow.add_transition(workflow text,
										  from_statuses text[],
										  to_status text,
										  event text DEFAULT NULL,
										  kind text DEFAULT 'manual',
										  description text DEFAULT NULL,
										  roles text[] DEFAULT NULL,
										  condition text DEFAULT NULL,
										  require_reason boolean DEFAULT false,
										  max_uses integer DEFAULT NULL,
										  restore_previous boolean DEFAULT false)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	dup statusflow.transition;
	bad text;
	role_oids regrole[];
	added integer;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.require(from_statuses IS NOT NULL, 'from_statuses');
	IF pg_catalog.cardinality(from_statuses) = 0 THEN
		RAISE EXCEPTION 'from_statuses must list at least one status'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF coalesce(restore_previous, false) THEN
		IF to_status IS NOT NULL THEN
			RAISE EXCEPTION 'a transition that restores the previous status has no to_status'
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Pass to_status => NULL with restore_previous => true.';
		END IF;
		PERFORM statusflow_internal.check_statuses(workflow, from_statuses, 'a status');
	ELSE
		PERFORM statusflow_internal.check_statuses(workflow, from_statuses || to_status,
										   'a status');
	END IF;
	IF event = '' OR octet_length(event) > 63 THEN
		RAISE EXCEPTION 'invalid event name %', quote_literal(event)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An event name has 1 to 63 bytes.',
				  HINT = 'Pass NULL for a transition without an event.';
	END IF;
	IF to_status = ANY (from_statuses) AND event IS NULL THEN
		RAISE EXCEPTION 'status "%" cannot have a transition to itself without an event',
			to_status
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Staying in the same status is always allowed and records nothing.',
				  HINT = 'Name the event that may leave the row where it is.';
	END IF;
	IF kind IS NULL OR kind NOT IN ('manual', 'automatic') THEN
		RAISE EXCEPTION 'invalid transition kind %',
			coalesce(pg_catalog.quote_literal(kind), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A transition is ''manual'' or ''automatic''.';
	END IF;
	IF max_uses <= 0 THEN
		RAISE EXCEPTION 'max_uses must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	role_oids := statusflow_internal.roles(roles);
	PERFORM statusflow_internal.check_condition_everywhere(w.name, condition);
	SELECT f INTO bad FROM pg_catalog.unnest(from_statuses) f
	JOIN statusflow.status s
	  ON s.workflow OPERATOR(pg_catalog.=) w.name
	 AND s.status OPERATOR(pg_catalog.=) f
	WHERE s.is_terminal LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'status "%" of workflow "%" is terminal', bad, w.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'No transition may leave a terminal status.',
				  HINT = 'Call statusflow.set_status_info() with terminal => false first.';
	END IF;
	SELECT t.* INTO dup FROM statusflow.transition t
	WHERE t.workflow OPERATOR(pg_catalog.=) w.name
	  AND t.from_status OPERATOR(pg_catalog.=) ANY (from_statuses)
	  AND t.to_status IS NOT DISTINCT FROM add_transition.to_status
	  AND t.event IS NOT DISTINCT FROM add_transition.event
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'workflow "%" already has a transition from "%" to %',
			w.name, dup.from_status,
			coalesce(pg_catalog.format('"%s"', dup.to_status), 'the previous status')
			|| CASE WHEN dup.event IS NULL THEN ''
					ELSE pg_catalog.format(' on event "%s"', dup.event) END
			USING ERRCODE = 'duplicate_object';
	END IF;

	-- an event may lead to several statuses only when guards tell them apart
	SELECT t.* INTO dup FROM statusflow.transition t
	LEFT JOIN statusflow.status s
		   ON s.workflow OPERATOR(pg_catalog.=) t.workflow
		  AND s.status OPERATOR(pg_catalog.=) t.to_status
	WHERE t.workflow OPERATOR(pg_catalog.=) w.name
	  AND t.from_status OPERATOR(pg_catalog.=) ANY (from_statuses)
	  AND t.event OPERATOR(pg_catalog.=) add_transition.event
	  AND t.roles IS NULL AND t.condition IS NULL AND s.condition IS NULL
	  AND add_transition.roles IS NULL AND add_transition.condition IS NULL
	  AND NOT EXISTS (SELECT 1 FROM statusflow.status n
					  WHERE n.workflow OPERATOR(pg_catalog.=) w.name
						AND n.status OPERATOR(pg_catalog.=) add_transition.to_status
						AND n.condition IS NOT NULL)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'event "%" already leads from "%" to % in workflow "%"',
			dup.event, dup.from_status,
			coalesce(pg_catalog.format('"%s"', dup.to_status), 'the previous status'),
			w.name
			USING ERRCODE = 'duplicate_object',
				  DETAIL = 'An event leads to several statuses only when roles or conditions tell them apart.';
	END IF;

	INSERT INTO statusflow.transition (workflow, from_status, to_status, event,
									   kind, description, roles, condition,
									   require_reason, max_uses)
	SELECT DISTINCT w.name, f, to_status, event, kind, description, role_oids,
		   condition, coalesce(require_reason, false), max_uses
	FROM pg_catalog.unnest(from_statuses) f;
	GET DIAGNOSTICS added = ROW_COUNT;
	RETURN added;
END
$$;

CREATE FUNCTION statusflow.remove_transition(workflow text,
											 from_statuses text[],
											 to_status text,
											 event text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	removed integer;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.check_statuses(workflow,
									   from_statuses || coalesce(to_status, from_statuses[1]),
									   'a status');
	DELETE FROM statusflow.transition t
	WHERE t.workflow OPERATOR(pg_catalog.=) w.name
	  AND t.from_status OPERATOR(pg_catalog.=) ANY (from_statuses)
	  AND t.to_status IS NOT DISTINCT FROM remove_transition.to_status
	  AND t.event IS NOT DISTINCT FROM remove_transition.event;
	GET DIAGNOSTICS removed = ROW_COUNT;
	IF removed = 0 THEN
		RAISE EXCEPTION 'workflow "%" has no such transition to %', w.name,
			coalesce(pg_catalog.format('"%s"', to_status), 'the previous status')
			|| CASE WHEN event IS NULL THEN ' without an event'
					ELSE pg_catalog.format(' on event "%s"', event) END
			USING ERRCODE = 'undefined_object',
				  HINT = 'The view statusflow.transitions lists the transitions.';
	END IF;
	RETURN removed;
END
$$;

CREATE FUNCTION statusflow.add_status(workflow text,
									  status text,
									  before text DEFAULT NULL,
									  after text DEFAULT NULL,
									  description text DEFAULT NULL,
									  group_name text DEFAULT NULL,
									  initial boolean DEFAULT false,
									  terminal boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.require(status IS NOT NULL, 'status');
	IF status = '' OR pg_catalog.octet_length(status) > 63 THEN
		RAISE EXCEPTION 'invalid status label %',
			coalesce(pg_catalog.quote_literal(status), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A status label has 1 to 63 bytes.';
	END IF;
	IF EXISTS (SELECT 1 FROM statusflow.status s
			   WHERE s.workflow OPERATOR(pg_catalog.=) w.name
				 AND s.status OPERATOR(pg_catalog.=) add_status.status) THEN
		RAISE EXCEPTION 'workflow "%" already has status "%"', w.name, status
			USING ERRCODE = 'duplicate_object';
	END IF;
	IF before IS NOT NULL AND after IS NOT NULL THEN
		RAISE EXCEPTION 'give before or after, not both'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF coalesce(before, after) IS NOT NULL THEN
		PERFORM statusflow_internal.check_statuses(workflow,
										   ARRAY[coalesce(before, after)],
										   'a status');
	END IF;
	EXECUTE pg_catalog.format('ALTER TYPE %s ADD VALUE %L%s', w.status_type,
		status,
		CASE WHEN before IS NOT NULL THEN pg_catalog.format(' BEFORE %L', before)
			 WHEN after IS NOT NULL THEN pg_catalog.format(' AFTER %L', after)
			 ELSE '' END);
	INSERT INTO statusflow.status (workflow, status, description, group_name,
								   is_initial, is_terminal)
	VALUES (w.name, status, description, group_name,
			coalesce(initial, false), coalesce(terminal, false));
END
$$;

CREATE FUNCTION statusflow.set_status_info(workflow text,
										   status text,
										   description text DEFAULT NULL,
										   group_name text DEFAULT NULL,
										   initial boolean DEFAULT NULL,
										   										   terminal boolean DEFAULT NULL,
										   condition text DEFAULT NULL,
										   sticky boolean DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.check_statuses(workflow, ARRAY[status], 'status');
	IF terminal AND EXISTS (SELECT 1 FROM statusflow.transition t
							WHERE t.workflow OPERATOR(pg_catalog.=) w.name
							  AND t.from_status OPERATOR(pg_catalog.=)
								  set_status_info.status) THEN
		RAISE EXCEPTION 'status "%" has outgoing transitions and cannot be terminal',
			status
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Remove its transitions with statusflow.remove_transition() first.';
	END IF;
	IF initial = false AND NOT EXISTS (
		SELECT 1 FROM statusflow.status s
		WHERE s.workflow OPERATOR(pg_catalog.=) w.name AND s.is_initial
		  AND s.status OPERATOR(pg_catalog.<>) set_status_info.status) THEN
		RAISE EXCEPTION 'workflow "%" needs at least one initial status', w.name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF condition <> '' THEN
		PERFORM statusflow_internal.check_condition_everywhere(w.name, condition);
	END IF;
	UPDATE statusflow.status s
	SET condition = CASE WHEN set_status_info.condition IS NULL THEN s.condition
						 ELSE nullif(set_status_info.condition, '') END,
		description = CASE WHEN set_status_info.description IS NULL
						   THEN s.description
						   ELSE nullif(set_status_info.description, '') END,
		group_name = CASE WHEN set_status_info.group_name IS NULL
						  THEN s.group_name
						  ELSE nullif(set_status_info.group_name, '') END,
				is_initial = coalesce(initial, s.is_initial),
		is_terminal = coalesce(terminal, s.is_terminal),
		is_sticky = coalesce(sticky, s.is_sticky)
	WHERE s.workflow OPERATOR(pg_catalog.=) w.name
	  AND s.status OPERATOR(pg_catalog.=) set_status_info.status;
END
$$;

CREATE FUNCTION statusflow.drop_workflow(workflow text,
										 drop_type boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	bound text;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	SELECT pg_catalog.string_agg(pg_catalog.format('%s.%I', b.table_name,
												   b.column_name), ', ')
	INTO bound FROM statusflow.binding b
	WHERE b.workflow OPERATOR(pg_catalog.=) w.name;
	IF bound IS NOT NULL THEN
		RAISE EXCEPTION 'cannot drop workflow "%" because columns are bound to it',
			w.name
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = pg_catalog.format('Bound columns: %s.', bound),
				  HINT = 'Detach them with statusflow.detach() first.';
	END IF;
		DELETE FROM statusflow.quota q WHERE q.workflow OPERATOR(pg_catalog.=) w.name;
	DELETE FROM statusflow.timer t WHERE t.workflow OPERATOR(pg_catalog.=) w.name;
	DELETE FROM statusflow.transition t WHERE t.workflow OPERATOR(pg_catalog.=) w.name;
	DELETE FROM statusflow.status s WHERE s.workflow OPERATOR(pg_catalog.=) w.name;
	DELETE FROM statusflow.workflow x WHERE x.name OPERATOR(pg_catalog.=) w.name;
	IF drop_type THEN
		EXECUTE pg_catalog.format('DROP TYPE %s', w.status_type);
	END IF;
END
$$;

CREATE FUNCTION statusflow.set_quota(workflow text,
									 statuses text[],
									 per_column name,
									 max_entries integer,
									 period text DEFAULT 'month',
									 overflow_status text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	quota_id integer;
	missing regclass;
	missing_from text;
	b integer;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.require(statuses IS NOT NULL, 'statuses');
	PERFORM statusflow_internal.require(per_column IS NOT NULL, 'per_column');
	PERFORM statusflow_internal.require(max_entries IS NOT NULL, 'max_entries');
	IF pg_catalog.cardinality(statuses) = 0 THEN
		RAISE EXCEPTION 'statuses must list at least one status'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM statusflow_internal.check_statuses(workflow,
									   statuses || coalesce(overflow_status, statuses[1]),
									   'a status');
	IF overflow_status OPERATOR(pg_catalog.=) ANY (statuses) THEN
		RAISE EXCEPTION 'the overflow status "%" cannot be one of the counted statuses',
			overflow_status
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_entries < 0 THEN
		RAISE EXCEPTION 'max_entries must not be negative'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF period IS NULL OR period NOT IN ('day', 'week', 'month', 'year') THEN
		RAISE EXCEPTION 'invalid quota period %',
			coalesce(pg_catalog.quote_literal(period), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A period is ''day'', ''week'', ''month'' or ''year''.';
	END IF;
	SELECT x.table_name INTO missing FROM statusflow.binding x
	WHERE x.workflow OPERATOR(pg_catalog.=) w.name
	  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid OPERATOR(pg_catalog.=) x.table_name
						AND a.attname OPERATOR(pg_catalog.=) set_quota.per_column
						AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'column "%" of table % does not exist', per_column, missing
			USING ERRCODE = 'undefined_column',
				  DETAIL = pg_catalog.format('Table %s is bound to workflow "%s".', missing, w.name);
	END IF;
	-- a diverted change must itself be a declared transition
	SELECT t.from_status INTO missing_from FROM statusflow.transition t
	WHERE t.workflow OPERATOR(pg_catalog.=) w.name
	  AND t.to_status OPERATOR(pg_catalog.=) ANY (statuses)
	  AND overflow_status IS NOT NULL
	  AND NOT EXISTS (SELECT 1 FROM statusflow.transition o
					  WHERE o.workflow OPERATOR(pg_catalog.=) w.name
						AND o.from_status OPERATOR(pg_catalog.=) t.from_status
						AND o.to_status OPERATOR(pg_catalog.=) overflow_status)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'status "%" leads to a counted status but not to the overflow status "%"',
			missing_from, overflow_status
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = pg_catalog.format('Add the transition with statusflow.add_transition(%L, ARRAY[%L], %L).',
										   w.name, missing_from, overflow_status);
	END IF;
	INSERT INTO statusflow.quota AS q (workflow, statuses, per_column, max_entries,
									   period, overflow_status)
	VALUES (w.name, statuses, per_column, max_entries, period, overflow_status)
	ON CONFLICT ON CONSTRAINT quota_workflow_statuses_key DO UPDATE
	SET per_column = EXCLUDED.per_column, max_entries = EXCLUDED.max_entries,
		period = EXCLUDED.period, overflow_status = EXCLUDED.overflow_status
	RETURNING q.id INTO quota_id;
	FOR b IN SELECT x.id FROM statusflow.binding x
			 WHERE x.workflow OPERATOR(pg_catalog.=) w.name LOOP
		PERFORM statusflow_internal.sync_binding(b);
	END LOOP;
	RETURN quota_id;
END
$$;

CREATE FUNCTION statusflow.remove_quota(workflow text, statuses text[])
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	b integer;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	DELETE FROM statusflow.quota q
	WHERE q.workflow OPERATOR(pg_catalog.=) w.name
	  AND q.statuses OPERATOR(pg_catalog.=) remove_quota.statuses;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow "%" has no quota on %', w.name, statuses
			USING ERRCODE = 'undefined_object';
	END IF;
	FOR b IN SELECT x.id FROM statusflow.binding x
			 WHERE x.workflow OPERATOR(pg_catalog.=) w.name LOOP
		PERFORM statusflow_internal.sync_binding(b);
	END LOOP;
END
$$;

CREATE FUNCTION statusflow.set_workflow_info(workflow text,
											 description text DEFAULT NULL,
											 monotonic boolean DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	UPDATE statusflow.workflow x
	SET description = CASE WHEN set_workflow_info.description IS NULL THEN x.description
						   ELSE nullif(set_workflow_info.description, '') END,
		monotonic = coalesce(set_workflow_info.monotonic, x.monotonic)
	WHERE x.name OPERATOR(pg_catalog.=) w.name;
END
$$;

CREATE FUNCTION statusflow.add_timer(workflow text,
									 status text,
									 after interval DEFAULT NULL,
									 at_column name DEFAULT NULL,
									 to_status text DEFAULT NULL,
									 event text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	timer_id integer;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.check_statuses(workflow, ARRAY[status], 'status');
	IF after IS NULL AND at_column IS NULL THEN
		RAISE EXCEPTION 'a timer needs after, at_column or both'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'after => ''7 days'' counts from the entry into the status; at_column => ''send_at'' waits for the time in that column.';
	END IF;
	IF after < interval '0' OR after > interval '100 years' THEN
		RAISE EXCEPTION 'after must lie between 0 and 100 years'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF (to_status IS NULL) = (event IS NULL) THEN
		RAISE EXCEPTION 'a timer needs to_status or event, not both'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF to_status IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM statusflow.transition t
		WHERE t.workflow OPERATOR(pg_catalog.=) w.name
		  AND t.from_status OPERATOR(pg_catalog.=) add_timer.status
		  AND t.to_status IS NOT DISTINCT FROM add_timer.to_status) THEN
		RAISE EXCEPTION 'workflow "%" has no transition from "%" to "%"', w.name,
			status, to_status
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Declare it with statusflow.add_transition() first.';
	END IF;
	IF event IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM statusflow.transition t
		WHERE t.workflow OPERATOR(pg_catalog.=) w.name
		  AND t.from_status OPERATOR(pg_catalog.=) add_timer.status
		  AND t.event OPERATOR(pg_catalog.=) add_timer.event) THEN
		RAISE EXCEPTION 'event "%" does not apply to status "%" of workflow "%"',
			event, status, w.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Declare a transition on that event with statusflow.add_transition() first.';
	END IF;
	INSERT INTO statusflow.timer (workflow, status, after, at_column, to_status, event)
	VALUES (w.name, status, after, at_column, to_status, event)
	RETURNING id INTO timer_id;
	PERFORM statusflow_internal.check_fits(w.name, b.table_name)
	FROM statusflow.binding b WHERE b.workflow OPERATOR(pg_catalog.=) w.name;
	PERFORM statusflow_internal.check_timers(w.name, b.table_name, b.entered_at_column),
			statusflow_internal.sync_binding(b.id)
	FROM statusflow.binding b WHERE b.workflow OPERATOR(pg_catalog.=) w.name;
	RETURN timer_id;
END
$$;

CREATE FUNCTION statusflow.remove_timer(timer_id integer)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t statusflow.timer;
BEGIN
	SELECT * INTO t FROM statusflow.timer x WHERE x.id OPERATOR(pg_catalog.=) timer_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'timer % does not exist', timer_id
			USING ERRCODE = 'undefined_object',
				  HINT = 'The view statusflow.timers lists the timers.';
	END IF;
	PERFORM statusflow_internal.check_owner(statusflow_internal.workflow(t.workflow));
	DELETE FROM statusflow.timer x WHERE x.id OPERATOR(pg_catalog.=) timer_id;
END
$$;

/*
 * Introspection functions
 */

CREATE FUNCTION statusflow.allowed_transitions(workflow text, from_status text)
RETURNS TABLE (to_status text, event text, kind text, description text,
			   roles regrole[], condition text, require_reason boolean,
			   max_uses integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_statuses(workflow, ARRAY[from_status], 'status');
	RETURN QUERY
	SELECT t.to_status, t.event, t.kind, t.description, t.roles, t.condition,
		   t.require_reason, t.max_uses
	FROM statusflow.transitions t
	WHERE t.workflow OPERATOR(pg_catalog.=) allowed_transitions.workflow
	  AND t.from_status OPERATOR(pg_catalog.=) allowed_transitions.from_status;
END
$$;

CREATE FUNCTION statusflow.check_workflow(workflow text)
RETURNS TABLE (problem text, status text, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.workflow(workflow);
	RETURN QUERY
	WITH RECURSIVE reachable(status) AS (
		SELECT s.status FROM statusflow.status s
		WHERE s.workflow OPERATOR(pg_catalog.=) check_workflow.workflow
		  AND s.is_initial
		UNION
		SELECT t.to_status FROM statusflow.transition t
		JOIN reachable r ON r.status OPERATOR(pg_catalog.=) t.from_status
		WHERE t.workflow OPERATOR(pg_catalog.=) check_workflow.workflow
		  AND t.to_status IS NOT NULL
	)
	SELECT p.problem, p.status, p.detail FROM (
		SELECT 'unreachable'::text AS problem, s.status, s.rank,
			   'No path from an initial status leads here.'::text AS detail
		FROM statusflow.statuses s
		WHERE s.workflow OPERATOR(pg_catalog.=) check_workflow.workflow
		  AND s.status NOT IN (SELECT r.status FROM reachable r)
		UNION ALL
		SELECT 'dead end', s.status, s.rank,
			   'No transition leaves this status, yet it is not terminal.'
		FROM statusflow.statuses s
		WHERE s.workflow OPERATOR(pg_catalog.=) check_workflow.workflow
		  AND NOT s.is_terminal
		  AND NOT EXISTS (SELECT 1 FROM statusflow.transition t
						  WHERE t.workflow OPERATOR(pg_catalog.=) s.workflow
							AND t.from_status OPERATOR(pg_catalog.=) s.status)
	) p
	ORDER BY p.rank, p.problem;
END
$$;

CREATE FUNCTION statusflow.can_transition(workflow text, from_status text,
										  to_status text)
RETURNS boolean LANGUAGE c STABLE STRICT
AS 'MODULE_PATHNAME', 'sf_can_transition';
/*
 * Bindings: attach, detach, and the triggers they install
 */

/*
 * AFTER INSERT / AFTER UPDATE row trigger of a binding: checks the change
 * against the workflow and appends the history row.
 */
CREATE FUNCTION statusflow_internal.enforce()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_enforce';

/* Statement trigger of a history table: refuses UPDATE, DELETE, TRUNCATE. */
CREATE FUNCTION statusflow_internal.history_append_only()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_history_append_only';

/*
 * BEFORE INSERT / BEFORE UPDATE row trigger, installed only for bindings that
 * need to change the row before it is written: quotas (diverting a change
 * to an overflow status) and entered-at columns.
 */
CREATE FUNCTION statusflow_internal.prepare()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_prepare';

/*
 * Parse a row condition; when a table is given, check that it is a boolean
 * over the table's columns, resolved with search_path = pg_catalog, pg_temp
 * and calling only functions its owner trusts (see src/guards.c).  The
 * caller must own the table, or own the workflow bound to it.
 */
CREATE FUNCTION statusflow_internal.check_condition(condition text,
													workflow text,
													table_name regclass)
RETURNS void LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_check_condition';

/* Does a binding need the BEFORE trigger (see statusflow_internal.prepare())? */
CREATE FUNCTION statusflow_internal.needs_prepare(b statusflow.binding)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT b.entered_at_column IS NOT NULL
		OR EXISTS (SELECT 1 FROM statusflow.quota q WHERE q.workflow = b.workflow)
$$;

/*
 * The triggers a binding needs on its table, as (name, CREATE TRIGGER).
 * Every name starts with statusflow_<binding id>_.
 */
CREATE FUNCTION statusflow_internal.binding_triggers(b statusflow.binding)
RETURNS TABLE (trigger_name text, definition text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n, d FROM (VALUES
		('insert', 'AFTER INSERT', NULL, 'enforce', true),
		('update', 'AFTER UPDATE', 'changed', 'enforce', true),
		-- an UPDATE that moves a row between partitions: see src/trigger.c
		('move', 'AFTER DELETE', NULL, 'enforce',
		 (SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = b.table_name)),
		('prepare_insert', 'BEFORE INSERT', NULL, 'prepare',
		 statusflow_internal.needs_prepare(b)),
		('prepare_update', 'BEFORE UPDATE', 'changed', 'prepare',
		 statusflow_internal.needs_prepare(b))
	) AS t(suffix, timing, cond, func, wanted),
	LATERAL (SELECT 'statusflow_' || b.id || '_' || t.suffix AS n) name,
	LATERAL (SELECT format('CREATE TRIGGER %I %s ON %s FOR EACH ROW %s'
						   'EXECUTE FUNCTION statusflow_internal.%s(%L)',
						   name.n, t.timing, b.table_name,
						   CASE WHEN t.cond IS NULL THEN ''
								ELSE format('WHEN (OLD.%1$I IS DISTINCT FROM NEW.%1$I) ',
											b.column_name) END,
						   t.func, b.id) AS d) def
	WHERE t.wanted
$$;

/* The statusflow triggers of a binding present on its table. */
CREATE FUNCTION statusflow_internal.trigger_names(table_name regclass, binding integer)
RETURNS TABLE (tgname name)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT g.tgname FROM pg_trigger g
	WHERE g.tgrelid = table_name AND g.tgparentid = 0 AND NOT g.tgisinternal
	  AND left(g.tgname, length('statusflow_' || binding || '_'))
		  = 'statusflow_' || binding || '_'
$$;

/*
 * Bring the objects a binding needs in line with its catalog rows: its
 * triggers (creating the missing ones, dropping the ones it no longer
 * needs), the append-only guard of its history table, and the (status,
 * time) indexes its timers need.  Run by statusflow_internal.sync_binding()
 * as the extension's owner, since the trigger functions are not executable
 * by PUBLIC and a workflow's owner adding a quota or a timer need not own
 * the bound tables; it creates only statusflow's own triggers and plain
 * column indexes, which run no user code.
 */
CREATE FUNCTION statusflow_internal.sync_binding_objects(binding integer)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	t record;
	col name;
BEGIN
	SELECT * INTO b FROM statusflow.binding x WHERE x.id = sync_binding_objects.binding;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	FOR t IN SELECT * FROM statusflow_internal.binding_triggers(b) w
			 WHERE NOT EXISTS (SELECT 1 FROM pg_trigger g
							   WHERE g.tgrelid = b.table_name
								 AND g.tgname = w.trigger_name) LOOP
		EXECUTE t.definition;
	END LOOP;
	FOR t IN SELECT g.tgname FROM statusflow_internal.trigger_names(b.table_name, b.id) g
			 WHERE g.tgname NOT IN (SELECT w.trigger_name
									FROM statusflow_internal.binding_triggers(b) w) LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, b.table_name);
	END LOOP;
	IF NOT EXISTS (SELECT 1 FROM pg_trigger
				   WHERE tgrelid = b.history_table
					 AND tgname = 'statusflow_append_only') THEN
		EXECUTE format('CREATE TRIGGER statusflow_append_only '
					   'BEFORE UPDATE OR DELETE OR TRUNCATE ON %s '
					   'FOR EACH STATEMENT '
					   'EXECUTE FUNCTION statusflow_internal.history_append_only()',
					   b.history_table);
	END IF;
	-- (status, time) indexes, unless an index already starts with them
	FOR col IN SELECT DISTINCT coalesce(x.at_column, b.entered_at_column)
			   FROM statusflow.timer x
			   WHERE x.workflow = b.workflow
				 AND coalesce(x.at_column, b.entered_at_column) IS NOT NULL
			   UNION
			   SELECT b.entered_at_column WHERE b.entered_at_column IS NOT NULL LOOP
		IF EXISTS (SELECT 1 FROM pg_attribute a
				   WHERE a.attrelid = b.table_name AND a.attname = col
					 AND a.attnum > 0 AND NOT a.attisdropped)
		   AND NOT EXISTS (
			SELECT 1 FROM pg_index i
			WHERE i.indrelid = b.table_name AND i.indnkeyatts >= 2
			  AND i.indkey[0] = (SELECT attnum FROM pg_attribute
								 WHERE attrelid = b.table_name AND attname = b.column_name)
			  AND i.indkey[1] = (SELECT attnum FROM pg_attribute
								 WHERE attrelid = b.table_name AND attname = col)) THEN
			EXECUTE format('CREATE INDEX ON %s (%I, %I)', b.table_name, b.column_name, col);
		END IF;
	END LOOP;
END
$$;

/*
 * Bring a binding's objects in line with the catalog (see
 * sync_binding_objects()), as the extension's owner.  The caller must own
 * the bound table or the binding's workflow.
 */
CREATE FUNCTION statusflow_internal.sync_binding(binding integer)
RETURNS void LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_sync_binding';

CREATE FUNCTION statusflow.set_notify(table_name regclass, channel text,
									  column_name name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
BEGIN
	b := statusflow_internal.binding(table_name, column_name);
	IF NOT statusflow_internal.owns_relation(b.table_name) THEN
		RAISE EXCEPTION 'must be owner of table %', b.table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF pg_catalog.octet_length(channel) > 63 OR channel = '' THEN
		RAISE EXCEPTION 'invalid channel name %', pg_catalog.quote_literal(channel)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A channel name has 1 to 63 bytes; NULL stops the notifications.';
	END IF;
	UPDATE statusflow.binding x SET notify_channel = channel
	WHERE x.id OPERATOR(pg_catalog.=) b.id;
END
$$;


/* The binding of a table, by column when the table has several. */
CREATE FUNCTION statusflow_internal.binding(table_name regclass, column_name name)
RETURNS statusflow.binding LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	n integer;
BEGIN
	PERFORM statusflow_internal.require(table_name IS NOT NULL, 'table_name');
	SELECT count(*) INTO n FROM statusflow.binding x
	WHERE x.table_name = binding.table_name
	  AND (binding.column_name IS NULL OR x.column_name = binding.column_name);
	IF n = 0 THEN
		RAISE EXCEPTION 'table % has no statusflow binding%', table_name,
			CASE WHEN column_name IS NULL THEN ''
				 ELSE format(' on column %I', column_name) END
			USING ERRCODE = 'undefined_object',
				  HINT = 'Attach a workflow with statusflow.attach().';
	ELSIF n > 1 THEN
		RAISE EXCEPTION 'table % has several bound columns', table_name
			USING ERRCODE = 'ambiguous_parameter',
				  HINT = 'Name the column with column_name.';
	END IF;
	SELECT * INTO b FROM statusflow.binding x
	WHERE x.table_name = binding.table_name
	  AND (binding.column_name IS NULL OR x.column_name = binding.column_name);
	RETURN b;
END
$$;

/*
 * Raise unless the workflow's row conditions can be evaluated on the table
 * and its quotas' columns exist there.
 */
CREATE FUNCTION statusflow_internal.check_fits(workflow text, table_name regclass)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond text;
	missing name;
BEGIN
	FOR cond IN SELECT t.condition FROM statusflow.transition t
				WHERE t.workflow = check_fits.workflow AND t.condition IS NOT NULL
				UNION
				SELECT s.condition FROM statusflow.status s
				WHERE s.workflow = check_fits.workflow AND s.condition IS NOT NULL LOOP
		PERFORM statusflow_internal.check_condition(cond, workflow, table_name);
	END LOOP;
	SELECT q.per_column INTO missing FROM statusflow.quota q
	WHERE q.workflow = check_fits.workflow
	  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
					  WHERE a.attrelid = table_name AND a.attname = q.per_column
						AND a.attnum > 0 AND NOT a.attisdropped)
	LIMIT 1;
		IF FOUND THEN
		RAISE EXCEPTION 'table % has no column "%"', table_name, missing
			USING ERRCODE = 'undefined_column',
				  DETAIL = format('A quota of workflow "%s" counts entries per value of "%s".',
								  workflow, missing);
	END IF;
	SELECT t.at_column INTO missing FROM statusflow.timer t
	WHERE t.workflow = check_fits.workflow AND t.at_column IS NOT NULL
	  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
					  WHERE a.attrelid = table_name AND a.attname = t.at_column
						AND a.attnum > 0 AND NOT a.attisdropped
						AND a.atttypid = 'timestamptz'::regtype)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'table % has no column "%" of type timestamp with time zone',
			table_name, missing
			USING ERRCODE = 'undefined_column',
				  DETAIL = format('A timer of workflow "%s" waits for the time in "%s".',
								  workflow, missing);
	END IF;
END
$$;

/*
 * Raise unless a binding can run the timers of its workflow: a timer that
 * counts the time spent in a status needs the binding's entered-at column.
 */
CREATE FUNCTION statusflow_internal.check_timers(workflow text, table_name regclass,
										 entered_at_column name)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF entered_at_column IS NULL AND EXISTS (
		SELECT 1 FROM statusflow.timer t
		WHERE t.workflow = check_timers.workflow AND t.at_column IS NULL) THEN
		RAISE EXCEPTION 'table % needs an entered-at column for the timers of workflow "%"',
			table_name, workflow
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A timer counts the time spent in a status from when the row entered it.',
				  HINT = 'Add a timestamptz column and pass it as entered_at_column to statusflow.attach().';
	END IF;
END
$$;

CREATE FUNCTION statusflow.attach(table_name regclass,
								  column_name name,
								  workflow text,
								  history_table text DEFAULT NULL,
								  backfill boolean DEFAULT true,
								  entered_at_column name DEFAULT NULL)
RETURNS regclass LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	rel pg_catalog.pg_class;
	col pg_catalog.pg_attribute;
	keys name[];
	key_defs text;
	clash name;
	hist_name text;
	hist regclass;
	binding_id integer;
	nulls bigint;
	reserved CONSTANT name[] := ARRAY['history_id', 'from_status', 'to_status',
		'event', 'actor', 'db_role', 'reason', 'metadata', 'occurred_at',
		'recorded_at', 'txid', 'applied', 'event_id']::name[];
BEGIN
	PERFORM statusflow_internal.require(table_name IS NOT NULL, 'table_name');
	PERFORM statusflow_internal.require(column_name IS NOT NULL, 'column_name');
	w := statusflow_internal.workflow(workflow);
	SELECT * INTO rel FROM pg_catalog.pg_class c
	WHERE c.oid OPERATOR(pg_catalog.=) table_name;
	IF rel.relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '% is not a table', table_name
			USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT statusflow_internal.owns_relation(table_name) THEN
		RAISE EXCEPTION 'must be owner of table %', table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO col FROM pg_catalog.pg_attribute a
	WHERE a.attrelid OPERATOR(pg_catalog.=) table_name
	  AND a.attname OPERATOR(pg_catalog.=) column_name
	  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of table % does not exist', column_name,
			table_name
			USING ERRCODE = 'undefined_column';
	END IF;
	IF col.atttypid OPERATOR(pg_catalog.<>) w.status_type::oid THEN
		RAISE EXCEPTION 'column "%" of table % has type %, not the type of workflow "%"',
			column_name, table_name, pg_catalog.format_type(col.atttypid, NULL),
			w.name
			USING ERRCODE = 'datatype_mismatch',
				  DETAIL = pg_catalog.format('Workflow "%s" uses type %s.',
											 w.name, w.status_type),
				  HINT = pg_catalog.format('Convert it with ALTER TABLE %s ALTER COLUMN %I TYPE %s USING %I::text::%s.',
										   table_name, column_name,
										   w.status_type, column_name,
										   w.status_type);
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(table_name) t
			   JOIN pg_catalog.pg_partitioned_table p
				 ON p.partrelid OPERATOR(pg_catalog.=) t.relid
			   JOIN pg_catalog.pg_attribute a
				 ON a.attrelid OPERATOR(pg_catalog.=) t.relid
				AND a.attname OPERATOR(pg_catalog.=) column_name
			   WHERE a.attnum OPERATOR(pg_catalog.=) ANY (p.partattrs::int2[])) THEN
		RAISE EXCEPTION 'column "%" of table % is part of a partition key', column_name,
			table_name
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'A status change would move the row to another partition, which PostgreSQL reports to triggers as a DELETE and an INSERT.',
				  HINT = 'Partition the table by another column.';
	END IF;
	IF EXISTS (SELECT 1 FROM statusflow.binding b
			   WHERE b.column_name OPERATOR(pg_catalog.=) attach.column_name
				 AND (b.table_name OPERATOR(pg_catalog.=) attach.table_name
					  OR b.table_name::oid IN
						 (SELECT pg_catalog.pg_partition_ancestors(attach.table_name)))) THEN
		RAISE EXCEPTION 'column "%" of table % is already bound to a workflow',
			column_name, table_name
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Detach it with statusflow.detach() first.';
	END IF;

	IF entered_at_column IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM pg_catalog.pg_attribute a
		WHERE a.attrelid OPERATOR(pg_catalog.=) table_name
		  AND a.attname OPERATOR(pg_catalog.=) entered_at_column
		  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		  AND a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.timestamptz'::pg_catalog.regtype) THEN
		RAISE EXCEPTION 'table % has no column "%" of type timestamp with time zone',
			table_name, entered_at_column
			USING ERRCODE = 'undefined_column',
				  HINT = 'The entered-at column records when each row entered its status.';
	END IF;
		PERFORM statusflow_internal.check_fits(w.name, table_name);
	PERFORM statusflow_internal.check_timers(w.name, table_name, entered_at_column);


	SELECT pg_catalog.array_agg(a.attname ORDER BY k.ord),
		   pg_catalog.string_agg(pg_catalog.format('%I %s NOT NULL', a.attname,
								 pg_catalog.format_type(a.atttypid, a.atttypmod))
								 || CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) 0
										  AND a.attcollation OPERATOR(pg_catalog.<>) t.typcollation
									THEN pg_catalog.format(' COLLATE %s',
										 (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
										  FROM pg_catalog.pg_collation co
										  JOIN pg_catalog.pg_namespace n
											ON n.oid OPERATOR(pg_catalog.=) co.collnamespace
										  WHERE co.oid OPERATOR(pg_catalog.=) a.attcollation))
									ELSE '' END,
								 ', ' ORDER BY k.ord)
	INTO keys, key_defs
	FROM pg_catalog.pg_index i
	CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
	JOIN pg_catalog.pg_attribute a
	  ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
	 AND a.attnum OPERATOR(pg_catalog.=) k.attnum
	JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid
	WHERE i.indrelid OPERATOR(pg_catalog.=) table_name AND i.indisprimary
	  AND a.attname OPERATOR(pg_catalog.<>) column_name;
	IF keys IS NULL THEN
		RAISE EXCEPTION 'table % has no primary key besides column "%"', table_name,
			column_name
			USING ERRCODE = 'invalid_table_definition',
				  DETAIL = 'History rows are keyed by the primary key of the table, without the status column.',
				  HINT = 'Add a primary key, then attach again.';
	END IF;
	SELECT k INTO clash FROM pg_catalog.unnest(keys) k
	WHERE k OPERATOR(pg_catalog.=) ANY (reserved) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'primary key column "%" of table % has the name of a history column',
			clash, table_name
			USING ERRCODE = 'duplicate_column',
				  DETAIL = pg_catalog.format('History tables have the columns %s.',
											 pg_catalog.array_to_string(reserved, ', '));
	END IF;

	hist_name := statusflow_internal.qualified_name(
		coalesce(history_table,
				 pg_catalog.format('%I', pg_catalog.left(rel.relname || '_' || column_name, 55)
									   || '_history')),
		(SELECT n.nspname FROM pg_catalog.pg_namespace n
		 WHERE n.oid OPERATOR(pg_catalog.=) rel.relnamespace));
	IF pg_catalog.to_regclass(hist_name) IS NOT NULL THEN
		RAISE EXCEPTION 'relation % already exists', hist_name
			USING ERRCODE = 'duplicate_table',
				  HINT = 'Choose another name with history_table.';
	END IF;

	EXECUTE pg_catalog.format(
		'CREATE TABLE %s ('
		'history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, '
		'%s, '
		'from_status %s, '
		'to_status %s%s, '
		'event text, '
		'actor text, '
		'db_role text NOT NULL DEFAULT CURRENT_USER, '
		'reason text, '
		'metadata jsonb, '
		'occurred_at timestamptz NOT NULL DEFAULT pg_catalog.now(), '
		'recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(), '
		'txid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(), '
		'applied boolean NOT NULL DEFAULT true, '
		'event_id text)',
		hist_name, key_defs, w.status_type, w.status_type,
		CASE WHEN w.allow_null THEN '' ELSE ' NOT NULL' END);
	hist := pg_catalog.to_regclass(hist_name);
	EXECUTE pg_catalog.format('CREATE INDEX ON %s (%s, history_id)', hist,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ')
		 FROM pg_catalog.unnest(keys) k));
	EXECUTE pg_catalog.format('CREATE UNIQUE INDEX ON %s (event_id) '
							  'WHERE event_id IS NOT NULL', hist);
	-- reports over a time window: history is appended in time order, so a
	-- BRIN index finds a window's rows for next to nothing per insert
	EXECUTE pg_catalog.format('CREATE INDEX ON %s USING brin (occurred_at)', hist);
	EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', hist,
		pg_catalog.pg_get_userbyid(rel.relowner));
	EXECUTE pg_catalog.format('COMMENT ON TABLE %s IS %L', hist,
		pg_catalog.format('statusflow history of %s.%I (workflow %s)',
						  table_name, column_name, w.name));

	IF NOT w.allow_null THEN
		EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s WHERE %I IS NULL',
								  table_name, column_name) INTO nulls;
		IF nulls > 0 THEN
			RAISE EXCEPTION 'column "%" of table % has rows with a null status',
				column_name, table_name
				USING ERRCODE = 'not_null_violation',
					  DETAIL = pg_catalog.format('Workflow "%s" does not allow a null status; rows with one: %s.',
												 w.name, nulls);
		END IF;
	END IF;

		IF entered_at_column IS NOT NULL THEN
				EXECUTE pg_catalog.format('UPDATE %s SET %I = pg_catalog.now() WHERE %I IS NULL',
								  table_name, entered_at_column, entered_at_column);
	END IF;
	INSERT INTO statusflow.binding (table_name, column_name, workflow,
									history_table, key_columns, entered_at_column)
	VALUES (table_name, column_name, w.name, hist, keys, entered_at_column)
	RETURNING id INTO binding_id;
	PERFORM statusflow_internal.sync_binding(binding_id);


	IF backfill THEN
		EXECUTE pg_catalog.format(
			'INSERT INTO %s (%s, to_status, event, reason) '
			'SELECT %s, %I, ''attach'', ''status when the workflow was attached'' '
			'FROM %s WHERE %I IS NOT NULL',
			hist,
			(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') FROM pg_catalog.unnest(keys) k),
			(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') FROM pg_catalog.unnest(keys) k),
			column_name, table_name, column_name);
	END IF;
	RETURN hist;
END
$$;

CREATE FUNCTION statusflow.detach(table_name regclass,
								  column_name name DEFAULT NULL)
RETURNS regclass LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	trigger_name name;
BEGIN
	b := statusflow_internal.binding(table_name, column_name);
	IF NOT statusflow_internal.owns_relation(b.table_name) THEN
		RAISE EXCEPTION 'must be owner of table %', b.table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	FOR trigger_name IN
		SELECT g.tgname FROM statusflow_internal.trigger_names(b.table_name, b.id) g
	LOOP
		EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', trigger_name,
								  b.table_name);
	END LOOP;
	DELETE FROM statusflow.binding x WHERE x.id OPERATOR(pg_catalog.=) b.id;
	RETURN b.history_table;
END
$$;

/*
 * Keep the catalog in step with DROP: a dropped table, bound column or enum
 * type takes its bindings along (their history stays; the binding's other
 * triggers go), a dropped enum type takes its workflow along, and a history
 * table cannot be dropped while its binding lives.  SECURITY DEFINER because
 * ownership of a dropped table can no longer be checked by the policies; it
 * only deletes catalog rows of objects that are gone, and statusflow's own
 * triggers on their tables.
 */
CREATE FUNCTION statusflow_internal.on_sql_drop()
RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	gone statusflow.binding;
	trigger_name name;
BEGIN
	FOR gone IN
		SELECT b.* FROM statusflow.binding b
		WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = b.table_name)
		   OR NOT EXISTS (SELECT 1 FROM statusflow.workflow w JOIN pg_type y
							ON y.oid = w.status_type
						  WHERE w.name = b.workflow)
		   OR EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() o
					  WHERE o.classid = 'pg_class'::regclass
						AND o.objid = b.table_name
						AND o.object_type = 'table column'
						AND o.address_names[3] = b.column_name) LOOP
		IF EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = gone.table_name) THEN
			FOR trigger_name IN SELECT g.tgname
								FROM statusflow_internal.trigger_names(gone.table_name, gone.id) g LOOP
				EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, gone.table_name);
			END LOOP;
		END IF;
		DELETE FROM statusflow.binding b WHERE b.id = gone.id;
	END LOOP;
	SELECT * INTO gone FROM statusflow.binding b
	WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = b.history_table)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot drop the history table of %.%', gone.table_name,
			quote_ident(gone.column_name)
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Detach the column with statusflow.detach() first.';
	END IF;
	-- statuses, transitions, quotas and timers follow by foreign key
	DELETE FROM statusflow.workflow w
	WHERE NOT EXISTS (SELECT 1 FROM pg_type y WHERE y.oid = w.status_type);
END
$$;

CREATE EVENT TRIGGER statusflow_sql_drop ON sql_drop
	EXECUTE FUNCTION statusflow_internal.on_sql_drop();
/*
 * Transition API (src/transition.c) and history pruning (src/history.c)
 */

CREATE FUNCTION statusflow.transition(table_name regclass, key anyelement,
									  to_status text,
									  reason text DEFAULT NULL,
									  metadata jsonb DEFAULT NULL,
									  actor text DEFAULT NULL,
									  occurred_at timestamptz DEFAULT NULL,
									  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition';

CREATE FUNCTION statusflow.fire(table_name regclass, key anyelement,
								event text,
								reason text DEFAULT NULL,
								metadata jsonb DEFAULT NULL,
								actor text DEFAULT NULL,
								occurred_at timestamptz DEFAULT NULL,
								column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fire';

-- The same with the key as text, so that an untyped literal ('42', or
-- '(1,abc)' for a composite key) resolves.
CREATE FUNCTION statusflow.transition(table_name regclass, key text,
									  to_status text,
									  reason text DEFAULT NULL,
									  metadata jsonb DEFAULT NULL,
									  actor text DEFAULT NULL,
									  occurred_at timestamptz DEFAULT NULL,
									  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition';

CREATE FUNCTION statusflow.fire(table_name regclass, key text,
								event text,
								reason text DEFAULT NULL,
								metadata jsonb DEFAULT NULL,
								actor text DEFAULT NULL,
								occurred_at timestamptz DEFAULT NULL,
								column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fire';

CREATE FUNCTION statusflow.transition_many(table_name regclass, keys anyarray,
										   to_status text,
										   reason text DEFAULT NULL,
										   metadata jsonb DEFAULT NULL,
										   actor text DEFAULT NULL,
										   occurred_at timestamptz DEFAULT NULL,
										   column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition_many';

CREATE FUNCTION statusflow.fire_many(table_name regclass, keys anyarray,
									 event text,
									 reason text DEFAULT NULL,
									 metadata jsonb DEFAULT NULL,
									 actor text DEFAULT NULL,
									 occurred_at timestamptz DEFAULT NULL,
									 column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fire_many';

/* How many times a row entered a status ("opened at least once"). */
CREATE FUNCTION statusflow.entries(table_name regclass, key anyelement,
								   status text, column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_entries';

CREATE FUNCTION statusflow.entries(table_name regclass, key text,
								   status text, column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_entries';

CREATE FUNCTION statusflow.prune_history(table_name regclass,
										 older_than timestamptz,
										 keep_latest boolean DEFAULT true,
										 column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_prune_history';
/*
 * Presets: the five seed systems as ready workflows.
 *
 * statusflow.install_preset() creates a preset's workflow with the ordinary
 * definition API, as the caller, who then owns it and may adapt it.  Status
 * meanings are written in our own words after the seed pages; docs/presets.md
 * lists every choice made where a page is silent.
 */

/* The presets, their seed page, and the options install_preset() takes. */
CREATE FUNCTION statusflow.presets()
RETURNS TABLE (preset text, title text, seed text, options text,
			   description text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	VALUES
	('review_request', 'Review request', '000_d3cf30be709d8f3d.txt',
	 'channel_column (channel), account_column (account_id), monthly_limit (100)',
	 'Invitations to review a business, sent by SMS or email, with channel-only statuses, a monthly limit per account, happy and unhappy answers.'),
	('establishment_invitation', 'Establishment invitation', '001_fdf066295581bf56.txt',
	 'regenerate_limit (1)',
	 'B2B onboarding invitations to establishments, with the export''s exact labels and the interface''s coarse statuses as groups.'),
	('beta_prelaunch', 'Beta campaign, pre-launch', '002_43b062ba0c51da41.txt',
	 'double_opt_in (true)',
	 'A pre-launch waiting list: the page''s transition table, idle users, suspension on a hard bounce and unsuspension to the previous status.'),
	('beta_general', 'Beta campaign, general', '002_43b062ba0c51da41.txt',
	 'double_opt_in (true)',
	 'A general referral campaign: the page''s shorter transition table, with suspension and unsuspension.'),
	('sms_outreach', 'SMS outreach list', '003_69b179d6913b4961.txt',
	 'interaction_column (interaction)',
	 'Sales outreach by SMS: automatic statuses that follow the direction of the last message, manual statuses logged with an activity, call-only outcomes.'),
	('loyalty_connection', 'Loyalty connection', '004_4f48363088db7e56.txt',
	 'business_role, customer_role (both required)',
	 'Business-to-customer loyalty connections, with what the business and the customer may each do.')
$$;

/*
 * Set the group, description and condition of statuses from a JSON array of
 * {"status", "group", "description", "condition"} objects.
 */
CREATE FUNCTION statusflow_internal.describe_statuses(workflow text, info jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s jsonb;
BEGIN
	FOR s IN SELECT jsonb_array_elements(info) LOOP
		PERFORM statusflow.set_status_info(workflow, s->>'status',
										   description => s->>'description',
										   group_name => s->>'group',
										   condition => s->>'condition');
	END LOOP;
END
$$;

/* An option of a preset: its value, else the default. */
CREATE FUNCTION statusflow_internal.option(options jsonb, name text, fallback text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(options->>name, fallback)
$$;

/* Seed 000: review requests by SMS or email. */
CREATE FUNCTION statusflow_internal.preset_review_request(wf text, type_name text,
												  options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	channel text := quote_ident(statusflow_internal.option(options, 'channel_column', 'channel'));
	sms text := channel || ' = ''sms''';
	email text := channel || ' = ''email''';
	-- {"monthly_limit": null} installs no quota
	monthly_limit integer := CASE WHEN options ? 'monthly_limit'
								  THEN (options->>'monthly_limit')::integer ELSE 100 END;
BEGIN
	PERFORM statusflow.create_workflow(wf,
		ARRAY['scheduled', 'limit_reached', 'sms_sent', 'clicked_link', 'email_sent',
			  'opened', 'clicked_happy', 'promoter_retargeting', 'clicked_review_site',
			  'clicked_unhappy', 'provided_feedback', 'sms_failed', 'email_failed'],
		initial => ARRAY['scheduled'],
		terminal => ARRAY['clicked_review_site', 'provided_feedback'],
		type_name => type_name,
		description => 'Review requests sent to customers by SMS or email (seed 000).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'scheduled', 'group', 'scheduled',
			'description', 'Waits for its send time; shown as "Sending in X hours".'),
		jsonb_build_object('status', 'limit_reached', 'group', 'not sent',
			'description', 'Not sent: the account used up its monthly invitation limit.'),
		jsonb_build_object('status', 'sms_sent', 'group', 'sent', 'condition', sms,
			'description', 'The SMS reached the contact''s phone.'),
		jsonb_build_object('status', 'clicked_link', 'group', 'engaged', 'condition', sms,
			'description', 'The contact opened the link of the SMS but has not said yet whether they were happy. SMS only.'),
		jsonb_build_object('status', 'email_sent', 'group', 'sent', 'condition', email,
			'description', 'The email reached the inbox and has not been opened yet.'),
		jsonb_build_object('status', 'opened', 'group', 'engaged', 'condition', email,
			'description', 'The contact opened the email but has not said yet whether they were happy. Email only.'),
		jsonb_build_object('status', 'clicked_happy', 'group', 'happy',
			'description', 'The contact said they were happy and has not gone on to leave a review yet.'),
		jsonb_build_object('status', 'promoter_retargeting', 'group', 'happy',
			'description', 'A happy contact who had not reviewed got a promoter retargeting email.'),
		jsonb_build_object('status', 'clicked_review_site', 'group', 'happy',
			'description', 'A happy contact went on to the review site; they may still not have posted.'),
		jsonb_build_object('status', 'clicked_unhappy', 'group', 'unhappy',
			'description', 'The contact said they were unhappy without saying why yet: a good moment to call.'),
		jsonb_build_object('status', 'provided_feedback', 'group', 'unhappy',
			'description', 'An unhappy contact explained what went wrong on the private feedback page: reach out soon.'),
		jsonb_build_object('status', 'sms_failed', 'group', 'failed', 'condition', sms,
			'description', 'The SMS could not leave the gateway (connection or system problem). If it keeps happening, contact support.'),
		jsonb_build_object('status', 'email_failed', 'group', 'failed', 'condition', email,
			'description', 'The email could not be sent (badly formed address, connection or system problem). If it keeps happening, contact support.')));

	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'sms_sent', event => 'send');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'email_sent', event => 'send');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'sms_failed', event => 'fail', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'email_failed', event => 'fail', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_failed', 'email_failed'], 'scheduled', event => 'retry');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'limit_reached', event => 'limit', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['limit_reached'], 'scheduled', event => 'reschedule');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_sent'], 'clicked_link', event => 'click', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['email_sent'], 'opened', event => 'open', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_sent', 'clicked_link', 'email_sent', 'opened'],
									  'clicked_happy', event => 'happy', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_sent', 'clicked_link', 'email_sent', 'opened'],
									  'clicked_unhappy', event => 'unhappy', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['clicked_happy'], 'promoter_retargeting',
									  event => 'retarget', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['clicked_happy', 'promoter_retargeting'],
									  'clicked_review_site', event => 'review', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['clicked_unhappy'], 'provided_feedback',
									  event => 'feedback', kind => 'automatic');
	IF monthly_limit IS NOT NULL THEN
		PERFORM statusflow.set_quota(wf, ARRAY['sms_sent', 'email_sent'],
									 statusflow_internal.option(options, 'account_column', 'account_id'),
									 monthly_limit, 'month', overflow_status => 'limit_reached');
	END IF;
END
$$;

/* Seed 001: invitations of establishments, with the export's labels. */
CREATE FUNCTION statusflow_internal.preset_establishment_invitation(wf text, type_name text,
															options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow.create_workflow(wf,
		ARRAY['invited', 'invitationSent', 'invitationBounce', 'invitationReceived',
			  'invitationOpened', 'invitationViewed', 'invitationReviewed', 'objected',
			  'accepted'],
		initial => ARRAY['invited'],
		terminal => ARRAY['accepted'],
		type_name => type_name,
		description => 'Invitations of establishments to register (seed 001).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'invited', 'group', 'not invited',
			'description', 'Imported into the store manager; no invitation sent yet.'),
		jsonb_build_object('status', 'invitationSent', 'group', 'invited',
			'description', 'The platform sent the invitation.'),
		jsonb_build_object('status', 'invitationBounce', 'group', 'invited',
			'description', 'The establishment''s email address is invalid.'),
		jsonb_build_object('status', 'invitationReceived', 'group', 'invited',
			'description', 'The invitation reached the recipient''s mailbox.'),
		jsonb_build_object('status', 'invitationOpened', 'group', 'invited',
			'description', 'The invitation email was opened at least once.'),
		jsonb_build_object('status', 'invitationViewed', 'group', 'invited',
			'description', 'The user reached the confirmation page, from the email or from the login page with their reference or code.'),
		jsonb_build_object('status', 'invitationReviewed', 'group', 'invited',
			'description', 'The user confirmed being the intended recipient.'),
		jsonb_build_object('status', 'objected', 'group', 'declined',
			'description', 'The user declined the invitation. Not necessarily the end: try another channel.'),
		jsonb_build_object('status', 'accepted', 'group', 'accepted',
			'description', 'The user accepted; the establishment is activated.')));

	PERFORM statusflow.add_transition(wf, ARRAY['invited'], 'invitationSent', event => 'send');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationSent'], 'invitationBounce',
									  event => 'bounce', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationSent'], 'invitationReceived',
									  event => 'deliver', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationReceived'], 'invitationOpened',
									  event => 'open', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationSent', 'invitationBounce',
												'invitationReceived', 'invitationOpened'],
									  'invitationViewed', event => 'view', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationViewed'], 'invitationReviewed',
									  event => 'confirm');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationReviewed'], 'accepted', event => 'accept');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationViewed', 'invitationReviewed'],
									  'objected', event => 'decline');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationBounce'], 'invitationSent',
									  event => 'resend', require_reason => true,
									  description => 'Reinvite after changing the recipient''s email; say so in the reason.');
	PERFORM statusflow.add_transition(wf, ARRAY['objected'], 'invitationSent',
									  event => 'regenerate', require_reason => true,
									  max_uses => statusflow_internal.option(options, 'regenerate_limit', '1')::integer,
									  description => 'Regenerate the invitation of an establishment that declined. Use sparingly.');
END
$$;

/*
 * Seed 002: the statuses shared by both beta campaigns, the suspension on a
 * hard bounce and the unsuspension back to the status held before.
 */
CREATE FUNCTION statusflow_internal.preset_beta(wf text, type_name text, options jsonb,
										statuses text[], suspendable text[],
										description text)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	double_opt_in boolean := statusflow_internal.option(options, 'double_opt_in', 'true')::boolean;
BEGIN
	PERFORM statusflow.create_workflow(wf, statuses,
		initial => CASE WHEN double_opt_in THEN ARRAY['imported', 'unconfirmed']
						ELSE ARRAY['imported', 'applied'] END,
		type_name => type_name, description => description);
	-- the campaigns share the meanings of the statuses they have in common
	PERFORM statusflow_internal.describe_statuses(wf, (
		SELECT jsonb_agg(d) FROM jsonb_array_elements(jsonb_build_array(
		jsonb_build_object('status', 'imported', 'group', 'prospect',
			'description', 'You imported this user.'),
		jsonb_build_object('status', 'unconfirmed', 'group', 'prospect',
			'description', 'Signed up but has not clicked the opt-in confirmation link yet. Exists only with double opt-in.'),
		jsonb_build_object('status', 'applied', 'group', 'waiting list',
			'description', 'Applied for access (confirmed, with double opt-in): on the waiting list.'),
		jsonb_build_object('status', 'rejected', 'group', 'excluded',
			'description', 'You rejected the application.'),
		jsonb_build_object('status', 'invited', 'group', 'participant',
			'description', 'Approved and invited to participate.'),
		jsonb_build_object('status', 'active', 'group', 'participant',
			'description', 'Actively participating.'),
		jsonb_build_object('status', 'idle', 'group', 'participant',
			'description', 'Has not checked in within the idle days you set.'),
		jsonb_build_object('status', 'suspended', 'group', 'excluded',
			'description', 'Email and referral-link sharing are disabled and shares and referrals do not count; automatic on a hard bounce.'))) d
		WHERE d->>'status' = ANY (statuses)));

	PERFORM statusflow.add_transition(wf, ARRAY['imported'], 'applied', event => 'apply');
	PERFORM statusflow.add_transition(wf, ARRAY['unconfirmed'], 'applied', event => 'confirm',
									  kind => 'automatic');
	PERFORM statusflow.add_transition(wf, suspendable, 'suspended', event => 'suspend');
	PERFORM statusflow.add_transition(wf, suspendable, 'suspended', event => 'hard_bounce',
									  kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['suspended'], NULL, event => 'unsuspend',
									  restore_previous => true);
END
$$;

/* Seed 002, pre-launch campaigns: the page's first table. */
CREATE FUNCTION statusflow_internal.preset_beta_prelaunch(wf text, type_name text,
												  options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.preset_beta(wf, type_name, options,
		ARRAY['imported', 'unconfirmed', 'applied', 'rejected', 'invited', 'active',
			  'idle', 'suspended'],
		ARRAY['imported', 'unconfirmed', 'applied', 'invited', 'rejected', 'active'],
		'A pre-launch beta waiting list (seed 002, pre-launch campaigns).');
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'applied', 'rejected'], 'invited',
									  event => 'invite');
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'applied', 'invited'], 'rejected',
									  event => 'reject');
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'applied', 'invited', 'rejected'],
									  'active', event => 'activate');
	PERFORM statusflow.add_transition(wf, ARRAY['active'], 'idle', event => 'go_idle',
									  kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['idle'], 'active', event => 'check_in',
									  kind => 'automatic');
END
$$;

/* Seed 002, general campaigns: the page's second table. */
CREATE FUNCTION statusflow_internal.preset_beta_general(wf text, type_name text,
												options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.preset_beta(wf, type_name, options,
		ARRAY['imported', 'unconfirmed', 'applied', 'suspended'],
		ARRAY['imported', 'unconfirmed', 'applied'],
		'A general referral campaign (seed 002, general campaigns).');
END
$$;

/* Seed 003: SMS outreach lists. */
CREATE FUNCTION statusflow_internal.preset_sms_outreach(wf text, type_name text,
												options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	automatic text[] := ARRAY['new_account', 'no_sms_reply', 'sms_in_progress'];
	manual text[] := ARRAY['sale_in_progress', 'satisfied', 'no_sale', 'sold',
						   'no_answer', 'left_voicemail', 'wrong_number'];
	call_only text[] := ARRAY['no_answer', 'left_voicemail', 'wrong_number'];
	call text := quote_ident(statusflow_internal.option(options, 'interaction_column', 'interaction'))
				 || ' = ''call''';
	outcome text;
BEGIN
	PERFORM statusflow.create_workflow(wf, automatic || manual,
		initial => ARRAY['new_account'], type_name => type_name,
		description => 'Sales outreach by SMS (seed 003).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'new_account', 'group', 'automatic',
			'description', 'Just added to a smart list, such as a new lead. Who are my new accounts?'),
		jsonb_build_object('status', 'no_sms_reply', 'group', 'automatic',
			'description', 'You sent the last text message, replied to or not. Who has not answered my last message? A gentle nudge may restart the conversation.'),
		jsonb_build_object('status', 'sms_in_progress', 'group', 'automatic',
			'description', 'The customer answered your last text message: your turn to reply.'),
		jsonb_build_object('status', 'sale_in_progress', 'group', 'manual',
			'description', 'A sale is being completed. Which customers have we not closed yet?'),
		jsonb_build_object('status', 'satisfied', 'group', 'manual',
			'description', 'No sale: the customer is satisfied with their current product or service.'),
		jsonb_build_object('status', 'no_sale', 'group', 'manual',
			'description', 'The conversation did not lead to a sale.'),
		jsonb_build_object('status', 'sold', 'group', 'manual',
			'description', 'A completed sale: a purchase, an activation or a renewal.'),
		jsonb_build_object('status', 'no_answer', 'group', 'manual', 'condition', call,
			'description', 'The customer did not answer your call. Calls only.'),
		jsonb_build_object('status', 'left_voicemail', 'group', 'manual', 'condition', call,
			'description', 'The customer did not answer and you left a voicemail. Calls only.'),
		jsonb_build_object('status', 'wrong_number', 'group', 'manual', 'condition', call,
			'description', 'The number you called is not the intended recipient''s. Calls only.')));

	-- automatic statuses follow the direction of the last message
	PERFORM statusflow.add_transition(wf, ARRAY['new_account', 'sms_in_progress'], 'no_sms_reply',
									  event => 'message_out', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['no_sms_reply'], 'no_sms_reply',
									  event => 'message_out', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['new_account', 'no_sms_reply'], 'sms_in_progress',
									  event => 'message_in', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_in_progress'], 'sms_in_progress',
									  event => 'message_in', kind => 'automatic');
	-- manual statuses: logging an activity sets one, from any status
	FOREACH outcome IN ARRAY manual LOOP
		PERFORM statusflow.add_transition(wf,
			array(SELECT s FROM unnest(automatic || manual) s WHERE s <> outcome),
			outcome, event => 'log_' || outcome);
	END LOOP;
END
$$;

/* Seed 004: loyalty connections, with who may do what. */
CREATE FUNCTION statusflow_internal.preset_loyalty_connection(wf text, type_name text,
													  options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	business text[] := ARRAY[options->>'business_role'];
	customer text[] := ARRAY[options->>'customer_role'];
BEGIN
	IF business[1] IS NULL OR customer[1] IS NULL THEN
		RAISE EXCEPTION 'preset "loyalty_connection" needs the options business_role and customer_role'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass options => ''{"business_role": "...", "customer_role": "..."}'' naming existing roles.';
	END IF;
	PERFORM statusflow.create_workflow(wf, ARRAY['imported', 'pending', 'active', 'inactive'],
		initial => ARRAY['imported'], type_name => type_name,
		description => 'Loyalty-program connections between a business and its customers (seed 004).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'imported', 'group', 'not connected',
			'description', 'Known to the business; not invited to the loyalty program yet.'),
		jsonb_build_object('status', 'pending', 'group', 'invited',
			'description', 'Invited to connect and has not accepted yet. You may invite again.'),
		jsonb_build_object('status', 'active', 'group', 'connected',
			'description', 'Connected: earns and redeems rewards and receives communications. The goal.'),
		jsonb_build_object('status', 'inactive', 'group', 'disconnected',
			'description', 'Disconnected by the customer opting out or by the business; receives nothing.')));

	-- the business sends invitations and may only disconnect and re-invite
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'pending'], 'pending',
									  event => 'invite', roles => business);
	PERFORM statusflow.add_transition(wf, ARRAY['active'], 'inactive',
									  event => 'disconnect', roles => business);
	PERFORM statusflow.add_transition(wf, ARRAY['inactive'], 'pending',
									  event => 'reinvite', roles => business);
	-- the customer connects or opts out
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'pending', 'inactive'], 'active',
									  event => 'connect', roles => customer);
	PERFORM statusflow.add_transition(wf, ARRAY['pending', 'active'], 'inactive',
									  event => 'opt_out', roles => customer);
END
$$;

/*
 * Install a preset as a workflow (named like the preset unless told
 * otherwise) whose enum type goes to schema (the current one unless told
 * otherwise).  Returns the enum type.
 */
CREATE FUNCTION statusflow.install_preset(preset text,
										  schema name DEFAULT pg_catalog.current_schema(),
										  workflow_name text DEFAULT NULL,
										  options jsonb DEFAULT '{}')
RETURNS regtype LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	wf text := coalesce(workflow_name, preset);
	type_name text;
BEGIN
	PERFORM statusflow_internal.require(preset IS NOT NULL, 'preset');
	PERFORM statusflow_internal.require(schema IS NOT NULL, 'schema');
	IF NOT EXISTS (SELECT 1 FROM statusflow.presets() p
				   WHERE p.preset OPERATOR(pg_catalog.=) install_preset.preset) THEN
		RAISE EXCEPTION 'preset "%" does not exist', preset
			USING ERRCODE = 'undefined_object',
				  HINT = format('Presets: %s.',
								(SELECT pg_catalog.string_agg(p.preset, ', ')
								 FROM statusflow.presets() p));
	END IF;
	IF options IS NULL OR pg_catalog.jsonb_typeof(options) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	type_name := pg_catalog.format('%I.%I', schema, wf || '_status');
	EXECUTE pg_catalog.format('SELECT statusflow_internal.%I($1, $2, $3)', 'preset_' || preset)
		USING wf, type_name, options;
	RETURN pg_catalog.to_regtype(type_name);
END
$$;
/*
 * Automation (src/automation.c): timers applied by tick(), provider events
 * ingested by ingest().
 */

CREATE FUNCTION statusflow.tick(max_rows integer DEFAULT 1000)
RETURNS TABLE (table_name regclass, key jsonb, from_status text,
			   to_status text, event text, outcome text)
LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_tick';

CREATE FUNCTION statusflow.ingest(table_name regclass, key anyelement,
								  status_or_event text,
								  occurred_at timestamptz DEFAULT NULL,
								  event_id text DEFAULT NULL,
								  payload jsonb DEFAULT NULL,
								  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_ingest';

CREATE FUNCTION statusflow.ingest(table_name regclass, key text,
								  status_or_event text,
								  occurred_at timestamptz DEFAULT NULL,
								  event_id text DEFAULT NULL,
								  payload jsonb DEFAULT NULL,
								  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_ingest';
/*
 * Reports
 *
 * Set-returning functions over the history of a binding: counts by status
 * and by group, funnels and their cohorts, time in status, the transition
 * matrix, follow-up lists, past statuses, timelines, queue positions, series
 * of entries, and a dashboard readable in psql.  docs/reports.md says what
 * each one counts.
 *
 * They run with the caller's rights: a report needs SELECT on the table and
 * on its history, and shows only the entities the caller can see in the
 * table under its row-level security (see history_sql()).  Each one builds
 * a query (every name quoted, every value a parameter or a quoted literal,
 * resolved with search_path = pg_catalog, pg_temp) that reads the history
 * at most once, or through its indexes, and follows statuses through
 * applied rows only.  In
 * the generated queries $1 is the start of the time window (since) and $2
 * its end (until), half-open on occurred_at; other parameters follow.
 */

/*
 * Building blocks of the generated queries
 */

/* Raise unless [since, until) is a window that can hold something. */
CREATE FUNCTION statusflow_internal.check_window(since timestamptz, until timestamptz)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF since >= until THEN
		RAISE EXCEPTION 'the time window is empty: since (%) is not before until (%)',
			since, until
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

/* " AND expr >= $1 AND expr < $2", each part only when that bound is set. */
CREATE FUNCTION statusflow_internal.window_sql(expr text, since timestamptz,
									   until timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT concat(CASE WHEN since IS NOT NULL THEN format(' AND %s >= $1', expr) END,
				  CASE WHEN until IS NOT NULL THEN format(' AND %s < $2', expr) END)
$$;

/*
 * The history of a binding as the caller may read it, for FROM: the history
 * table itself, or, when the bound table's row-level security applies to
 * the caller, only the rows of the entities it can see in the table.
 * Tables without row-level security pay nothing for it.
 */
CREATE FUNCTION statusflow_internal.history_sql(b statusflow.binding)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN row_security_active(b.table_name)
		THEN format('(SELECT sf_h.* FROM %s sf_h WHERE EXISTS (SELECT FROM %s sf_t WHERE %s))',
					b.history_table, b.table_name,
					statusflow_internal.each_key(b, 'sf_t.%1$I = sf_h.%1$I', ' AND '))
		ELSE b.history_table::text END
$$;

/*
 * One piece of SQL per key column of the binding, joined by sep: template is
 * a format() string whose %1$I is the column's name and %1$L its literal.
 */
CREATE FUNCTION statusflow_internal.each_key(b statusflow.binding, template text,
									 sep text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT string_agg(format(template, k), sep ORDER BY n)
	FROM unnest(b.key_columns) WITH ORDINALITY AS u(k, n)
$$;

/* The key of the row alias as a jsonb object, such as {"id": 42}. */
CREATE FUNCTION statusflow_internal.key_json_sql(b statusflow.binding, alias text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('pg_catalog.jsonb_build_object(%s)',
				  statusflow_internal.each_key(b, '%1$L, ' || alias || '.%1$I', ', '))
$$;

/*
 * "alias.k = <k of the key object $param>" for every key column: the key
 * object is read with the history's row type, so each value gets the type
 * of its column.
 */
CREATE FUNCTION statusflow_internal.key_match_sql(b statusflow.binding, alias text,
										  param text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.each_key(b,
		format('%s.%%1$I = (pg_catalog.jsonb_populate_record(NULL::%s, %s)).%%1$I',
			   alias, b.history_table, param),
		' AND ')
$$;

/*
 * The condition of a filter on rows of the bound table under alias: filter
 * is a JSON object of column = value equalities (a JSON null means IS NULL).
 * Each value is a literal cast to its column's type, so the planner sees it;
 * the cast is tried here first, to report a bad value by its column.
 */
CREATE FUNCTION statusflow_internal.filter_sql(b statusflow.binding, filter jsonb,
									   alias text)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f record;
	conds text[] := '{}';
BEGIN
	IF filter IS NULL THEN
		RETURN 'true';
	END IF;
	IF jsonb_typeof(filter) <> 'object' THEN
		RAISE EXCEPTION 'filter must be a JSON object of column values'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"account_id": 42}.';
	END IF;
	FOR f IN SELECT e.key, e.value #>> '{}' AS value,
					format_type(a.atttypid, NULL) AS type
			 FROM jsonb_each(filter) e
			 LEFT JOIN pg_attribute a
				ON a.attrelid = b.table_name AND a.attname = e.key
			   AND a.attnum > 0 AND NOT a.attisdropped
			 ORDER BY e.key LOOP
		IF f.type IS NULL THEN
			RAISE EXCEPTION 'column "%" of table % does not exist', f.key,
				b.table_name
				USING ERRCODE = 'undefined_column',
					  HINT = 'A filter names columns of the bound table.';
		ELSIF f.value IS NULL THEN
			conds := conds || format('%s.%I IS NULL', alias, f.key);
		ELSE
			BEGIN
				EXECUTE format('SELECT %L::%s', f.value, f.type);
			EXCEPTION WHEN data_exception THEN
				RAISE EXCEPTION 'filter value % does not fit column "%" of type %',
					quote_literal(f.value), f.key, f.type
					USING ERRCODE = SQLSTATE, DETAIL = SQLERRM;
			END;
			conds := conds || format('%s.%I = %L::%s', alias, f.key, f.value, f.type);
		END IF;
	END LOOP;
	RETURN coalesce(array_to_string(nullif(conds, '{}'), ' AND '), 'true');
END
$$;

/*
 * " AND EXISTS (...)": the filter on history rows (alias h), through the
 * table's row of the same key; empty without a filter.
 */
CREATE FUNCTION statusflow_internal.history_filter_sql(b statusflow.binding,
											   filter jsonb)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN filter IS NOT NULL THEN
		format(' AND EXISTS (SELECT 1 FROM %s t WHERE %s AND %s)', b.table_name,
			   statusflow_internal.each_key(b, 't.%1$I = h.%1$I', ' AND '),
			   statusflow_internal.filter_sql(b, filter, 't'))
	END
$$;

/*
 * The statuses a name stands for in a workflow: the status of that name,
 * else every status of the group of that name (in rank order).
 */
CREATE FUNCTION statusflow_internal.statuses_named(workflow text, name text, what text)
RETURNS text[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found text[];
BEGIN
	PERFORM statusflow_internal.require(name IS NOT NULL, what);
	SELECT coalesce(array_agg(s.status ORDER BY s.rank)
						FILTER (WHERE s.status = statuses_named.name),
					array_agg(s.status ORDER BY s.rank)
						FILTER (WHERE s.group_name = statuses_named.name))
	INTO found
	FROM statusflow.statuses s WHERE s.workflow = statuses_named.workflow;
	IF found IS NULL THEN
		RAISE EXCEPTION '% "%" is neither a status nor a group of workflow "%"',
			what, name, workflow
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = (SELECT format('Its statuses are: %s.%s',
										string_agg(format('"%s"', s.status), ', ' ORDER BY s.rank),
										' Its groups are: ' || string_agg(DISTINCT format('"%s"', s.group_name), ', ')
											FILTER (WHERE s.group_name IS NOT NULL) || '.')
						  FROM statusflow.statuses s
						  WHERE s.workflow = statuses_named.workflow);
	END IF;
	RETURN found;
END
$$;

/* Raise unless period is one that series and cohorts are cut into. */
CREATE FUNCTION statusflow_internal.check_period(period text)
RETURNS void LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF period IS NULL OR period NOT IN ('day', 'week', 'month') THEN
		RAISE EXCEPTION 'period must be day, week or month, not %',
			coalesce(quote_literal(period), 'null')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

/*
 * The applied history rows before until, for the one-pass folds of
 * src/reports.c: the key columns, history_id, to_status, occurred_at, then
 * extra (a column list starting with a comma, or empty).
 */
CREATE FUNCTION statusflow_internal.rows_sql(b statusflow.binding, until timestamptz,
									 filter jsonb, extra text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('SELECT %s, h.history_id, h.to_status, h.occurred_at%s '
				  'FROM %s h WHERE h.applied%s%s',
				  statusflow_internal.each_key(b, 'h.%1$I', ', '), extra, statusflow_internal.history_sql(b),
				  statusflow_internal.window_sql('h.occurred_at', NULL, until),
				  statusflow_internal.history_filter_sql(b, filter))
$$;

/*
 * One row per entity of the query's rows (see _rows_sql(), with an int4 mask
 * last): its earliest occurred_at, the to_status (pg_enum OID) of its latest
 * row, and the OR of its masks.  One pass, a hash table of the entities.
 */
CREATE FUNCTION statusflow_internal.entities(query text, nkeys integer,
									 since timestamptz, until timestamptz)
RETURNS TABLE (first_at timestamptz, last_status oid, mask integer)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_entities';

/*
 * The stays of the entities of the query's rows (see _rows_sql(), ordered
 * by history_id), per status (pg_enum OID), cut by the window [since, until):
 * how many, how many still open, mean, median and 90th percentile seconds.
 */
CREATE FUNCTION statusflow_internal.stay_stats(query text, nkeys integer,
									   since timestamptz, until timestamptz,
									   include_open boolean)
RETURNS TABLE (status oid, stays bigint, open_stays bigint,
			   mean double precision, median double precision,
			   p90 double precision)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_stay_stats';

/* Applied history rows in the window, counted by (from_status, to_status). */
CREATE FUNCTION statusflow_internal.moves_sql(b statusflow.binding, since timestamptz,
									  until timestamptz, filter jsonb)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('SELECT h.from_status, h.to_status, pg_catalog.count(*) AS n '
				  'FROM %s h WHERE h.applied%s%s GROUP BY 1, 2',
				  statusflow_internal.history_sql(b),
				  statusflow_internal.window_sql('h.occurred_at', since, until),
				  statusflow_internal.history_filter_sql(b, filter))
$$;

/*
 * The rows of the table in one of the statuses, with their key as jsonb, the
 * entry into their current stay (the latest applied history row) and the
 * latest history row of any kind (the last event).  One backward scan of the
 * (key, history_id) index per row finds the latest row, which is the entry
 * too when it was applied; a second scan looks further only when it was not.
 * Rows without applied history are left out.
 */
CREATE FUNCTION statusflow_internal.current_sql(b statusflow.binding, statuses text[],
										filter jsonb)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('SELECT %s AS key, t.%I::text AS status, e.occurred_at AS entered_at, '
				  'e.history_id AS entry_id, l.event AS last_event, '
				  'l.occurred_at AS last_event_at, l.actor AS last_actor '
				  'FROM %s t '
				  'CROSS JOIN LATERAL (SELECT h.event, h.occurred_at, h.actor, h.applied, '
				  'h.history_id FROM %s h WHERE %s ORDER BY h.history_id DESC LIMIT 1) l '
				  'CROSS JOIN LATERAL (SELECT l.occurred_at, l.history_id WHERE l.applied '
				  'UNION ALL (SELECT h.occurred_at, h.history_id FROM %s h '
				  'WHERE NOT l.applied AND %s AND h.applied '
				  'ORDER BY h.history_id DESC LIMIT 1)) e '
				  'WHERE t.%I IN (%s) AND %s',
				  statusflow_internal.key_json_sql(b, 't'), b.column_name, b.table_name,
				  b.history_table, statusflow_internal.each_key(b, 'h.%1$I = t.%1$I', ' AND '),
				  b.history_table, statusflow_internal.each_key(b, 'h.%1$I = t.%1$I', ' AND '),
				  b.column_name,
				  (SELECT string_agg(quote_literal(s), ', ') FROM unnest(statuses) s),
				  statusflow_internal.filter_sql(b, filter, 't'))
$$;

/*
 * A key argument as the jsonb object of its key columns, read as
 * transition() reads it (src/transition.c).
 */
CREATE FUNCTION statusflow_internal.key_object(binding integer, key anyelement)
RETURNS jsonb LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_key_object';

/* A JSON array of ranks as an integer array, to compare chains. */
CREATE FUNCTION statusflow_internal.ranks(chain jsonb)
RETURNS integer[] LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT array_agg(r::integer ORDER BY n)
	FROM jsonb_array_elements_text(chain) WITH ORDINALITY AS e(r, n)
$$;

/*
 * The default steps of a funnel: the main path of the workflow, a chain of
 * declared transitions that only move to higher ranks, from an initial
 * status.  The best chain ends in a terminal status (an outcome), then is
 * the longest, then has the lowest ranks (earlier in the enum).  Computed
 * from the highest rank down: the best chain from a status is the status
 * followed by the best chain of one of its forward successors.
 */
CREATE FUNCTION statusflow_internal.main_path(workflow text)
RETURNS text[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	best jsonb := '{}';		-- status -> its best chain, a JSON array of ranks
	terminal integer[];
	s record;
	chain integer[];
BEGIN
	SELECT coalesce(array_agg(x.rank) FILTER (WHERE x.is_terminal), '{}')
	INTO terminal
	FROM statusflow.statuses x WHERE x.workflow = main_path.workflow;
	FOR s IN SELECT x.status, x.rank FROM statusflow.statuses x
			 WHERE x.workflow = main_path.workflow ORDER BY x.rank DESC LOOP
		chain := s.rank || coalesce(
			(SELECT c.ranks
			 FROM (SELECT statusflow_internal.ranks(best -> t.to_status) AS ranks
				   FROM statusflow.transitions t
				   JOIN statusflow.statuses d
					 ON d.workflow = t.workflow AND d.status = t.to_status
				   WHERE t.workflow = main_path.workflow
					 AND t.from_status = s.status AND d.rank > s.rank) c
			 ORDER BY c.ranks[cardinality(c.ranks)] = ANY (terminal) DESC,
					  cardinality(c.ranks) DESC, c.ranks
			 LIMIT 1),
			'{}');
		best := best || jsonb_build_object(s.status, to_jsonb(chain));
	END LOOP;
	SELECT c.ranks INTO chain
	FROM (SELECT statusflow_internal.ranks(best -> i.status) AS ranks
		  FROM statusflow.statuses i
		  WHERE i.workflow = main_path.workflow AND i.is_initial) c
	ORDER BY c.ranks[cardinality(c.ranks)] = ANY (terminal) DESC,
			 cardinality(c.ranks) DESC, c.ranks
	LIMIT 1;
	RETURN (SELECT array_agg(x.status ORDER BY x.rank)
			FROM statusflow.statuses x
			WHERE x.workflow = main_path.workflow AND x.rank = ANY (chain));
END
$$;

/*
 * Counts by status and by group
 */

/*
 * Entities by unit (status, or group when by_group) at the end of the
 * window, and the moves into each unit during the window.  At the end of the
 * window means until; without until it means now, and the counts are those
 * of the table itself rather than of its history.  Moves are counted when
 * the window has a start (since; '-infinity' for all of history), so that
 * today's counts read the table alone.  A status without a group is a group
 * of its own.
 */
CREATE FUNCTION statusflow_internal.counts(b statusflow.binding, since timestamptz,
								   until timestamptz, filter jsonb,
								   by_group boolean)
RETURNS TABLE (unit text, group_name text, entities bigint, share numeric,
			   entries bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	snapshot text;
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	IF until IS NULL THEN
		snapshot := format('SELECT t.%I AS status, pg_catalog.count(*) AS n '
						   'FROM %s t WHERE %s GROUP BY 1',
						   b.column_name, b.table_name,
						   statusflow_internal.filter_sql(b, filter, 't'));
	ELSE
		snapshot := format('SELECT pe.enumlabel AS status, pg_catalog.count(*) AS n '
						   'FROM statusflow_internal.entities(%L, %s, $1, $2) e '
						   'JOIN pg_catalog.pg_enum pe ON pe.oid = e.last_status '
						   'GROUP BY 1',
						   statusflow_internal.rows_sql(b, until, filter, ''),
						   cardinality(b.key_columns));
	END IF;
	RETURN QUERY EXECUTE format($q$
		WITH units AS (
			SELECT s.status, s.rank, s.group_name,
				   CASE WHEN $3 THEN coalesce(s.group_name, s.status)
						ELSE s.status END AS unit
			FROM statusflow.statuses s WHERE s.workflow = $4),
		snapshot AS (SELECT x.status::text AS status, x.n FROM (%s) x),
		moves AS (SELECT m.from_status::text AS from_status,
						 m.to_status::text AS to_status, m.n FROM (%s) m),
		entries AS (
			SELECT tu.unit, sum(m.n) AS n
			FROM moves m
			JOIN units tu ON tu.status = m.to_status
			LEFT JOIN units fu ON fu.status = m.from_status
			WHERE fu.unit IS DISTINCT FROM tu.unit
			GROUP BY tu.unit)
		SELECT u.unit,
			   CASE WHEN $3 THEN u.unit ELSE min(u.group_name) END,
			   coalesce(sum(sn.n), 0)::bigint,
			   round(coalesce(sum(sn.n), 0) / nullif(sum(sum(sn.n)) OVER (), 0), 4),
			   CASE WHEN $1 IS NOT NULL THEN coalesce(min(e.n), 0)::bigint END
		FROM units u
		LEFT JOIN snapshot sn ON sn.status = u.status
		LEFT JOIN entries e ON e.unit = u.unit
		GROUP BY u.unit
		ORDER BY min(u.rank)$q$,
		snapshot,
		CASE WHEN since IS NOT NULL THEN statusflow_internal.moves_sql(b, since, until, filter)
			 ELSE format('SELECT h.from_status, h.to_status, 0::bigint AS n '
						 'FROM %s h WHERE false', b.history_table) END)
	USING since, until, by_group, b.workflow;
END
$$;

/*
 * Entities in each status of the workflow (zero included) at the end of the
 * window, their share, and how many entered the status during the window
 * (null when the window has no start).
 */
CREATE FUNCTION statusflow.status_counts(table_name regclass,
										 since timestamptz DEFAULT NULL,
										 until timestamptz DEFAULT NULL,
										 filter jsonb DEFAULT NULL,
										 column_name name DEFAULT NULL)
RETURNS TABLE (status text, group_name text, entities bigint, share numeric,
			   entries bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.unit, c.group_name, c.entities, c.share, c.entries
	FROM statusflow_internal.counts(statusflow_internal.binding(table_name, column_name),
							since, until, filter, false) WITH ORDINALITY c
	ORDER BY c.ordinality
$$;

/* The same by group: entries are moves into the group from outside it. */
CREATE FUNCTION statusflow.group_counts(table_name regclass,
										since timestamptz DEFAULT NULL,
										until timestamptz DEFAULT NULL,
										filter jsonb DEFAULT NULL,
										column_name name DEFAULT NULL)
RETURNS TABLE (group_name text, entities bigint, share numeric, entries bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.unit, c.entities, c.share, c.entries
	FROM statusflow_internal.counts(statusflow_internal.binding(table_name, column_name),
							since, until, filter, true) WITH ORDINALITY c
	ORDER BY c.ordinality
$$;

/*
 * Funnels
 */

/*
 * The funnel of the entities that entered the workflow in the window (their
 * earliest applied history row), by cohort when period is set.  One pass
 * over the history folds each entity into a bit per step it reached,
 * whenever it reached it; a later step counts for the earlier ones when
 * later_implies_earlier.
 */
CREATE FUNCTION statusflow_internal.funnel(b statusflow.binding, steps text[],
								   period text, since timestamptz,
								   until timestamptz, filter jsonb,
								   later_implies_earlier boolean)
RETURNS TABLE (cohort date, cohort_size bigint, step_no integer, step text,
			   entities bigint, step_conversion numeric, step_base text,
			   overall_conversion numeric, overall_base text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bits text;
	twice text;
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.require(later_implies_earlier IS NOT NULL,
								'later_implies_earlier');
	steps := coalesce(steps, statusflow_internal.main_path(b.workflow));
	IF coalesce(cardinality(steps), 0) NOT BETWEEN 1 AND 31 THEN
		RAISE EXCEPTION 'a funnel has from 1 to 31 steps, not %',
			coalesce(cardinality(steps), 0)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	WITH m AS (
		SELECT s.n::integer AS step_no, st AS status
		FROM unnest(steps) WITH ORDINALITY AS s(name, n),
			 unnest(statusflow_internal.statuses_named(b.workflow, s.name, 'step')) AS st)
	SELECT string_agg(format('WHEN %L THEN %s', m.status, 1 << (m.step_no - 1)), ' '),
		   (SELECT d.status FROM m d GROUP BY d.status HAVING count(*) > 1
			ORDER BY 1 LIMIT 1)
	INTO bits, twice
	FROM m;
	IF twice IS NOT NULL THEN
		RAISE EXCEPTION 'status "%" belongs to several steps of the funnel', twice
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Each status counts for one step at most.';
	END IF;
	RETURN QUERY EXECUTE format($q$
		WITH entity AS (
			SELECT %s AS cohort, e.mask
			FROM statusflow_internal.entities(%L, %s, NULL, NULL) e
			WHERE true%s),
		masks AS (SELECT e.cohort, e.mask, pg_catalog.count(*) AS n
				  FROM entity e GROUP BY 1, 2),
		sizes AS (SELECT min(m.cohort) AS cohort, coalesce(sum(m.n), 0) AS size
				  FROM masks m %s),
		reached AS (
			SELECT z.cohort, z.size, s.n::integer AS step_no, s.name AS step,
				   (SELECT coalesce(sum(m.n), 0) FROM masks m
					WHERE m.cohort IS NOT DISTINCT FROM z.cohort
					  AND CASE WHEN $3 THEN (m.mask >> (s.n::integer - 1)) <> 0
							   ELSE ((m.mask >> (s.n::integer - 1)) & 1) = 1 END)
				   AS entities
			FROM sizes z CROSS JOIN unnest($4::text[]) WITH ORDINALITY AS s(name, n))
		SELECT r.cohort, r.size::bigint, r.step_no, r.step, r.entities::bigint,
			   round(r.entities / nullif(lag(r.entities) OVER w, 0), 4),
			   lag(r.step) OVER w,
			   round(r.entities / nullif(first_value(r.entities) OVER w, 0), 4),
			   first_value(r.step) OVER w
		FROM reached r
		WINDOW w AS (PARTITION BY r.cohort ORDER BY r.step_no)
		ORDER BY r.cohort, r.step_no$q$,
		CASE WHEN period IS NULL THEN 'NULL::date'
			 ELSE format('pg_catalog.date_trunc(%L, e.first_at)::date', period) END,
		statusflow_internal.rows_sql(b, NULL, filter,
							 format(', CASE h.to_status %s ELSE 0 END', bits)),
		cardinality(b.key_columns),
		statusflow_internal.window_sql('e.first_at', since, until),
		CASE WHEN period IS NOT NULL THEN 'GROUP BY m.cohort' END)
	USING since, until, later_implies_earlier, steps;
END
$$;

/*
 * How many entities reached each step, the conversion from the step before
 * (step_base) and from the first step (overall_base).
 */
CREATE FUNCTION statusflow.funnel(table_name regclass,
								  steps text[] DEFAULT NULL,
								  since timestamptz DEFAULT NULL,
								  until timestamptz DEFAULT NULL,
								  filter jsonb DEFAULT NULL,
								  later_implies_earlier boolean DEFAULT true,
								  column_name name DEFAULT NULL)
RETURNS TABLE (step_no integer, step text, entities bigint,
			   step_conversion numeric, step_base text,
			   overall_conversion numeric, overall_base text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT f.step_no, f.step, f.entities, f.step_conversion, f.step_base,
		   f.overall_conversion, f.overall_base
	FROM statusflow_internal.funnel(statusflow_internal.binding(table_name, column_name), steps,
							NULL, since, until, filter, later_implies_earlier) f
	ORDER BY f.step_no
$$;

/* The funnel of each day, week or month of entry into the workflow. */
CREATE FUNCTION statusflow.funnel_cohorts(table_name regclass,
										  steps text[] DEFAULT NULL,
										  period text DEFAULT 'week',
										  since timestamptz DEFAULT NULL,
										  until timestamptz DEFAULT NULL,
										  filter jsonb DEFAULT NULL,
										  later_implies_earlier boolean DEFAULT true,
										  column_name name DEFAULT NULL)
RETURNS TABLE (cohort date, cohort_size bigint, step_no integer, step text,
			   entities bigint, step_conversion numeric, step_base text,
			   overall_conversion numeric, overall_base text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.check_period(period);
	RETURN QUERY
	SELECT f.* FROM statusflow_internal.funnel(statusflow_internal.binding(table_name, column_name),
									   steps, period, since, until, filter,
									   later_implies_earlier) f
	ORDER BY f.cohort, f.step_no;
END
$$;

/*
 * Time in status and transitions
 */

/* Seconds as an interval of days and hours, as people read durations. */
CREATE FUNCTION statusflow_internal.seconds(secs double precision)
RETURNS interval LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT justify_hours(make_interval(secs => secs))
$$;

/*
 * Count, mean, median and 90th percentile of the stays in each status that
 * overlap the window, each cut to its part inside the window; open stays
 * (still running at the end of the window) last until now, or are left out.
 * One pass over the history in recording order pairs each entity's rows.
 */
CREATE FUNCTION statusflow.time_in_status(table_name regclass,
										  since timestamptz DEFAULT NULL,
										  until timestamptz DEFAULT NULL,
										  filter jsonb DEFAULT NULL,
										  include_open boolean DEFAULT true,
										  column_name name DEFAULT NULL)
RETURNS TABLE (status text, stays bigint, open_stays bigint, mean interval,
			   median interval, p90 interval)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.require(include_open IS NOT NULL, 'include_open');
	RETURN QUERY EXECUTE format($q$
		SELECT s.status, coalesce(p.stays, 0), coalesce(p.open_stays, 0),
			   statusflow_internal.seconds(p.mean), statusflow_internal.seconds(p.median),
			   statusflow_internal.seconds(p.p90)
		FROM statusflow.statuses s
		LEFT JOIN (SELECT pe.enumlabel AS status, x.stays, x.open_stays,
						  x.mean, x.median, x.p90
				   FROM statusflow_internal.stay_stats(%L, %s, $1, $2, $3) x
				   JOIN pg_catalog.pg_enum pe ON pe.oid = x.status) p
			   ON p.status = s.status
		WHERE s.workflow = $4
		ORDER BY s.rank$q$,
		statusflow_internal.rows_sql(b, until, filter, '') || ' ORDER BY h.history_id',
		cardinality(b.key_columns))
	USING since, until, include_open, b.workflow;
END
$$;

/*
 * Applied changes in the window by (from_status, to_status), with every
 * declared transition (zero when unused); from_status is null for entries.
 * A declared transition without to_status (back to the previous status)
 * declares every move from its from_status.
 */
CREATE FUNCTION statusflow.transition_matrix(table_name regclass,
											 since timestamptz DEFAULT NULL,
											 until timestamptz DEFAULT NULL,
											 filter jsonb DEFAULT NULL,
											 column_name name DEFAULT NULL)
RETURNS TABLE (from_status text, to_status text, transitions bigint,
			   declared boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	RETURN QUERY EXECUTE format($q$
		WITH moves AS (SELECT m.from_status::text AS from_status,
							  m.to_status::text AS to_status, m.n FROM (%s) m),
		declared AS (SELECT DISTINCT t.from_status, t.to_status
					 FROM statusflow.transitions t
					 WHERE t.workflow = $3 AND t.to_status IS NOT NULL),
		to_previous AS (SELECT DISTINCT t.from_status
						FROM statusflow.transitions t
						WHERE t.workflow = $3 AND t.to_status IS NULL)
		SELECT coalesce(m.from_status, d.from_status),
			   coalesce(m.to_status, d.to_status),
			   coalesce(m.n, 0)::bigint,
			   CASE WHEN coalesce(m.from_status, d.from_status) IS NOT NULL
					THEN d.to_status IS NOT NULL
						 OR m.from_status IN (SELECT p.from_status FROM to_previous p) END
		FROM moves m
		FULL JOIN declared d
		  ON d.from_status = m.from_status AND d.to_status = m.to_status
		LEFT JOIN statusflow.statuses f
		  ON f.workflow = $3 AND f.status = coalesce(m.from_status, d.from_status)
		LEFT JOIN statusflow.statuses t
		  ON t.workflow = $3 AND t.status = coalesce(m.to_status, d.to_status)
		ORDER BY f.rank NULLS FIRST, t.rank$q$,
		statusflow_internal.moves_sql(b, since, until, filter))
	USING since, until, b.workflow;
END
$$;

/*
 * Follow-up lists and queues
 */

/*
 * Entities in a status (or in any status of a group; null: any non-terminal
 * status) for at least older_than, oldest first, with the last history row
 * of each (which may be a provider event recorded but not applied).  The
 * window applies to the time they entered their status.  Without JIT: the
 * plan is index probes, whose compiled expressions cannot pay back the
 * compilation (0.4 s on large tables).
 */
CREATE FUNCTION statusflow.stale(table_name regclass, status text,
								 older_than interval,
								 since timestamptz DEFAULT NULL,
								 until timestamptz DEFAULT NULL,
								 filter jsonb DEFAULT NULL,
								 column_name name DEFAULT NULL)
RETURNS TABLE (key jsonb, current_status text, entered_at timestamptz,
			   time_in_status interval, last_event text,
			   last_event_at timestamptz, last_actor text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	statuses text[];
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.require(older_than IS NOT NULL, 'older_than');
	IF stale.status IS NULL THEN
		SELECT array_agg(s.status ORDER BY s.rank) INTO statuses
		FROM statusflow.statuses s
		WHERE s.workflow = b.workflow AND NOT s.is_terminal;
		IF statuses IS NULL THEN
			RETURN;
		END IF;
	ELSE
		statuses := statusflow_internal.statuses_named(b.workflow, stale.status, 'status');
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT c.key, c.status, c.entered_at, '
		'pg_catalog.justify_hours(pg_catalog.now() - c.entered_at), '
		'c.last_event, c.last_event_at, c.last_actor '
		'FROM (%s) c WHERE c.entered_at <= pg_catalog.now() - $3%s '
		'ORDER BY c.entered_at, c.entry_id',
		statusflow_internal.current_sql(b, statuses, filter),
		statusflow_internal.window_sql('c.entered_at', since, until))
	USING since, until, older_than;
END
$$;

/*
 * Where an entity stands among the entities of its current status (those
 * matching the filter), by the time they entered it: the waiting list.
 * Without JIT, like stale().
 */
CREATE FUNCTION statusflow_internal.queue_position(b statusflow.binding, key jsonb,
										   filter jsonb)
RETURNS TABLE (status text, "position" bigint, queue_length bigint,
			   entered_at timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	current_status text;
BEGIN
	EXECUTE format('SELECT t.%I::text FROM %s t WHERE %s', b.column_name,
				   b.table_name, statusflow_internal.key_match_sql(b, 't', '$1'))
	INTO current_status USING key;
	IF current_status IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT q.status, q.pos, q.total, q.entered_at FROM ('
		'SELECT c.key, c.status, c.entered_at, '
		'pg_catalog.row_number() OVER (ORDER BY c.entered_at, c.entry_id) AS pos, '
		'pg_catalog.count(*) OVER () AS total FROM (%s) c) q WHERE q.key = $1',
		statusflow_internal.current_sql(b, ARRAY[current_status], filter))
	USING key;
END
$$;

CREATE FUNCTION statusflow.queue_position(table_name regclass, key anyelement,
										  filter jsonb DEFAULT NULL,
										  column_name name DEFAULT NULL)
RETURNS TABLE (status text, "position" bigint, queue_length bigint,
			   entered_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT q.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.queue_position(b, statusflow_internal.key_object(b.id, key), filter) q
$$;

-- The same with the key as text, so that an untyped literal ('42', or
-- '(north,7)' for a composite key) resolves.
CREATE FUNCTION statusflow.queue_position(table_name regclass, key text,
										  filter jsonb DEFAULT NULL,
										  column_name name DEFAULT NULL)
RETURNS TABLE (status text, "position" bigint, queue_length bigint,
			   entered_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT q.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.queue_position(b, statusflow_internal.key_object(b.id, key), filter) q
$$;

/*
 * One entity in the past
 */

/*
 * The status of an entity at a time: that of its last applied history row
 * (in recording order) that occurred at or before it; null before its first.
 */
CREATE FUNCTION statusflow_internal.status_at(b statusflow.binding, key jsonb,
									  at timestamptz)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result text;
BEGIN
	PERFORM statusflow_internal.require(at IS NOT NULL, 'at');
	EXECUTE format('SELECT h.to_status::text FROM %s h WHERE %s AND h.applied '
				   'AND h.occurred_at <= $2 ORDER BY h.history_id DESC LIMIT 1',
				   statusflow_internal.history_sql(b), statusflow_internal.key_match_sql(b, 'h', '$1'))
	INTO result USING key, at;
	RETURN result;
END
$$;

CREATE FUNCTION statusflow.status_at(table_name regclass, key anyelement,
									 at timestamptz,
									 column_name name DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.status_at(b, statusflow_internal.key_object(b.id, key), at)
	FROM statusflow_internal.binding(table_name, column_name) b
$$;

CREATE FUNCTION statusflow.status_at(table_name regclass, key text,
									 at timestamptz,
									 column_name name DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.status_at(b, statusflow_internal.key_object(b.id, key), at)
	FROM statusflow_internal.binding(table_name, column_name) b
$$;

/*
 * The history of an entity in recording order, each applied row with the
 * time spent in the status it entered (until the next applied row, or now).
 */
CREATE TYPE statusflow.timeline_entry AS (
	history_id	bigint,
	from_status	text,
	to_status	text,
	event		text,
	actor		text,
	db_role		text,
	reason		text,
	metadata	jsonb,
	occurred_at	timestamptz,
	recorded_at	timestamptz,
	applied		boolean,
	event_id	text,
	time_in_status interval
);

CREATE FUNCTION statusflow_internal.timeline(b statusflow.binding, key jsonb,
									 since timestamptz, until timestamptz)
RETURNS SETOF statusflow.timeline_entry LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	RETURN QUERY EXECUTE format($q$
		SELECT x.* FROM (
			SELECT h.history_id, h.from_status::text, h.to_status::text,
				   h.event, h.actor, h.db_role, h.reason, h.metadata,
				   h.occurred_at, h.recorded_at, h.applied, h.event_id,
				   CASE WHEN h.applied THEN pg_catalog.justify_hours(greatest(
						interval '0',
						coalesce(pg_catalog.lead(h.occurred_at) OVER (
									 PARTITION BY h.applied ORDER BY h.history_id),
								 pg_catalog.now()) - h.occurred_at)) END
			FROM %s h WHERE %s) x
		WHERE true%s
		ORDER BY x.history_id$q$,
		statusflow_internal.history_sql(b), statusflow_internal.key_match_sql(b, 'h', '$3'),
		statusflow_internal.window_sql('x.occurred_at', since, until))
	USING since, until, key;
END
$$;

CREATE FUNCTION statusflow.timeline(table_name regclass, key anyelement,
									since timestamptz DEFAULT NULL,
									until timestamptz DEFAULT NULL,
									column_name name DEFAULT NULL)
RETURNS SETOF statusflow.timeline_entry LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.timeline(b, statusflow_internal.key_object(b.id, key), since, until) t
$$;

CREATE FUNCTION statusflow.timeline(table_name regclass, key text,
									since timestamptz DEFAULT NULL,
									until timestamptz DEFAULT NULL,
									column_name name DEFAULT NULL)
RETURNS SETOF statusflow.timeline_entry LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.timeline(b, statusflow_internal.key_object(b.id, key), since, until) t
$$;

/*
 * Series
 */

/*
 * Entries into each status per day, week or month (in the session's time
 * zone), zero included, from the window's first period (else the first
 * entry's) to its last (else the current period, or the last entry's).
 */
CREATE FUNCTION statusflow.entry_series(table_name regclass,
										period text DEFAULT 'day',
										since timestamptz DEFAULT NULL,
										until timestamptz DEFAULT NULL,
										filter jsonb DEFAULT NULL,
										column_name name DEFAULT NULL)
RETURNS TABLE (period_start date, status text, entries bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.check_period(period);
	RETURN QUERY EXECUTE format($q$
		WITH e AS (
			SELECT pg_catalog.date_trunc($3, h.occurred_at)::date AS period_start,
				   h.to_status, pg_catalog.count(*) AS n
			FROM %s h WHERE h.applied%s%s
			GROUP BY 1, 2),
		bounds AS (
			SELECT coalesce(pg_catalog.date_trunc($3, $1)::date,
							min(e.period_start)) AS first_period,
				   coalesce(pg_catalog.date_trunc($3, $2 - interval '1 microsecond')::date,
							greatest(max(e.period_start),
									 pg_catalog.date_trunc($3, pg_catalog.now())::date))
					   AS last_period
			FROM e),
		periods AS (
			SELECT g::date AS period_start
			FROM bounds,
				 pg_catalog.generate_series(bounds.first_period::timestamp,
											bounds.last_period::timestamp,
											('1 ' || $3)::interval) g)
		SELECT p.period_start, s.status, coalesce(e.n, 0)::bigint
		FROM periods p
		CROSS JOIN statusflow.statuses s
		LEFT JOIN e ON e.period_start = p.period_start AND e.to_status::text = s.status
		WHERE s.workflow = $4
		ORDER BY p.period_start, s.rank$q$,
		statusflow_internal.history_sql(b), statusflow_internal.window_sql('h.occurred_at', since, until),
		statusflow_internal.history_filter_sql(b, filter))
	USING since, until, period, b.workflow;
END
$$;

/*
 * Dashboard
 */

/* A bar of value / most of width characters, in eighths of a character. */
CREATE FUNCTION statusflow_internal.bar(value numeric, most numeric, width integer)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT repeat('█', e / 8) || substr('▏▎▍▌▋▊▉', e % 8, 1)
	FROM (SELECT round(coalesce(value * width * 8 / nullif(most, 0), 0))::integer AS e) x
$$;

/* A ratio as a percentage with one decimal, "-" when there is none. */
CREATE FUNCTION statusflow_internal.percent(ratio numeric)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(to_char(ratio * 100, 'FM990.0') || '%', '-')
$$;

/*
 * A duration in its two largest units, the second left out when zero:
 * "3d 4h", "5h", "7m".
 */
CREATE FUNCTION statusflow_internal.short_interval(i interval)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN s >= 86400
				THEN (s / 86400) || 'd'
					 || coalesce(' ' || nullif(s % 86400 / 3600, 0) || 'h', '')
				WHEN s >= 3600
				THEN (s / 3600) || 'h'
					 || coalesce(' ' || nullif(s % 3600 / 60, 0) || 'm', '')
				ELSE (s / 60) || 'm' END
	FROM (SELECT floor(date_part('epoch', i))::bigint AS s) x
$$;

/*
 * The state of a binding as lines of text for psql: entities per status with
 * a bar, per group when the workflow has groups, the funnel (steps, by
 * default the workflow's main path), and the entities that have been in a
 * non-terminal status the longest, for at least stale_after.
 */
CREATE FUNCTION statusflow.dashboard(table_name regclass,
									 steps text[] DEFAULT NULL,
									 stale_after interval DEFAULT '3 days',
									 top integer DEFAULT 5,
									 filter jsonb DEFAULT NULL,
									 column_name name DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	bar_width CONSTANT integer := 30;
BEGIN
	RETURN NEXT format('%s.%I (workflow %s): %s entities%s', b.table_name,
		b.column_name, b.workflow,
		(SELECT sum(c.entities)
		 FROM statusflow.status_counts(table_name, filter => filter,
									   column_name => b.column_name) c),
		CASE WHEN filter IS NOT NULL THEN ' matching ' || filter::text END);

	RETURN NEXT '';
	RETURN NEXT 'Statuses';
	RETURN QUERY
	SELECT format('  %-*s  %*s  %-*s  %6s', max(length(c.status)) OVER (), c.status,
				  max(length(c.entities::text)) OVER (), c.entities, bar_width,
				  statusflow_internal.bar(c.entities, max(c.entities) OVER (), bar_width),
				  statusflow_internal.percent(coalesce(c.share, 0)))
	FROM statusflow.status_counts(table_name, filter => filter,
								  column_name => b.column_name) WITH ORDINALITY c
	ORDER BY c.ordinality;

	IF EXISTS (SELECT 1 FROM statusflow.statuses s
			   WHERE s.workflow = b.workflow AND s.group_name IS NOT NULL) THEN
		RETURN NEXT '';
		RETURN NEXT 'Groups';
		RETURN QUERY
		SELECT format('  %-*s  %*s  %-*s  %6s', max(length(g.group_name)) OVER (),
					  g.group_name, max(length(g.entities::text)) OVER (), g.entities,
					  bar_width,
					  statusflow_internal.bar(g.entities, max(g.entities) OVER (), bar_width),
					  statusflow_internal.percent(coalesce(g.share, 0)))
		FROM statusflow.group_counts(table_name, filter => filter,
									 column_name => b.column_name) WITH ORDINALITY g
		ORDER BY g.ordinality;
	END IF;

	RETURN NEXT '';
	RETURN NEXT 'Funnel (reaching a step counts for the steps before it)';
	RETURN QUERY
	SELECT format('  %-*s  %*s  %s', max(length(f.step)) OVER (), f.step,
				  max(length(f.entities::text)) OVER (), f.entities,
				  CASE WHEN f.step_no > 1 THEN
					  format('%6s of %-*s  %6s of %s',
							 statusflow_internal.percent(f.step_conversion),
							 max(length(f.step)) OVER (), f.step_base,
							 statusflow_internal.percent(f.overall_conversion),
							 f.overall_base) END)
	FROM statusflow.funnel(table_name, steps, filter => filter,
						   column_name => b.column_name) f
	ORDER BY f.step_no;

	RETURN NEXT '';
	RETURN NEXT format('Stale: in a non-terminal status for %s or more, oldest first (top %s)',
					   statusflow_internal.short_interval(stale_after), top);
	RETURN QUERY
	SELECT format('  %-*s  %-*s  %8s  since %s  last: %s%s',
				  max(length(s.key::text)) OVER (), s.key::text,
				  max(length(s.current_status)) OVER (), s.current_status,
				  statusflow_internal.short_interval(s.time_in_status),
				  to_char(s.entered_at, 'YYYY-MM-DD HH24:MI'),
				  coalesce(s.last_event, '-'), ' by ' || s.last_actor)
	FROM (SELECT x.*
		  FROM statusflow.stale(table_name, NULL, stale_after, filter => filter,
								column_name => b.column_name) WITH ORDINALITY x
		  ORDER BY x.ordinality LIMIT top) s
	ORDER BY s.ordinality;
	IF NOT FOUND THEN
		RETURN NEXT '  (none)';
	END IF;
END
$$;
/*
 * Diagrams: a workflow as Graphviz DOT and as a Mermaid flowchart
 *
 * Statuses are nodes in rank order, gathered into a cluster per group;
 * initial statuses are bold and entered from a start point, terminal ones
 * have a double (DOT) or thick (Mermaid) border; each declared transition is
 * an edge labelled by _edge_label(), dashed when automatic; a transition
 * back to the status held before (one without to_status) leads to a node
 * "previous status".  Nodes are named s<rank>, so any status label is safe.  Mermaid's state diagrams cannot
 * draw a transition between states of two different composite states, which
 * is common here (a group is not a sub-machine), hence a flowchart.
 */

/*
 * The label of a transition's edge, as lines: its event, "(automatic)" for
 * an automatic transition, then its guards (roles, condition, reason, uses),
 * so that a diagram shows who may take an edge and when.
 */
CREATE FUNCTION statusflow_internal.edge_label(t statusflow.transitions)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT concat_ws(E'\n', t.event,
					 CASE WHEN t.kind = 'automatic' THEN '(automatic)' END,
					 'roles: ' || array_to_string(t.roles, ', '),
					 'if ' || t.condition,
					 CASE WHEN t.require_reason THEN 'reason required' END,
					 CASE WHEN t.max_uses = 1 THEN 'once per row'
						  WHEN t.max_uses > 1 THEN format('at most %s times per row', t.max_uses) END)
$$;

/* A DOT quoted string; a line break becomes a centered line. */
CREATE FUNCTION statusflow_internal.dot_string(s text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT '"' || replace(replace(replace(s, '\', '\\'), '"', '\"'), E'\n', '\n')
		   || '"'
$$;

/* A Mermaid quoted string: entity codes for what would end or mark it up. */
CREATE FUNCTION statusflow_internal.mermaid_string(s text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT '"' || replace(replace(replace(replace(replace(s, '#', '#35;'),
		'"', '#quot;'), '<', '#lt;'), '>', '#gt;'), E'\n', '<br>') || '"'
$$;

/*
 * The statuses of a workflow as diagram lines, DOT when dot, else Mermaid:
 * one node per status in rank order, the statuses of a group inside a
 * cluster (subgraph) that stands where its first status would.
 */
CREATE FUNCTION statusflow_internal.diagram_nodes(workflow text, dot boolean)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT string_agg(
		CASE WHEN b.group_name IS NULL THEN E'\t' || b.nodes
			 WHEN dot THEN format(E'\tsubgraph "cluster_%s" {\n\t\tlabel=%s;\n'
								  '\t\tlabelloc=b;\n\t\tstyle="rounded,dashed";\n\t\tcolor=gray50;\n'
								  '\t\t%s\n\t}',
								  b.block, statusflow_internal.dot_string(b.group_name),
								  replace(b.nodes, E'\n', E'\n\t\t'))
			 ELSE format(E'\tsubgraph g%s [%s]\n\t\t%s\n\tend',
						 b.block, statusflow_internal.mermaid_string(b.group_name),
						 replace(b.nodes, E'\n', E'\n\t\t')) END,
		E'\n' ORDER BY b.block)
	FROM (SELECT x.block, x.group_name, string_agg(x.node, E'\n' ORDER BY x.rank) AS nodes
		  FROM (SELECT s.rank, s.group_name,
					   min(s.rank) OVER (PARTITION BY coalesce(s.group_name, s.status))
						   AS block,
					   CASE WHEN dot
							THEN format('s%s [label=%s%s%s];', s.rank,
										statusflow_internal.dot_string(s.status),
										CASE WHEN s.is_initial
											 THEN ', style="rounded,bold", penwidth=2' END,
										CASE WHEN s.is_terminal THEN ', peripheries=2' END)
							ELSE format('s%s(%s)', s.rank,
										statusflow_internal.mermaid_string(s.status)) END AS node
				FROM statusflow.statuses s
				WHERE s.workflow = diagram_nodes.workflow) x
		  GROUP BY x.block, x.group_name) b
$$;

/*
 * The edges of a workflow's diagram, DOT when dot, else Mermaid: from the
 * start point to each initial status, then one per declared transition,
 * labelled by _edge_label() and dashed when automatic.  A transition back
 * to the status held before (one without to_status) leads to a node
 * "previous status".
 */
CREATE FUNCTION statusflow_internal.diagram_edges(workflow text, dot boolean)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT concat_ws(E'\n',
		(SELECT string_agg(format(CASE WHEN dot THEN E'\tstart -> s%s;'
									   ELSE E'\tstart --> s%s' END, s.rank),
						   E'\n' ORDER BY s.rank)
		 FROM statusflow.statuses s
		 WHERE s.workflow = diagram_edges.workflow AND s.is_initial),
		CASE WHEN bool_or(e.to_node = 'previous') THEN
			CASE WHEN dot THEN E'\tprevious [label="previous status", style="rounded,dashed"];'
				 ELSE E'\tprevious(["previous status"])' END END,
		string_agg(
			CASE WHEN dot
				 THEN format(E'\t%s -> %s [label=%s%s];', e.from_node, e.to_node,
							 statusflow_internal.dot_string(e.label),
							 CASE WHEN e.automatic THEN ', style=dashed' END)
				 ELSE format(E'\t%s %s%s %s', e.from_node,
							 CASE WHEN e.automatic THEN '-.->' ELSE '-->' END,
							 '|' || statusflow_internal.mermaid_string(nullif(e.label, '')) || '|',
							 e.to_node) END,
			E'\n' ORDER BY e.n))
	FROM (SELECT 's' || f.rank AS from_node, coalesce('s' || d.rank, 'previous') AS to_node,
				 statusflow_internal.edge_label(t) AS label, t.kind = 'automatic' AS automatic,
				 row_number() OVER (ORDER BY f.rank, d.rank NULLS LAST, t.event) AS n
		  FROM statusflow.transitions t
		  JOIN statusflow.statuses f
			ON f.workflow = t.workflow AND f.status = t.from_status
		  LEFT JOIN statusflow.statuses d
			ON d.workflow = t.workflow AND d.status = t.to_status
		  WHERE t.workflow = diagram_edges.workflow) e
$$;

/* The workflow in Graphviz DOT: "dot -Tsvg" renders it. */
CREATE FUNCTION statusflow.to_dot(workflow text)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow := statusflow_internal.workflow(workflow);
BEGIN
	RETURN concat_ws(E'\n',
		format('digraph %s {', statusflow_internal.dot_string(w.name)),
		format(E'\tlabel=%s;\n\tlabelloc=t;\n\trankdir=LR;\n\tnewrank=true;\n\tfontname="Helvetica";',
			   statusflow_internal.dot_string(w.name)),
		E'\tnode [shape=box, style=rounded, fontname="Helvetica"];',
		E'\tedge [fontname="Helvetica", fontsize=10];',
		E'\tstart [shape=point, width=0.15, label=""];',
		statusflow_internal.diagram_nodes(w.name, true),
		statusflow_internal.diagram_edges(w.name, true),
		'}');
END
$$;

/*
 * The workflow as a Mermaid flowchart, for Markdown pages that render
 * Mermaid: groups are subgraphs, initial and terminal statuses have classes.
 */
CREATE FUNCTION statusflow.to_mermaid(workflow text)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow := statusflow_internal.workflow(workflow);
BEGIN
	RETURN concat_ws(E'\n',
		'flowchart LR',
		E'\tstart((" "))',
		statusflow_internal.diagram_nodes(w.name, false),
		statusflow_internal.diagram_edges(w.name, false),
		E'\tclassDef startpoint fill:#000,stroke:#000',
		E'\tclassDef initial font-weight:bold,stroke-width:2px',
		E'\tclassDef terminal stroke-width:4px',
		E'\tclass start startpoint',
		(SELECT E'\tclass ' || string_agg('s' || s.rank, ',' ORDER BY s.rank) || ' initial'
		 FROM statusflow.statuses s WHERE s.workflow = w.name AND s.is_initial),
		(SELECT E'\tclass ' || string_agg('s' || s.rank, ',' ORDER BY s.rank) || ' terminal'
		 FROM statusflow.statuses s WHERE s.workflow = w.name AND s.is_terminal));
END
$$;
/*
 * Comments: \dx+ statusflow, \df+ statusflow.* and \d+ read as a reference.
 */

COMMENT ON SCHEMA statusflow IS
	'statusflow: status workflows enforced in the database (catalog, views, API)';

-- catalog
COMMENT ON TABLE statusflow.workflow IS
	'Workflows: a name and the enum type whose labels are its statuses; owned with that type';
COMMENT ON TABLE statusflow.status IS
	'Statuses of each workflow, one per label of its type, with their metadata and entry condition';
COMMENT ON TABLE statusflow.transition IS
	'Declared transitions of each workflow, with their events and guards';
COMMENT ON TABLE statusflow.quota IS
	'Quotas on entering statuses, per value of a column and calendar period';
COMMENT ON TABLE statusflow.quota_usage IS
	'How much of each quota each scope used in each period (readable by the bound table''s owner)';
COMMENT ON TABLE statusflow.timer IS
	'Timers: rows staying in a status move on by themselves when tick() runs';
COMMENT ON TABLE statusflow.binding IS
	'Bindings: a workflow attached to a column of a table, with its history table';

-- views
COMMENT ON VIEW statusflow.workflows IS
	'Every workflow with its statuses, initial and terminal ones, and how many columns are bound to it';
COMMENT ON VIEW statusflow.statuses IS
	'Every status of every workflow, in rank order, with its metadata';
COMMENT ON VIEW statusflow.transitions IS
	'Every declared transition, with its event, kind and guards';
COMMENT ON VIEW statusflow.quotas IS
	'Every quota of every workflow';
COMMENT ON VIEW statusflow.timers IS
	'Every timer of every workflow';
COMMENT ON VIEW statusflow.bindings IS
	'Every bound column, with its workflow and history table';

-- defining workflows
COMMENT ON FUNCTION statusflow.create_workflow(text, text[], text[], text[], text, boolean, text, boolean, name) IS
	'Create a workflow: its statuses become an enum type, which the caller owns';
COMMENT ON FUNCTION statusflow.add_transition(text, text[], text, text, text, text, text[], text, boolean, integer, boolean) IS
	'Declare a transition from each of some statuses, with its event and guards';
COMMENT ON FUNCTION statusflow.remove_transition(text, text[], text, text) IS
	'Remove declared transitions';
COMMENT ON FUNCTION statusflow.add_status(text, text, text, text, text, text, boolean, boolean) IS
	'Add a status to a workflow (a label to its enum type), placed by rank';
COMMENT ON FUNCTION statusflow.set_status_info(text, text, text, text, boolean, boolean, text, boolean) IS
	'Change the metadata, entry condition or flags of a status';
COMMENT ON FUNCTION statusflow.drop_workflow(text, boolean) IS
	'Drop a workflow that no column is bound to, and its type';
COMMENT ON FUNCTION statusflow.set_workflow_info(text, text, boolean) IS
	'Change the description of a workflow, or whether ingestion may move rows back in rank';
COMMENT ON FUNCTION statusflow.set_quota(text, text[], name, integer, text, text) IS
	'Limit the entries into statuses per value of a column and calendar period';
COMMENT ON FUNCTION statusflow.remove_quota(text, text[]) IS
	'Remove a quota';
COMMENT ON FUNCTION statusflow.add_timer(text, text, interval, name, text, text) IS
	'Move rows that stay in a status for a while, or until a time, when tick() runs';
COMMENT ON FUNCTION statusflow.remove_timer(integer) IS
	'Remove a timer';
COMMENT ON FUNCTION statusflow.presets() IS
	'The ready workflows install_preset() can create';
COMMENT ON FUNCTION statusflow.install_preset(text, name, text, jsonb) IS
	'Create one of the ready workflows, owned by the caller';

-- introspection
COMMENT ON FUNCTION statusflow.allowed_transitions(text, text) IS
	'The transitions leaving a status of a workflow';
COMMENT ON FUNCTION statusflow.can_transition(text, text, text) IS
	'Whether a workflow lets the current role take a row from one status to another';
COMMENT ON FUNCTION statusflow.check_workflow(text) IS
	'Problems of a workflow: unreachable statuses and dead ends';
COMMENT ON FUNCTION statusflow.to_dot(text) IS
	'A workflow as a Graphviz DOT diagram';
COMMENT ON FUNCTION statusflow.to_mermaid(text) IS
	'A workflow as a Mermaid diagram';

-- binding tables
COMMENT ON FUNCTION statusflow.attach(regclass, name, text, text, boolean, name) IS
	'Bind a column of a table to a workflow: install its triggers, create its history table';
COMMENT ON FUNCTION statusflow.detach(regclass, name) IS
	'Unbind a column: remove its triggers (its history table stays)';
COMMENT ON FUNCTION statusflow.set_notify(regclass, text, name) IS
	'NOTIFY a channel of every committed status change of a bound column';
COMMENT ON FUNCTION statusflow.prune_history(regclass, timestamp with time zone, boolean, name) IS
	'Delete history recorded before a time, keeping each entity''s latest row';

-- changing statuses
COMMENT ON FUNCTION statusflow.transition(regclass, anyelement, text, text, jsonb, text, timestamp with time zone, name) IS
	'Move one row to a status, with a reason, metadata, actor and time';
COMMENT ON FUNCTION statusflow.transition(regclass, text, text, text, jsonb, text, timestamp with time zone, name) IS
	'Move one row, its key given as text, to a status';
COMMENT ON FUNCTION statusflow.fire(regclass, anyelement, text, text, jsonb, text, timestamp with time zone, name) IS
	'Apply an event to one row, from whatever status it is in';
COMMENT ON FUNCTION statusflow.fire(regclass, text, text, text, jsonb, text, timestamp with time zone, name) IS
	'Apply an event to one row, its key given as text';
COMMENT ON FUNCTION statusflow.transition_many(regclass, anyarray, text, text, jsonb, text, timestamp with time zone, name) IS
	'Move many rows to a status, all or nothing';
COMMENT ON FUNCTION statusflow.fire_many(regclass, anyarray, text, text, jsonb, text, timestamp with time zone, name) IS
	'Apply an event to many rows, all or nothing';
COMMENT ON FUNCTION statusflow.tick(integer) IS
	'Apply the timers that are due, to the tables the caller may update, as their owners';
COMMENT ON FUNCTION statusflow.ingest(regclass, anyelement, text, timestamp with time zone, text, jsonb, name) IS
	'Apply a provider''s receipt (a status or an event) at most once, never moving back in a monotonic workflow';
COMMENT ON FUNCTION statusflow.ingest(regclass, text, text, timestamp with time zone, text, jsonb, name) IS
	'Apply a provider''s receipt, the key given as text';

-- reports
COMMENT ON FUNCTION statusflow.entries(regclass, anyelement, text, name) IS
	'How many times a row entered a status';
COMMENT ON FUNCTION statusflow.entries(regclass, text, text, name) IS
	'How many times a row, its key given as text, entered a status';
COMMENT ON FUNCTION statusflow.status_counts(regclass, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entities per status now or at a time, and entries in a window';
COMMENT ON FUNCTION statusflow.group_counts(regclass, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entities per group of statuses now or at a time, and entries in a window';
COMMENT ON FUNCTION statusflow.funnel(regclass, text[], timestamp with time zone, timestamp with time zone, jsonb, boolean, name) IS
	'Entities that reached each step, with step and overall conversion';
COMMENT ON FUNCTION statusflow.funnel_cohorts(regclass, text[], text, timestamp with time zone, timestamp with time zone, jsonb, boolean, name) IS
	'The funnel per day, week or month of entry';
COMMENT ON FUNCTION statusflow.time_in_status(regclass, timestamp with time zone, timestamp with time zone, jsonb, boolean, name) IS
	'Stays in each status: how many, mean, median and 90th percentile';
COMMENT ON FUNCTION statusflow.transition_matrix(regclass, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Changes counted by from and to status, and whether each pair is declared';
COMMENT ON FUNCTION statusflow.stale(regclass, text, interval, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entities in a status for too long, oldest first, with their last event';
COMMENT ON FUNCTION statusflow.queue_position(regclass, anyelement, jsonb, name) IS
	'Where a row stands among those in its status, by entry time';
COMMENT ON FUNCTION statusflow.queue_position(regclass, text, jsonb, name) IS
	'Where a row, its key given as text, stands among those in its status';
COMMENT ON FUNCTION statusflow.status_at(regclass, anyelement, timestamp with time zone, name) IS
	'The status of a row at a time';
COMMENT ON FUNCTION statusflow.status_at(regclass, text, timestamp with time zone, name) IS
	'The status of a row, its key given as text, at a time';
COMMENT ON FUNCTION statusflow.timeline(regclass, anyelement, timestamp with time zone, timestamp with time zone, name) IS
	'The history of a row, with the time spent in each status';
COMMENT ON FUNCTION statusflow.timeline(regclass, text, timestamp with time zone, timestamp with time zone, name) IS
	'The history of a row, its key given as text';
COMMENT ON FUNCTION statusflow.entry_series(regclass, text, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entries into each status per day, week or month';
COMMENT ON FUNCTION statusflow.dashboard(regclass, text[], interval, integer, jsonb, name) IS
	'Counts, groups, the funnel and stale entities of a bound column, as text for psql';
/*
 * Privileges
 *
 * Every function in schema statusflow is the documented API, executable by
 * PUBLIC.  In statusflow_internal, nothing is executable by PUBLIC except
 * the helpers that the API's functions, running with the caller's rights,
 * call on the caller's behalf (and that row-level security policies call).
 * Each of those checks its arguments and can do nothing the caller could
 * not do by writing the same SQL.  Trigger functions, the event trigger
 * functions and what runs as the extension's owner stay private.
 */

GRANT USAGE ON SCHEMA statusflow TO PUBLIC;
GRANT USAGE ON SCHEMA statusflow_internal TO PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON statusflow.workflow, statusflow.status,
	statusflow.transition, statusflow.binding, statusflow.quota,
	statusflow.quota_usage, statusflow.timer TO PUBLIC;
GRANT USAGE ON SEQUENCE statusflow.transition_id_seq,
	statusflow.binding_id_seq, statusflow.quota_id_seq,
	statusflow.timer_id_seq TO PUBLIC;
GRANT SELECT ON statusflow.statuses, statusflow.workflows,
	statusflow.transitions, statusflow.quotas, statusflow.timers,
	statusflow.bindings TO PUBLIC;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA statusflow_internal FROM PUBLIC;

DO $$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		-- row-level security policies of the catalog, catalog checks
		'owns_type', 'owns_workflow', 'owns_relation', 'owns_binding',
		'check_condition',
		-- the definition and binding API
		'workflow', 'check_owner', 'require', 'check_statuses',
		'qualified_name', 'roles', 'check_condition_everywhere', 'check_fits',
		'check_timers', 'sync_binding', 'binding', 'trigger_names',
		-- presets
		'describe_statuses', 'option', 'preset_review_request',
		'preset_establishment_invitation', 'preset_beta', 'preset_beta_prelaunch',
		'preset_beta_general', 'preset_sms_outreach', 'preset_loyalty_connection',
		-- reports
		'check_window', 'window_sql', 'each_key', 'history_sql', 'key_json_sql', 'key_match_sql',
		'filter_sql', 'history_filter_sql', 'statuses_named', 'check_period',
		'rows_sql', 'entities', 'stay_stats', 'moves_sql', 'current_sql',
		'key_object', 'ranks', 'main_path', 'counts', 'funnel', 'seconds',
		'queue_position', 'status_at', 'timeline', 'bar', 'percent',
		'short_interval',
		-- diagrams
		'edge_label', 'dot_string', 'mermaid_string', 'diagram_nodes',
		'diagram_edges'] LOOP
		EXECUTE (SELECT pg_catalog.string_agg(
						 pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC',
										   p.oid::pg_catalog.regprocedure), '; ')
				 FROM pg_catalog.pg_proc p
				 WHERE p.pronamespace OPERATOR(pg_catalog.=)
					   'statusflow_internal'::pg_catalog.regnamespace
				   AND p.proname OPERATOR(pg_catalog.=) f);
	END LOOP;
END
$$;

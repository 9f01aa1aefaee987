/* statusflow 1.0: status workflows enforced inside PostgreSQL */

\echo Use "CREATE EXTENSION statusflow" to load this file. \quit

/*
 * Catalog
 *
 * Four small tables describe every workflow and binding.  They are written by
 * the API functions below, run with the caller's rights; row-level security
 * lets a role change only the workflows whose enum type it owns and the
 * bindings of the tables it owns.  Every backend caches them (see
 * src/catalog.c); a statement trigger on each one invalidates those caches.
 */

CREATE TABLE statusflow.workflow (
	name		text PRIMARY KEY
				CHECK (name <> '' AND pg_catalog.octet_length(name) <= 63),
	status_type	regtype NOT NULL UNIQUE,
	allow_null	boolean NOT NULL DEFAULT false,
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE statusflow.status (
	workflow	text NOT NULL,
	status		text NOT NULL,
	description	text,
	group_name	text,
	is_initial	boolean NOT NULL DEFAULT false,
	is_terminal	boolean NOT NULL DEFAULT false,
	PRIMARY KEY (workflow, status)
);

CREATE SEQUENCE statusflow.transition_id_seq;
CREATE TABLE statusflow.transition (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.transition_id_seq'),
	workflow	text NOT NULL,
	from_status	text NOT NULL,
	to_status	text NOT NULL,
	event		text CHECK (event <> ''),
	kind		text NOT NULL DEFAULT 'manual'
				CHECK (kind IN ('manual', 'automatic')),
	description	text,
	UNIQUE NULLS NOT DISTINCT (workflow, from_status, to_status, event)
);
ALTER SEQUENCE statusflow.transition_id_seq OWNED BY statusflow.transition.id;
CREATE UNIQUE INDEX transition_event_idx
	ON statusflow.transition (workflow, from_status, event)
	WHERE event IS NOT NULL;

CREATE SEQUENCE statusflow.binding_id_seq;
CREATE TABLE statusflow.binding (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.binding_id_seq'),
	table_name	regclass NOT NULL,
	column_name	name NOT NULL,
	workflow	text NOT NULL,
	history_table regclass NOT NULL UNIQUE,
	key_columns	name[] NOT NULL,
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

ALTER TABLE statusflow.workflow ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.status ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.transition ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.binding ENABLE ROW LEVEL SECURITY;

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
CREATE POLICY read_all ON statusflow.binding FOR SELECT USING (true);
CREATE POLICY table_owner ON statusflow.binding
	USING (statusflow._owns_relation(table_name))
	WITH CHECK (statusflow._owns_relation(table_name)
				AND statusflow._owns_relation(history_table));

GRANT USAGE ON SCHEMA statusflow TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON statusflow.workflow, statusflow.status,
	statusflow.transition, statusflow.binding TO PUBLIC;
GRANT USAGE ON SEQUENCE statusflow.transition_id_seq,
	statusflow.binding_id_seq TO PUBLIC;

/*
 * C functions
 */

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

/*
 * AFTER INSERT / AFTER UPDATE row trigger of a binding: checks the change
 * against the workflow and appends the history row.
 */
CREATE FUNCTION statusflow.enforce()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_enforce';
REVOKE ALL ON FUNCTION statusflow.enforce() FROM PUBLIC;

/* Statement trigger of a history table: refuses UPDATE, DELETE, TRUNCATE. */
CREATE FUNCTION statusflow.history_append_only()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_history_append_only';
REVOKE ALL ON FUNCTION statusflow.history_append_only() FROM PUBLIC;

CREATE FUNCTION statusflow.can_transition(workflow text, from_status text,
										  to_status text)
RETURNS boolean LANGUAGE c STABLE STRICT
AS 'MODULE_PATHNAME', 'sf_can_transition';

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

/* Used by fire(): the status an event leads to from the row's status. */
CREATE FUNCTION statusflow._event_target(current_status anyenum,
										 binding integer, event text)
RETURNS anyenum LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_event_target';

CREATE FUNCTION statusflow.prune_history(table_name regclass,
										 older_than timestamptz,
										 keep_latest boolean DEFAULT true,
										 column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_prune_history';

/*
 * Introspection views
 */

CREATE VIEW statusflow.statuses AS
SELECT s.workflow, s.status, e.rank::integer AS rank, s.group_name,
	   s.description, s.is_initial, s.is_terminal
FROM statusflow.status s
JOIN statusflow.workflow w ON w.name OPERATOR(pg_catalog.=) s.workflow
JOIN LATERAL (
	SELECT pe.enumlabel::text AS label,
		   pg_catalog.row_number() OVER (ORDER BY pe.enumsortorder) AS rank
	FROM pg_catalog.pg_enum pe
	WHERE pe.enumtypid OPERATOR(pg_catalog.=) w.status_type::oid
) e ON e.label OPERATOR(pg_catalog.=) s.status;

CREATE VIEW statusflow.workflows AS
SELECT w.name AS workflow, w.status_type, w.allow_null, w.description,
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
	   t.description, t.id
FROM statusflow.transition t
LEFT JOIN statusflow.statuses f
	   ON f.workflow OPERATOR(pg_catalog.=) t.workflow
	  AND f.status OPERATOR(pg_catalog.=) t.from_status
LEFT JOIN statusflow.statuses tt
	   ON tt.workflow OPERATOR(pg_catalog.=) t.workflow
	  AND tt.status OPERATOR(pg_catalog.=) t.to_status
ORDER BY t.workflow, f.rank, tt.rank, t.event NULLS FIRST;

CREATE VIEW statusflow.bindings AS
SELECT b.table_name, b.column_name, b.workflow, b.history_table,
	   b.key_columns, b.id AS binding_id, b.created_at
FROM statusflow.binding b;

GRANT SELECT ON statusflow.statuses, statusflow.workflows,
	statusflow.transitions, statusflow.bindings TO PUBLIC;

/*
 * Helpers for the definition API
 */

/* The workflow row, or a clear error when there is none. */
CREATE FUNCTION statusflow._workflow(workflow text)
RETURNS statusflow.workflow LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	PERFORM statusflow._require(workflow IS NOT NULL, 'workflow');
	SELECT * INTO w FROM statusflow.workflow x
	WHERE x.name OPERATOR(pg_catalog.=) _workflow.workflow;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow "%" does not exist', workflow
			USING ERRCODE = 'undefined_object',
				  HINT = 'The view statusflow.workflows lists the workflows.';
	END IF;
	RETURN w;
END
$$;

/* Raise a clear error for a required argument that is null. */
CREATE FUNCTION statusflow._require(present boolean, what text)
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
CREATE FUNCTION statusflow._check_statuses(workflow text, labels text[],
										   what text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad text;
BEGIN
	IF labels IS NULL OR array_position(labels, NULL) IS NOT NULL THEN
		RAISE EXCEPTION '% must not be null', what
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT l INTO bad FROM unnest(labels) l
	WHERE NOT EXISTS (SELECT 1 FROM statusflow.status s
					  WHERE s.workflow = _check_statuses.workflow
						AND s.status = l)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'status "%" is not part of workflow "%"', bad, workflow
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = format('Its statuses are: %s.',
								(SELECT string_agg(format('"%s"', s.status), ', '
												   ORDER BY s.rank)
								 FROM statusflow.statuses s
								 WHERE s.workflow = _check_statuses.workflow));
	END IF;
END
$$;

/* Raise unless the current role may change the workflow (owns its type). */
CREATE FUNCTION statusflow._check_owner(w statusflow.workflow)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT statusflow._owns_type(w.status_type) THEN
		RAISE EXCEPTION 'must be owner of type % to change workflow "%"',
			w.status_type, w.name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
END
$$;

/* "schema"."name" for a possibly qualified type or table name. */
CREATE FUNCTION statusflow._qualified_name(name text, default_schema text)
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

/*
 * Definition API
 */

CREATE FUNCTION statusflow.create_workflow(name text,
										   statuses text[],
										   initial text[],
										   terminal text[] DEFAULT '{}',
										   type_name text DEFAULT NULL,
										   allow_null boolean DEFAULT false,
										   description text DEFAULT NULL)
RETURNS regtype LANGUAGE plpgsql
AS $$
DECLARE
	qualified text;
	new_type regtype;
	bad text;
BEGIN
	PERFORM statusflow._require(name IS NOT NULL, 'name');
	PERFORM statusflow._require(statuses IS NOT NULL, 'statuses');
	PERFORM statusflow._require(initial IS NOT NULL, 'initial');
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

	qualified := statusflow._qualified_name(
		coalesce(type_name, name || '_status'), pg_catalog.current_schema());
	IF pg_catalog.to_regtype(qualified) IS NOT NULL THEN
		RAISE EXCEPTION 'type % already exists', qualified
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Choose another name with type_name.';
	END IF;
	EXECUTE pg_catalog.format('CREATE TYPE %s AS ENUM (%s)', qualified,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_literal(s), ', ' ORDER BY o)
		 FROM pg_catalog.unnest(statuses) WITH ORDINALITY AS u(s, o)));
	new_type := pg_catalog.to_regtype(qualified);

	INSERT INTO statusflow.workflow (name, status_type, allow_null, description)
	VALUES (name, new_type, coalesce(allow_null, false), description);
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
										  description text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql
AS $$
DECLARE
	w statusflow.workflow;
	dup statusflow.transition;
	bad text;
	added integer;
BEGIN
	w := statusflow._workflow(workflow);
	PERFORM statusflow._check_owner(w);
	PERFORM statusflow._require(from_statuses IS NOT NULL, 'from_statuses');
	IF pg_catalog.cardinality(from_statuses) = 0 THEN
		RAISE EXCEPTION 'from_statuses must list at least one status'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM statusflow._check_statuses(workflow, from_statuses || to_status,
									   'a status');
	IF event = '' THEN
		RAISE EXCEPTION 'an event name must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass NULL for a transition without an event.';
	END IF;
	IF kind IS NULL OR kind NOT IN ('manual', 'automatic') THEN
		RAISE EXCEPTION 'invalid transition kind %',
			coalesce(pg_catalog.quote_literal(kind), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A transition is ''manual'' or ''automatic''.';
	END IF;
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
	  AND ((t.to_status OPERATOR(pg_catalog.=) add_transition.to_status
			AND t.event IS NOT DISTINCT FROM add_transition.event)
		   OR t.event OPERATOR(pg_catalog.=) add_transition.event)
	LIMIT 1;
	IF FOUND AND dup.to_status OPERATOR(pg_catalog.=) add_transition.to_status
			 AND dup.event IS NOT DISTINCT FROM add_transition.event THEN
		RAISE EXCEPTION 'workflow "%" already has a transition from "%" to "%"%',
			w.name, dup.from_status, dup.to_status,
			CASE WHEN dup.event IS NULL THEN ''
				 ELSE pg_catalog.format(' on event "%s"', dup.event) END
			USING ERRCODE = 'duplicate_object';
	ELSIF FOUND THEN
		RAISE EXCEPTION 'event "%" already leads from "%" to "%" in workflow "%"',
			dup.event, dup.from_status, dup.to_status, w.name
			USING ERRCODE = 'duplicate_object',
				  DETAIL = 'An event leads from a status to one status only.';
	END IF;

	INSERT INTO statusflow.transition (workflow, from_status, to_status, event,
									   kind, description)
	SELECT DISTINCT w.name, f, to_status, event, kind, description
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
AS $$
DECLARE
	w statusflow.workflow;
	removed integer;
BEGIN
	w := statusflow._workflow(workflow);
	PERFORM statusflow._check_owner(w);
	PERFORM statusflow._check_statuses(workflow, from_statuses || to_status,
									   'a status');
	DELETE FROM statusflow.transition t
	WHERE t.workflow OPERATOR(pg_catalog.=) w.name
	  AND t.from_status OPERATOR(pg_catalog.=) ANY (from_statuses)
	  AND t.to_status OPERATOR(pg_catalog.=) remove_transition.to_status
	  AND t.event IS NOT DISTINCT FROM remove_transition.event;
	GET DIAGNOSTICS removed = ROW_COUNT;
	IF removed = 0 THEN
		RAISE EXCEPTION 'workflow "%" has no such transition to "%"%', w.name,
			to_status,
			CASE WHEN event IS NULL THEN ' without an event'
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
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	w := statusflow._workflow(workflow);
	PERFORM statusflow._check_owner(w);
	PERFORM statusflow._require(status IS NOT NULL, 'status');
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
		PERFORM statusflow._check_statuses(workflow,
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
										   terminal boolean DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	w := statusflow._workflow(workflow);
	PERFORM statusflow._check_owner(w);
	PERFORM statusflow._check_statuses(workflow, ARRAY[status], 'status');
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
	UPDATE statusflow.status s
	SET description = CASE WHEN set_status_info.description IS NULL
						   THEN s.description
						   ELSE nullif(set_status_info.description, '') END,
		group_name = CASE WHEN set_status_info.group_name IS NULL
						  THEN s.group_name
						  ELSE nullif(set_status_info.group_name, '') END,
		is_initial = coalesce(initial, s.is_initial),
		is_terminal = coalesce(terminal, s.is_terminal)
	WHERE s.workflow OPERATOR(pg_catalog.=) w.name
	  AND s.status OPERATOR(pg_catalog.=) set_status_info.status;
END
$$;

CREATE FUNCTION statusflow.drop_workflow(workflow text,
										 drop_type boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql
AS $$
DECLARE
	w statusflow.workflow;
	bound text;
BEGIN
	w := statusflow._workflow(workflow);
	PERFORM statusflow._check_owner(w);
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
	DELETE FROM statusflow.transition t WHERE t.workflow OPERATOR(pg_catalog.=) w.name;
	DELETE FROM statusflow.status s WHERE s.workflow OPERATOR(pg_catalog.=) w.name;
	DELETE FROM statusflow.workflow x WHERE x.name OPERATOR(pg_catalog.=) w.name;
	IF drop_type THEN
		EXECUTE pg_catalog.format('DROP TYPE %s', w.status_type);
	END IF;
END
$$;

/*
 * Introspection functions
 */

CREATE FUNCTION statusflow.allowed_transitions(workflow text, from_status text)
RETURNS TABLE (to_status text, event text, kind text, description text)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	PERFORM statusflow._workflow(workflow);
	PERFORM statusflow._check_statuses(workflow, ARRAY[from_status], 'status');
	RETURN QUERY
	SELECT t.to_status, t.event, t.kind, t.description
	FROM statusflow.transition t
	JOIN statusflow.statuses s
	  ON s.workflow OPERATOR(pg_catalog.=) t.workflow
	 AND s.status OPERATOR(pg_catalog.=) t.to_status
	WHERE t.workflow OPERATOR(pg_catalog.=) allowed_transitions.workflow
	  AND t.from_status OPERATOR(pg_catalog.=) allowed_transitions.from_status
	ORDER BY s.rank, t.event NULLS FIRST;
END
$$;

CREATE FUNCTION statusflow.check_workflow(workflow text)
RETURNS TABLE (problem text, status text, detail text)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	PERFORM statusflow._workflow(workflow);
	RETURN QUERY
	WITH RECURSIVE reachable(status) AS (
		SELECT s.status FROM statusflow.status s
		WHERE s.workflow OPERATOR(pg_catalog.=) check_workflow.workflow
		  AND s.is_initial
		UNION
		SELECT t.to_status FROM statusflow.transition t
		JOIN reachable r ON r.status OPERATOR(pg_catalog.=) t.from_status
		WHERE t.workflow OPERATOR(pg_catalog.=) check_workflow.workflow
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

/*
 * Bindings
 */

/*
 * Create the triggers of a binding.  SECURITY DEFINER because the trigger
 * functions are not executable by PUBLIC; it only ever installs the triggers
 * that an existing binding row describes, and that row can only have been
 * written by the owner of the table (row-level security on the catalog).
 */
CREATE FUNCTION statusflow._install_triggers(binding integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
BEGIN
	SELECT * INTO b FROM statusflow.binding x WHERE x.id = _install_triggers.binding;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'binding % does not exist', binding
			USING ERRCODE = 'undefined_object';
	END IF;
	EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH ROW '
				   'EXECUTE FUNCTION statusflow.enforce(%L)',
				   'statusflow_' || b.id || '_insert', b.table_name, b.id);
	EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s FOR EACH ROW '
				   'WHEN (OLD.%I IS DISTINCT FROM NEW.%I) '
				   'EXECUTE FUNCTION statusflow.enforce(%L)',
				   'statusflow_' || b.id || '_update', b.table_name,
				   b.column_name, b.column_name, b.id);
	-- an UPDATE that moves a row between partitions: see src/trigger.c
	IF (SELECT relkind FROM pg_class WHERE oid = b.table_name) = 'p' THEN
		EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW '
					   'EXECUTE FUNCTION statusflow.enforce(%L)',
					   'statusflow_' || b.id || '_move', b.table_name, b.id);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_trigger
				   WHERE tgrelid = b.history_table
					 AND tgname = 'statusflow_append_only') THEN
		EXECUTE format('CREATE TRIGGER statusflow_append_only '
					   'BEFORE UPDATE OR DELETE OR TRUNCATE ON %s '
					   'FOR EACH STATEMENT '
					   'EXECUTE FUNCTION statusflow.history_append_only()',
					   b.history_table);
	END IF;
END
$$;

/* The binding of a table, by column when the table has several. */
CREATE FUNCTION statusflow._binding(table_name regclass, column_name name)
RETURNS statusflow.binding LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	n integer;
BEGIN
	PERFORM statusflow._require(table_name IS NOT NULL, 'table_name');
	SELECT count(*) INTO n FROM statusflow.binding x
	WHERE x.table_name = _binding.table_name
	  AND (_binding.column_name IS NULL OR x.column_name = _binding.column_name);
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
	WHERE x.table_name = _binding.table_name
	  AND (_binding.column_name IS NULL OR x.column_name = _binding.column_name);
	RETURN b;
END
$$;

CREATE FUNCTION statusflow.attach(table_name regclass,
								  column_name name,
								  workflow text,
								  history_table text DEFAULT NULL,
								  backfill boolean DEFAULT true)
RETURNS regclass LANGUAGE plpgsql
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
		'recorded_at', 'txid']::name[];
BEGIN
	PERFORM statusflow._require(table_name IS NOT NULL, 'table_name');
	PERFORM statusflow._require(column_name IS NOT NULL, 'column_name');
	w := statusflow._workflow(workflow);
	SELECT * INTO rel FROM pg_catalog.pg_class c
	WHERE c.oid OPERATOR(pg_catalog.=) table_name;
	IF rel.relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '% is not a table', table_name
			USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT statusflow._owns_relation(table_name) THEN
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

	hist_name := statusflow._qualified_name(
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
		'txid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id())',
		hist_name, key_defs, w.status_type, w.status_type,
		CASE WHEN w.allow_null THEN '' ELSE ' NOT NULL' END);
	hist := pg_catalog.to_regclass(hist_name);
	EXECUTE pg_catalog.format('CREATE INDEX ON %s (%s, history_id)', hist,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ')
		 FROM pg_catalog.unnest(keys) k));
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

	INSERT INTO statusflow.binding (table_name, column_name, workflow,
									history_table, key_columns)
	VALUES (table_name, column_name, w.name, hist, keys)
	RETURNING id INTO binding_id;
	PERFORM statusflow._install_triggers(binding_id);

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
AS $$
DECLARE
	b statusflow.binding;
	trigger_name name;
BEGIN
	b := statusflow._binding(table_name, column_name);
	IF NOT statusflow._owns_relation(b.table_name) THEN
		RAISE EXCEPTION 'must be owner of table %', b.table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	FOR trigger_name IN
		SELECT t.tgname FROM pg_catalog.pg_trigger t
		WHERE t.tgrelid OPERATOR(pg_catalog.=) b.table_name
		  AND NOT t.tgisinternal AND t.tgparentid OPERATOR(pg_catalog.=) 0
		  AND t.tgname OPERATOR(pg_catalog.=) ANY (ARRAY[
			  'statusflow_' || b.id || '_insert', 'statusflow_' || b.id || '_update',
			  'statusflow_' || b.id || '_move']::name[])
	LOOP
		EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', trigger_name,
								  b.table_name);
	END LOOP;
	DELETE FROM statusflow.binding x WHERE x.id OPERATOR(pg_catalog.=) b.id;
	RETURN b.history_table;
END
$$;

/*
 * Keep the catalog in step with DROP: a dropped table loses its binding (its
 * history stays), a dropped enum type takes its workflow along, and a history
 * table cannot be dropped while its binding lives.  SECURITY DEFINER because
 * ownership of a dropped table can no longer be checked by the policies.
 */
CREATE FUNCTION statusflow._on_sql_drop()
RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	orphan statusflow.binding;
BEGIN
	DELETE FROM statusflow.binding b
	WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = b.table_name);
	SELECT * INTO orphan FROM statusflow.binding b
	WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = b.history_table)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot drop the history table of %.%', orphan.table_name,
			quote_ident(orphan.column_name)
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Detach the column with statusflow.detach() first.';
	END IF;
	DELETE FROM statusflow.transition t
	WHERE t.workflow IN (SELECT w.name FROM statusflow.workflow w
						 WHERE NOT EXISTS (SELECT 1 FROM pg_type y
										   WHERE y.oid = w.status_type));
	DELETE FROM statusflow.status s
	WHERE s.workflow IN (SELECT w.name FROM statusflow.workflow w
						 WHERE NOT EXISTS (SELECT 1 FROM pg_type y
										   WHERE y.oid = w.status_type));
	DELETE FROM statusflow.workflow w
	WHERE NOT EXISTS (SELECT 1 FROM pg_type y WHERE y.oid = w.status_type);
END
$$;
REVOKE ALL ON FUNCTION statusflow._on_sql_drop() FROM PUBLIC;

CREATE EVENT TRIGGER statusflow_sql_drop ON sql_drop
	EXECUTE FUNCTION statusflow._on_sql_drop();

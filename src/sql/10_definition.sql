/*
 * Workflow definition: views, definition API, introspection
 */

/*
 * Introspection views (OR REPLACE: an upgrade keeps views users' views may
 * depend on)
 */

CREATE OR REPLACE VIEW statusflow.statuses AS
SELECT s.workflow, s.status, e.rank::integer AS rank, s.group_name,
	   s.description, s.is_initial, s.is_terminal, s.is_sticky, s.condition,
	   s.attributes
FROM statusflow.status s
JOIN statusflow.workflow w ON w.name OPERATOR(pg_catalog.=) s.workflow
JOIN LATERAL (
	SELECT pe.enumlabel::text AS label,
		   pg_catalog.row_number() OVER (ORDER BY pe.enumsortorder) AS rank
	FROM pg_catalog.pg_enum pe
	WHERE pe.enumtypid OPERATOR(pg_catalog.=) w.status_type::oid
) e ON e.label OPERATOR(pg_catalog.=) s.status;

CREATE OR REPLACE VIEW statusflow.workflows AS
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

CREATE OR REPLACE VIEW statusflow.transitions AS
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

CREATE OR REPLACE VIEW statusflow.timers AS
SELECT t.workflow, t.status, t.after, t.at_column, t.to_status, t.event, t.id
FROM statusflow.timer t
ORDER BY t.workflow, t.id;

CREATE OR REPLACE VIEW statusflow.quotas AS
SELECT q.workflow, q.statuses, q.per_column, q.max_entries, q.period,
	   q.overflow_status, q.id
FROM statusflow.quota q
ORDER BY q.workflow, q.id;

CREATE OR REPLACE VIEW statusflow.actions AS
SELECT a.workflow, a.on_enter, a.on_leave, a.on_event, a.action, a.id
FROM statusflow.action a
ORDER BY a.workflow, a.id;

CREATE OR REPLACE VIEW statusflow.bindings AS
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

/*
 * The labels of an existing enum type a new workflow takes as its status
 * type (a type of the user's, or one a dropped statusflow left behind):
 * the caller must own it, no other workflow may use it, and statuses, when
 * given, must be its labels in their order.
 */
CREATE FUNCTION statusflow_internal.adopted_labels(status_type regtype, statuses text[])
RETURNS text[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	labels text[];
	other text;
BEGIN
	PERFORM statusflow_internal.require(status_type IS NOT NULL, 'status_type');
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t
				   WHERE t.oid OPERATOR(pg_catalog.=) status_type
					 AND t.typtype OPERATOR(pg_catalog.=) 'e') THEN
		RAISE EXCEPTION 'type % exists and is not an enum type', status_type
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Choose another name with type_name.';
	END IF;
	IF NOT statusflow_internal.owns_type(status_type) THEN
		RAISE EXCEPTION 'must be owner of type % to make it a workflow''s', status_type
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT w.name INTO other FROM statusflow.workflow w
	WHERE w.status_type OPERATOR(pg_catalog.=) adopted_labels.status_type;
	IF FOUND THEN
		RAISE EXCEPTION 'type % is already the status type of workflow "%"',
			status_type, other
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Choose another name with type_name.';
	END IF;
	SELECT pg_catalog.array_agg(e.enumlabel::text ORDER BY e.enumsortorder) INTO labels
	FROM pg_catalog.pg_enum e WHERE e.enumtypid OPERATOR(pg_catalog.=) status_type;
	IF statuses IS NOT NULL AND statuses IS DISTINCT FROM labels THEN
		RAISE EXCEPTION 'statuses are not the labels of the existing type %', status_type
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('Type %s has the labels %s, in this order.',
											 status_type, coalesce(labels::text, '{}')),
				  HINT = 'Pass statuses => NULL to take the type''s labels, or choose another name with type_name.';
	END IF;
	RETURN labels;
END
$$;

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
	status_type regtype;
	bad text;
BEGIN
	-- on Citus, before the DDL Citus refuses on a worker
	PERFORM statusflow_internal.check_coordinator();
	PERFORM statusflow_internal.require(name IS NOT NULL, 'name');
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
	qualified := statusflow_internal.qualified_name(
		coalesce(type_name, name || '_status'), schema);
	status_type := pg_catalog.to_regtype(qualified);
	IF status_type IS NOT NULL THEN
		statuses := statusflow_internal.adopted_labels(status_type, statuses);
	END IF;
	PERFORM statusflow_internal.require(statuses IS NOT NULL, 'statuses');
	IF pg_catalog.cardinality(statuses) = 0 THEN
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

	IF status_type IS NULL THEN
		EXECUTE pg_catalog.format('CREATE TYPE %s AS ENUM (%s)', qualified,
			(SELECT pg_catalog.string_agg(pg_catalog.quote_literal(s), ', ' ORDER BY o)
			 FROM pg_catalog.unnest(statuses) WITH ORDINALITY AS u(s, o)));
		status_type := pg_catalog.to_regtype(qualified);
	END IF;

	INSERT INTO statusflow.workflow (name, status_type, allow_null, description,
									 monotonic)
	VALUES (name, status_type, coalesce(allow_null, false), description,
			coalesce(monotonic, false));
	INSERT INTO statusflow.status (workflow, status, is_initial, is_terminal)
	SELECT name, s, s OPERATOR(pg_catalog.=) ANY (initial),
		   s OPERATOR(pg_catalog.=) ANY (coalesce(terminal, '{}'))
	FROM pg_catalog.unnest(statuses) s;
	RETURN status_type;
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
	-- on Citus, before the DDL Citus refuses on a worker
	PERFORM statusflow_internal.check_coordinator();
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
										   sticky boolean DEFAULT NULL,
										   attributes jsonb DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.check_statuses(workflow, ARRAY[status], 'status');
	IF pg_catalog.jsonb_typeof(attributes) <> 'object' THEN
		RAISE EXCEPTION 'attributes must be a JSON object, not %', attributes
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass ''{}'' to clear them.';
	END IF;
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
		is_sticky = coalesce(sticky, s.is_sticky),
		attributes = coalesce(set_status_info.attributes, s.attributes)
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
	-- on Citus, before the DDL Citus refuses on a worker
	PERFORM statusflow_internal.check_coordinator();
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
	IF drop_type AND EXISTS (SELECT FROM pg_catalog.pg_type t
							 WHERE t.oid OPERATOR(pg_catalog.=) w.status_type) THEN
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
	PERFORM statusflow_internal.check_citus_quota(x.table_name, per_column)
	FROM statusflow.binding x WHERE x.workflow OPERATOR(pg_catalog.=) w.name;
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
 * Actions: a function f(change jsonb) returning void that a row's change
 * calls when it enters a status, leaves one, or takes an event (see
 * src/actions.c).  Exactly one of on_enter, on_leave and on_event.
 */
CREATE FUNCTION statusflow.add_action(workflow text,
									  action regprocedure,
									  on_enter text DEFAULT NULL,
									  on_leave text DEFAULT NULL,
									  on_event text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow;
	action_id integer;
BEGIN
	w := statusflow_internal.workflow(workflow);
	PERFORM statusflow_internal.check_owner(w);
	PERFORM statusflow_internal.require(action IS NOT NULL, 'action');
	IF pg_catalog.num_nonnulls(on_enter, on_leave, on_event) <> 1 THEN
		RAISE EXCEPTION 'an action runs on entering a status, on leaving one, or on an event'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give exactly one of on_enter, on_leave and on_event.';
	END IF;
	IF on_event IS NULL THEN
		PERFORM statusflow_internal.check_statuses(w.name, ARRAY[coalesce(on_enter, on_leave)],
												   'status');
	ELSIF NOT EXISTS (SELECT 1 FROM statusflow.transition t
					  WHERE t.workflow OPERATOR(pg_catalog.=) w.name
						AND t.event OPERATOR(pg_catalog.=) on_event) THEN
		RAISE EXCEPTION 'workflow "%" has no transition on event "%"', w.name, on_event
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM statusflow_internal.check_action(action, NULL);
	BEGIN
		INSERT INTO statusflow.action (workflow, on_enter, on_leave, on_event, action)
		VALUES (w.name, on_enter, on_leave, on_event, action)
		RETURNING id INTO action_id;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'workflow "%" already has this action', w.name
			USING ERRCODE = 'duplicate_object';
	END;
	RETURN action_id;
END
$$;

CREATE FUNCTION statusflow.remove_action(action_id integer)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a statusflow.action;
BEGIN
	SELECT * INTO a FROM statusflow.action x WHERE x.id OPERATOR(pg_catalog.=) action_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'action % does not exist', action_id
			USING ERRCODE = 'undefined_object',
				  HINT = 'The view statusflow.actions lists the actions.';
	END IF;
	PERFORM statusflow_internal.check_owner(statusflow_internal.workflow(a.workflow));
	DELETE FROM statusflow.action x WHERE x.id OPERATOR(pg_catalog.=) action_id;
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

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

/*
 * A workflow's type is an enum type, and a lasting one: a temporary type
 * goes with its session, which no drop event reports.
 */
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
	IF statusflow_internal.is_temporary((SELECT t.typnamespace FROM pg_type t
										 WHERE t.oid = NEW.status_type)) THEN
		RAISE EXCEPTION 'the type of workflow "%" cannot be temporary', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A temporary type goes with its session, the workflow would stay.';
	END IF;
	RETURN NEW;
END
$$;

/* Is a schema a temporary one, of this session or another? */
CREATE FUNCTION statusflow_internal.is_temporary(nsp oid)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT nsp = pg_my_temp_schema() OR pg_is_other_temp_schema(nsp)
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

/*
 * An action's function can run for every table bound to its workflow (the
 * signature, its own search_path, trust: see src/actions.c).
 */
CREATE FUNCTION statusflow_internal.check_action_row()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.check_action(NEW.action, NULL);
	PERFORM statusflow_internal.check_action(NEW.action, b.table_name)
	FROM statusflow.binding b WHERE b.workflow = NEW.workflow;
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
	-- attach() creates the triggers after the row; a data-only restore that
	-- left triggers on would load the catalog under tables that have them
	IF TG_OP = 'INSERT' AND EXISTS (
		SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE t.tgrelid = NEW.table_name AND t.tgenabled <> 'D'
		  AND p.pronamespace = 'statusflow_internal'::regnamespace
		  AND t.tgname LIKE 'statusflow\_' || NEW.id || '\_%') THEN
		RAISE EXCEPTION 'table % already has the triggers of statusflow binding %',
			NEW.table_name, NEW.id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'statusflow''s catalog is being loaded under tables whose triggers are on, as in a data-only restore without --disable-triggers.',
				  HINT = 'Restore data-only dumps with --disable-triggers (pg_dump or pg_restore, as a superuser).';
	END IF;
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
	IF EXISTS (SELECT 1 FROM pg_class c
			   WHERE c.oid IN (NEW.table_name, NEW.history_table)
				 AND statusflow_internal.is_temporary(c.relnamespace)) THEN
		RAISE EXCEPTION 'table % cannot be bound: it or its history table is temporary',
			NEW.table_name
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'A temporary table goes with its session, the binding would stay.';
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

/*
 * A binding's summaries are kept in two plain tables next to its history
 * table, owned by the history table's owner: reports read them with their
 * caller's rights, and folds write them as that owner (never a view, whose
 * functions would run with a reader's rights), with the columns of a
 * summary (disable_summaries() drops them).
 */
CREATE FUNCTION statusflow_internal.check_summary_row()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.counts = NEW.entities OR (
		SELECT pg_catalog.count(*) FROM pg_class c, pg_class h, statusflow.binding b
		WHERE b.id = NEW.binding_id AND h.oid = b.history_table
		  AND c.oid IN (NEW.counts, NEW.entities) AND c.relkind = 'r'
		  AND c.relowner = h.relowner AND c.relnamespace = h.relnamespace) <> 2
	   OR (SELECT pg_catalog.count(*) FROM pg_attribute a
		   WHERE a.attrelid = NEW.counts AND NOT a.attisdropped
			 AND a.attname IN ('kind', 'bucket', 'from_status', 'status', 'x', 'reached', 'n',
							   'total')) <> 8
	   OR (SELECT pg_catalog.count(*) FROM pg_attribute a
		   WHERE a.attrelid = NEW.entities AND NOT a.attisdropped
			 AND a.attname IN ('first_at', 'reached', 'last_id', 'last_status', 'last_at',
							   'regular')) <> 6 THEN
		RAISE EXCEPTION 'summary tables % and % are not summary tables of the history table''s owner next to it',
			NEW.counts, NEW.entities
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Keep summaries with statusflow.enable_summaries().';
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
CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON statusflow.action
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.check_action_row();
CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON statusflow.summary
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.check_summary_row();

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

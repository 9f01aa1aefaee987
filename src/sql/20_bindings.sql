/*
 * Bindings: attach, detach, and the triggers they install
 */

/*
 * AFTER INSERT / AFTER UPDATE row trigger of a binding: checks the change
 * against the workflow and appends the history row.  The trigger functions
 * are created OR REPLACE: users' triggers call them, so an upgrade keeps
 * them.
 */
CREATE OR REPLACE FUNCTION statusflow_internal.enforce()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_enforce';

/* Statement trigger of a history table: refuses UPDATE, DELETE, TRUNCATE. */
CREATE OR REPLACE FUNCTION statusflow_internal.history_append_only()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_history_append_only';

/*
 * BEFORE INSERT / BEFORE UPDATE row trigger, installed only for bindings that
 * need to change the row before it is written: quotas (diverting a change
 * to an overflow status) and entered-at columns.
 */
CREATE OR REPLACE FUNCTION statusflow_internal.prepare()
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
 * Raise unless a function can be an action (f(jsonb) returning void that
 * sets its own search_path), and, with a table, run for the table's rows
 * (owned by a superuser or the table's owner); see src/actions.c.
 */
CREATE FUNCTION statusflow_internal.check_action(action regprocedure, table_name regclass)
RETURNS void LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sf_check_action';

/*
 * The columns of a table the conditions of a workflow's statuses read
 * (guards.c), sorted; NULL when one reads the whole row.  Run as the
 * extension's owner by sync_binding_objects(); it only parses.
 */
CREATE FUNCTION statusflow_internal.condition_columns(condition text, table_name regclass)
RETURNS name[] LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sf_condition_columns';

CREATE FUNCTION statusflow_internal.invariant_columns(b statusflow.binding)
RETURNS name[] LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH c AS (
		SELECT statusflow_internal.condition_columns(s.condition, b.table_name) AS cols
		FROM statusflow.status s
		WHERE s.workflow = b.workflow AND s.condition IS NOT NULL)
	SELECT CASE WHEN EXISTS (SELECT 1 FROM c WHERE c.cols IS NULL) THEN NULL
				ELSE ARRAY(SELECT DISTINCT u FROM c, unnest(c.cols) u ORDER BY 1) END
$$;

/*
 * The triggers a binding needs on its table, as (name, CREATE TRIGGER, the
 * columns an UPDATE OF trigger watches).  Every name starts with
 * statusflow_<binding id>_.  The invariant trigger re-checks a status's
 * condition when an update that leaves the status touches a column the
 * condition reads (any column, when one reads the whole row).
 */
CREATE FUNCTION statusflow_internal.binding_triggers(b statusflow.binding)
RETURNS TABLE (trigger_name text, definition text, columns name[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n, d, t.cols FROM (
		SELECT * FROM (VALUES
			('insert', 'AFTER INSERT', NULL, 'enforce', true, NULL::name[]),
			('update', 'AFTER UPDATE', 'changed', 'enforce', true, NULL),
			-- an UPDATE that moves a row between partitions: see src/trigger.c
			('move', 'AFTER DELETE', NULL, 'enforce',
			 (SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = b.table_name), NULL),
			('prepare_insert', 'BEFORE INSERT', NULL, 'prepare',
			 statusflow_internal.needs_prepare(b), NULL),
			('prepare_update', 'BEFORE UPDATE', 'changed', 'prepare',
			 statusflow_internal.needs_prepare(b), NULL)
		) AS v(suffix, timing, cond, func, wanted, cols)
		UNION ALL
		SELECT 'invariant',
			   'AFTER UPDATE' || coalesce(' OF ' || (SELECT string_agg(quote_ident(c), ', ')
													 FROM unnest(i.cols) c), ''),
			   'stays', 'enforce', true, i.cols
		FROM (SELECT statusflow_internal.invariant_columns(b) AS cols) i
		WHERE EXISTS (SELECT 1 FROM statusflow.status s
					  WHERE s.workflow = b.workflow AND s.condition IS NOT NULL)
	) AS t(suffix, timing, cond, func, wanted, cols),
	LATERAL (SELECT 'statusflow_' || b.id || '_' || t.suffix AS n) name,
	LATERAL (SELECT format('CREATE TRIGGER %I %s ON %s FOR EACH ROW %s'
						   'EXECUTE FUNCTION statusflow_internal.%s(%L)',
						   name.n, t.timing, b.table_name,
						   CASE t.cond
								WHEN 'changed' THEN format('WHEN (OLD.%1$I IS DISTINCT FROM NEW.%1$I) ',
														   b.column_name)
								WHEN 'stays' THEN format('WHEN (OLD.%1$I IS NOT DISTINCT FROM NEW.%1$I) ',
														 b.column_name)
								ELSE '' END,
						   t.func, b.id) AS d) def
	WHERE t.wanted
$$;

/* The columns an UPDATE OF trigger watches, sorted; NULL for none. */
CREATE FUNCTION statusflow_internal.trigger_columns(trigger_oid oid)
RETURNS name[] LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT nullif(ARRAY(SELECT a.attname FROM pg_trigger g
						CROSS JOIN LATERAL unnest(g.tgattr::int2[]) k
						JOIN pg_attribute a ON a.attrelid = g.tgrelid AND a.attnum = k
						WHERE g.oid = trigger_oid ORDER BY 1), '{}')
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
	unsafe_triggers text;
	on_citus boolean;
BEGIN
	SELECT * INTO b FROM statusflow.binding x WHERE x.id = sync_binding_objects.binding;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	-- Citus copies the triggers to the shards only when told it may
	on_citus := (statusflow_internal.citus_table(b.table_name)).kind IS NOT NULL;
	IF on_citus THEN
		unsafe_triggers := statusflow_internal.citus_allow_triggers('on');
	END IF;
	-- an invariant trigger watching other columns is made again
	FOR t IN SELECT g.tgname FROM statusflow_internal.binding_triggers(b) w
			 JOIN pg_trigger g ON g.tgrelid = b.table_name AND g.tgname = w.trigger_name
			 WHERE statusflow_internal.trigger_columns(g.oid) IS DISTINCT FROM w.columns LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, b.table_name);
	END LOOP;
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
	-- Citus gives the shards of a distributed history no trigger that
	-- includes TRUNCATE (which it runs from the coordinator's table): there,
	-- TRUNCATE has a trigger of its own
	FOR t IN SELECT * FROM (VALUES
				('statusflow_append_only',
				 CASE WHEN on_citus THEN 'UPDATE OR DELETE' ELSE 'UPDATE OR DELETE OR TRUNCATE' END),
				('statusflow_append_only_truncate',
				 CASE WHEN on_citus THEN 'TRUNCATE' END)) v(tgname, events)
			 WHERE v.events IS NOT NULL
			   AND NOT EXISTS (SELECT 1 FROM pg_trigger
							   WHERE tgrelid = b.history_table AND tgname = v.tgname) LOOP
		EXECUTE format('CREATE TRIGGER %I BEFORE %s ON %s FOR EACH STATEMENT '
					   'EXECUTE FUNCTION statusflow_internal.history_append_only()',
					   t.tgname, t.events, b.history_table);
	END LOOP;
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
	PERFORM statusflow_internal.citus_allow_triggers(unsafe_triggers);
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

/*
 * A status's condition changed: the bindings of its workflow need their
 * invariant trigger to watch the columns it now reads.  Not on INSERT or
 * DELETE: a restore loads the catalog before the tables' triggers.
 */
CREATE FUNCTION statusflow_internal.sync_after_condition()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.sync_binding(b.id) FROM statusflow.binding b
	WHERE b.workflow = NEW.workflow;
	RETURN NULL;
END
$$;

CREATE TRIGGER sync_bindings AFTER UPDATE OF condition ON statusflow.status
	FOR EACH ROW WHEN (OLD.condition IS DISTINCT FROM NEW.condition)
	EXECUTE FUNCTION statusflow_internal.sync_after_condition();

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
	PERFORM statusflow_internal.check_action(a.action, table_name)
	FROM statusflow.action a WHERE a.workflow = check_fits.workflow;
END
$$;

/*
 * Create the history table hist_name of the binding of table_name's column
 * to workflow (its key columns keys), owned by the table's owner, with its
 * indexes; runs with the caller's rights.  dist_column: the distribution
 * column of a Citus-distributed table, which the history's unique keys
 * must include; the history is then distributed with the table.
 */
CREATE FUNCTION statusflow_internal.create_history(hist_name text,
												   table_name regclass,
												   column_name name,
												   keys name[],
												   workflow text,
												   dist_column name DEFAULT NULL)
RETURNS regclass LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w statusflow.workflow := statusflow_internal.workflow(workflow);
	-- the distribution column first in the unique keys, on Citus
	dist_key text := CASE WHEN dist_column IS NOT NULL
						  THEN pg_catalog.format('%I, ', dist_column) ELSE '' END;
	owner oid;
	key_defs text;
	nkeys bigint;
	hist regclass;
BEGIN
	PERFORM statusflow_internal.require(hist_name IS NOT NULL, 'hist_name');
	PERFORM statusflow_internal.require(column_name IS NOT NULL, 'column_name');
	PERFORM statusflow_internal.require(pg_catalog.cardinality(keys) > 0, 'keys');
	SELECT c.relowner INTO owner FROM pg_catalog.pg_class c
	WHERE c.oid OPERATOR(pg_catalog.=) table_name;
	PERFORM statusflow_internal.require(owner IS NOT NULL, 'table_name');
	-- each key column as the table has it: type, typmod and collation
	SELECT pg_catalog.string_agg(pg_catalog.format('%I %s NOT NULL', a.attname,
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
							   ', ' ORDER BY k.ord),
		   pg_catalog.count(*)
	INTO key_defs, nkeys
	FROM pg_catalog.unnest(keys) WITH ORDINALITY AS k(name, ord)
	JOIN pg_catalog.pg_attribute a
	  ON a.attrelid OPERATOR(pg_catalog.=) table_name
	 AND a.attname OPERATOR(pg_catalog.=) k.name
	 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid;
	IF nkeys OPERATOR(pg_catalog.<>) pg_catalog.cardinality(keys) THEN
		RAISE EXCEPTION 'keys % are not columns of table %', keys, table_name
			USING ERRCODE = 'undefined_column';
	END IF;
	EXECUTE pg_catalog.format(
		'CREATE TABLE %s ('
		'history_id bigint GENERATED ALWAYS AS IDENTITY, '
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
		'event_id text, '
		'PRIMARY KEY (%shistory_id))',
		hist_name, key_defs, w.status_type, w.status_type,
		CASE WHEN w.allow_null THEN '' ELSE ' NOT NULL' END, dist_key);
	hist := pg_catalog.to_regclass(hist_name);
	EXECUTE pg_catalog.format('CREATE INDEX ON %s (%s, history_id)', hist,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ')
		 FROM pg_catalog.unnest(keys) k));
	EXECUTE pg_catalog.format('CREATE UNIQUE INDEX ON %s (%sevent_id) '
							  'WHERE event_id IS NOT NULL', hist, dist_key);
	-- reports over a time window: history is appended in time order, so a
	-- BRIN index finds a window's rows for next to nothing per insert
	EXECUTE pg_catalog.format('CREATE INDEX ON %s USING brin (occurred_at)', hist);
	EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', hist,
		pg_catalog.pg_get_userbyid(owner));
	EXECUTE pg_catalog.format('COMMENT ON TABLE %s IS %L', hist,
		pg_catalog.format('statusflow history of %s.%I (workflow %s)',
						  table_name, column_name, w.name));
	IF dist_column IS NOT NULL THEN
		PERFORM statusflow_internal.citus_setup();
		EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)'
		USING hist, dist_column::text, table_name::text;
	END IF;
	RETURN hist;
END
$$;

/*
 * May attach() take the existing table history over as the history table of
 * table_name's binding of these key columns to a workflow of status_type?
 * Both tables must be the caller's, history no table statusflow uses, and
 * of the shape the history writer needs; raises otherwise (writer.c).
 */
CREATE FUNCTION statusflow_internal.adopt_history(history regclass,
												  table_name regclass,
												  keys name[],
												  status_type regtype)
RETURNS void LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sf_adopt_history';

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
	clash name;
	hist_name text;
	hist regclass;
	binding_id integer;
	adopted boolean;
	nulls bigint;
	citus record;
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
	citus := statusflow_internal.citus_table(table_name);
	PERFORM statusflow_internal.check_citus_table(table_name, column_name, citus.kind,
												  citus.dist_column);
	PERFORM statusflow_internal.check_citus_quota(table_name, q.per_column)
	FROM statusflow.quota q WHERE q.workflow OPERATOR(pg_catalog.=) w.name;
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

	SELECT pg_catalog.array_agg(a.attname ORDER BY k.ord) INTO keys
	FROM pg_catalog.pg_index i
	CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
	JOIN pg_catalog.pg_attribute a
	  ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
	 AND a.attnum OPERATOR(pg_catalog.=) k.attnum
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
	-- an existing table of the right shape is taken over, with its rows
	hist := pg_catalog.to_regclass(hist_name);
	adopted := hist IS NOT NULL;
	IF adopted AND citus.kind IS NOT NULL THEN
		RAISE EXCEPTION 'history table % of a distributed table cannot be taken over', hist
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'On Citus, attach() creates the history table and distributes it with the bound table.',
				  HINT = 'Name a history table that does not exist.';
	ELSIF adopted THEN
		PERFORM statusflow_internal.adopt_history(hist, table_name, keys, w.status_type);
	ELSE
		hist := statusflow_internal.create_history(hist_name, table_name, column_name,
												   keys, w.name, citus.dist_column);
	END IF;

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

	IF backfill AND NOT adopted THEN
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
	unsafe_triggers text;
BEGIN
	-- on Citus, before the DDL Citus refuses on a worker
	PERFORM statusflow_internal.check_coordinator();
	b := statusflow_internal.binding(table_name, column_name);
	IF NOT statusflow_internal.owns_relation(b.table_name) THEN
		RAISE EXCEPTION 'must be owner of table %', b.table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF (statusflow_internal.citus_table(b.table_name)).kind IS NOT NULL THEN
		unsafe_triggers := statusflow_internal.citus_allow_triggers('on');
	END IF;
	FOR trigger_name IN
		SELECT g.tgname FROM statusflow_internal.trigger_names(b.table_name, b.id) g
	LOOP
		EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', trigger_name,
								  b.table_name);
	END LOOP;
	PERFORM statusflow_internal.citus_allow_triggers(unsafe_triggers);
	PERFORM statusflow_internal.drop_summaries(b);
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
	used_by text;
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
	  AND b.history_table::oid IN (SELECT o.objid FROM pg_event_trigger_dropped_objects() o
								   WHERE o.classid = 'pg_class'::regclass
									 AND o.objsubid = 0)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot drop the history table of %.%', gone.table_name,
			quote_ident(gone.column_name)
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Detach the column with statusflow.detach() first.';
	END IF;
	-- summary tables stay while their binding keeps summaries
	SELECT pg_catalog.format('%s.%s', b.table_name, quote_ident(b.column_name)) INTO used_by
	FROM statusflow.summary s JOIN statusflow.binding b ON b.id = s.binding_id
	WHERE ARRAY[s.counts::oid, s.entities::oid] && ARRAY(
		SELECT o.objid FROM pg_event_trigger_dropped_objects() o
		WHERE o.classid = 'pg_class'::regclass AND o.objsubid = 0)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot drop the summary tables of %', used_by
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Stop keeping summaries with statusflow.disable_summaries() first.';
	END IF;
	-- an action's function stays while the action does
	SELECT pg_catalog.format('%s of workflow "%s"', a.id, a.workflow) INTO used_by
	FROM statusflow.action a
	WHERE a.action::oid IN (SELECT o.objid FROM pg_event_trigger_dropped_objects() o
							WHERE o.classid = 'pg_proc'::regclass)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot drop a function that is action %', used_by
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Remove the action with statusflow.remove_action() first.';
	END IF;
	-- statuses, transitions, quotas, timers and actions follow by foreign key
	DELETE FROM statusflow.workflow w
	WHERE NOT EXISTS (SELECT 1 FROM pg_type y WHERE y.oid = w.status_type);
END
$$;

CREATE EVENT TRIGGER statusflow_sql_drop ON sql_drop
	EXECUTE FUNCTION statusflow_internal.on_sql_drop();

/*
 * Before DROP EXTENSION statusflow: a warning naming the workflows and bound
 * tables that lose their definitions and enforcement (lifecycle.c).
 */
CREATE FUNCTION statusflow_internal.before_drop_extension()
RETURNS event_trigger LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sf_before_drop_extension';

CREATE EVENT TRIGGER statusflow_before_drop ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION statusflow_internal.before_drop_extension();

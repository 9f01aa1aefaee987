/*
 * Citus
 *
 * On a Citus cluster, workflows are defined and tables attached on the
 * coordinator; the row triggers Citus copies to the shards enforce them on
 * the workers (src/citus.c).  The workers' catalog tables are a copy of the
 * coordinator's, carried by the reference table
 * statusflow_internal.cluster_catalog: each catalog write on the
 * coordinator rewrites its one row in the same distributed transaction, and
 * a row trigger on each worker's placement loads it into that node's
 * catalog, whose invalidation then reaches every backend of the worker,
 * pooled connections included.  Nothing here runs without Citus but one
 * look at pg_extension per catalog statement.  See docs/citus-design.md.
 */

/* Does the database have the citus extension? */
CREATE FUNCTION statusflow_internal.citus_present()
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM pg_catalog.pg_extension e
				   WHERE e.extname OPERATOR(pg_catalog.=) 'citus')
$$;

/*
 * What Citus makes of a table: kind NULL (not a Citus table, or no Citus),
 * 'distributed' (hash-distributed by dist_column), 'reference', 'local'
 * (a Citus local table) or 'other' (append- or range-distributed).  Read
 * with EXECUTE: Citus's metadata tables exist only with Citus.
 */
CREATE FUNCTION statusflow_internal.citus_table(table_name regclass,
												OUT kind text, OUT dist_column name)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.require(table_name IS NOT NULL, 'table_name');
	IF NOT statusflow_internal.citus_present() THEN
		RETURN;
	END IF;
	EXECUTE 'SELECT CASE WHEN p.partmethod OPERATOR(pg_catalog.=) ''h'' THEN ''distributed'''
			'            WHEN p.partmethod OPERATOR(pg_catalog.=) ''n'''
			'             AND p.repmodel OPERATOR(pg_catalog.=) ''t'' THEN ''reference'''
			'            WHEN p.partmethod OPERATOR(pg_catalog.=) ''n'' THEN ''local'''
			'            ELSE ''other'' END,'
			'       CASE WHEN p.partmethod OPERATOR(pg_catalog.=) ''h'''
			'            THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)::pg_catalog.name END'
			' FROM pg_catalog.pg_dist_partition p'
			' WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1'
	INTO kind, dist_column USING table_name;
END
$$;

/*
 * Raise unless attach() can bind column_name of table_name, of Citus kind
 * kind (see citus_table()) distributed by dist_column: statusflow binds
 * hash-distributed tables, by a column other than the distribution column,
 * on the coordinator.
 */
CREATE FUNCTION statusflow_internal.check_citus_table(table_name regclass,
													  column_name name,
													  kind text,
													  dist_column name)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF kind IS NULL THEN
		RETURN;
	END IF;
	PERFORM statusflow_internal.check_coordinator();
	IF kind OPERATOR(pg_catalog.<>) 'distributed' THEN
		RAISE EXCEPTION 'statusflow does not bind columns of Citus % tables', kind
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = pg_catalog.format('Table %s is a Citus %s table; statusflow binds hash-distributed tables and plain PostgreSQL tables.',
											 table_name, kind),
				  HINT = 'Distribute the table with create_distributed_table(), or undistribute it with undistribute_table(), then attach.';
	ELSIF column_name OPERATOR(pg_catalog.=) dist_column THEN
		RAISE EXCEPTION 'column "%" of table % is its distribution column', column_name,
			table_name
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Citus does not change the distribution column of a row.',
				  HINT = 'Distribute the table by another column, such as the account.';
	END IF;
END
$$;

/*
 * Raise unless a quota counted per per_column can be kept for table_name:
 * quota usage is counted on the node that writes the change, which is
 * right only when all of a scope's rows are on one shard, that is when
 * per_column is the distribution column of a distributed table.
 */
CREATE FUNCTION statusflow_internal.check_citus_quota(table_name regclass,
													  per_column name)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record := statusflow_internal.citus_table(table_name);
BEGIN
	IF c.kind OPERATOR(pg_catalog.=) 'distributed' THEN
		PERFORM statusflow_internal.check_quota_column(table_name, per_column, c.dist_column);
	END IF;
END
$$;

/*
 * Raise unless a quota counted per per_column can be kept for table_name
 * distributed by dist_column (see check_citus_quota()).
 */
CREATE FUNCTION statusflow_internal.check_quota_column(table_name regclass,
													   per_column name,
													   dist_column name)
RETURNS void LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF per_column IS DISTINCT FROM dist_column THEN
		RAISE EXCEPTION 'a quota per column "%" cannot be kept on Citus-distributed table %',
			per_column, table_name
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = pg_catalog.format('Each worker counts the entries of its own shards; the rows of one value of "%s" may be on several.',
											 per_column),
				  HINT = pg_catalog.format('Count the quota per the distribution column, "%s".',
										   dist_column);
	END IF;
END
$$;

/* Raise when table_name is Citus-distributed: what is not supported there. */
CREATE FUNCTION statusflow_internal.check_not_distributed(table_name regclass, what text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF (statusflow_internal.citus_table(table_name)).kind OPERATOR(pg_catalog.=) 'distributed' THEN
		RAISE EXCEPTION '% is not supported on Citus-distributed table %', what, table_name
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'See "Running on Citus" in statusflow''s README.';
	END IF;
END
$$;

/* Is this node a Citus worker (Citus present, not the coordinator)? */
CREATE FUNCTION statusflow_internal.citus_worker()
RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	coordinator boolean;
BEGIN
	IF NOT statusflow_internal.citus_present() THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO coordinator;
	RETURN NOT coordinator;
END
$$;

/*
 * Raise on a Citus worker: statusflow's catalog is changed on the
 * coordinator, which sends it to the workers (each worker's copy is
 * replaced at the coordinator's next change).  The one check of every
 * catalog change: the statement triggers refuse_on_worker of the catalog
 * tables, attach() and distribute().
 */
CREATE FUNCTION statusflow_internal.check_coordinator()
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF statusflow_internal.citus_worker() THEN
		RAISE EXCEPTION 'statusflow''s catalog is changed on the Citus coordinator, not on a worker'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'The coordinator sends its catalog to the workers; a change made on a worker would be lost at its next change.',
				  HINT = 'Connect to the coordinator and run it there.';
	END IF;
END
$$;

/*
 * Set citus.enable_unsafe_triggers for the rest of the transaction, for
 * statusflow's own triggers on Citus tables (Citus refuses triggers on them
 * otherwise); returns the previous value, to put back.
 */
CREATE FUNCTION statusflow_internal.citus_allow_triggers(allow text)
RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	previous text := pg_catalog.current_setting('citus.enable_unsafe_triggers', true);
BEGIN
	IF allow IS NOT NULL AND previous IS NOT NULL THEN
		PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', allow, true);
	END IF;
	RETURN previous;
END
$$;

/*
 * SET LOCAL setting, one of statusflow's settings the workers read
 * (statusflow.context, statusflow.pruning), to value (NULL: its default),
 * on this node and on the workers' connections of the transaction: run by
 * statusflow's C code from a nested statement, where Citus sends SET LOCAL
 * to the workers when citus.propagate_set_commands is 'local'; that
 * setting is put back after.
 */
CREATE FUNCTION statusflow_internal.citus_set_local(setting text, value text)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	propagate text := pg_catalog.current_setting('citus.propagate_set_commands', true);
BEGIN
	IF setting IS NULL OR setting NOT IN ('statusflow.context', 'statusflow.pruning') THEN
		RAISE EXCEPTION 'statusflow sends only statusflow.context and statusflow.pruning to Citus''s workers'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF propagate IS NULL THEN
		RAISE EXCEPTION 'Citus is not loaded'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	SET LOCAL citus.propagate_set_commands = 'local';
	IF value IS NULL THEN
		EXECUTE pg_catalog.format('SET LOCAL %s TO DEFAULT', setting);
	ELSE
		EXECUTE pg_catalog.format('SET LOCAL %s = %L', setting, value);
	END IF;
	PERFORM pg_catalog.set_config('citus.propagate_set_commands', propagate, true);
END
$$;

/*
 * Set statusflow.context (citus_set_local()): the context of a transition
 * API call on a distributed table (binding NULL: clear it), as JSON.
 */
CREATE FUNCTION statusflow_internal.citus_context(binding integer, event text,
												  reason text, actor text,
												  metadata jsonb,
												  occurred_at timestamptz,
												  event_id text)
RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.citus_set_local('statusflow.context',
		CASE WHEN binding IS NOT NULL THEN
			pg_catalog.jsonb_build_object(
				'binding', binding, 'event', event, 'reason', reason,
				'actor', actor, 'metadata', metadata,
				'occurred_at', pg_catalog.to_jsonb(occurred_at), 'event_id', event_id)::text
		END)
$$;

/*
 * The shard of binding's distributed table that holds the row whose key
 * columns hold key (as text, in key order); NULL when the binding is not
 * on a distributed table.  With the caller's rights: the distribution
 * value is converted to its column's type here.
 */
CREATE FUNCTION statusflow_internal.citus_shard_of(binding integer, key text[])
RETURNS bigint LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	c record;
	shard bigint;
BEGIN
	SELECT * INTO b FROM statusflow.binding x WHERE x.id OPERATOR(pg_catalog.=) citus_shard_of.binding;
	IF NOT FOUND OR pg_catalog.cardinality(key) IS DISTINCT FROM
					 pg_catalog.cardinality(b.key_columns) THEN
		RETURN NULL;
	END IF;
	c := statusflow_internal.citus_table(b.table_name);
	IF c.kind IS DISTINCT FROM 'distributed' THEN
		RETURN NULL;
	END IF;
	EXECUTE pg_catalog.format('SELECT pg_catalog.get_shard_id_for_distribution_column($1, $2::%s)',
		(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid OPERATOR(pg_catalog.=) b.table_name
		   AND a.attname OPERATOR(pg_catalog.=) c.dist_column))
	INTO shard
	USING b.table_name, key[pg_catalog.array_position(b.key_columns, c.dist_column)];
	RETURN shard;
END
$$;

/*
 * A history_id for a history row the API writes itself (a repeated event,
 * an ingested event that changes nothing) for a row of binding's
 * distributed table held by shard (citus_shard_of()): drawn from the
 * identity sequence of the worker that holds the shard, as the rows its
 * triggers write are, so that an entity's rows stay in history_id order.
 * nextval() runs on that worker over a connection of its own
 * (master_run_on_worker), which sequences do not mind.  As the extension's
 * owner, who may use the sequence; runs no user code.  NULL when shard is
 * not a shard of the binding's table.
 */
CREATE FUNCTION statusflow_internal.citus_history_id(binding integer, shard bigint)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	id text;
BEGIN
	SELECT * INTO b FROM statusflow.binding x WHERE x.id OPERATOR(pg_catalog.=) citus_history_id.binding;
	IF NOT FOUND OR (statusflow_internal.citus_table(b.table_name)).kind
					IS DISTINCT FROM 'distributed' THEN
		RETURN NULL;
	END IF;
	EXECUTE 'SELECT r.result FROM pg_catalog.pg_dist_shard s'
			' JOIN pg_catalog.pg_dist_shard_placement p ON p.shardid OPERATOR(pg_catalog.=) s.shardid,'
			' pg_catalog.master_run_on_worker(ARRAY[p.nodename], ARRAY[p.nodeport],'
			'   ARRAY[pg_catalog.format(''SELECT pg_catalog.nextval(%L::pg_catalog.regclass)'','
			'         pg_catalog.pg_get_serial_sequence($3::pg_catalog.text, ''history_id''))], false) r'
			' WHERE s.shardid OPERATOR(pg_catalog.=) $1 AND s.logicalrelid OPERATOR(pg_catalog.=) $2'
			'   AND r.success LIMIT 1'
	INTO id USING shard, b.table_name, b.history_table;
	RETURN id::bigint;
END
$$;

/*
 * The catalog as the workers load it: each table's rows as JSON, where
 * types, tables, roles and functions are names (this function's
 * search_path qualifies them), never OIDs, which differ between nodes.
 */
CREATE FUNCTION statusflow_internal.catalog_payload()
RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object(
		'workflow', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') FROM statusflow.workflow x),
		'status', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') FROM statusflow.status x),
		'transition', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') FROM statusflow.transition x),
		'quota', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') FROM statusflow.quota x),
		'timer', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') FROM statusflow.timer x),
		'action', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') FROM statusflow.action x),
		'binding', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]') FROM statusflow.binding x))
$$;

/*
 * Is the catalog shared with Citus's workers: Citus present, this node the
 * coordinator, and cluster_catalog a reference table (citus_setup())?
 */
CREATE FUNCTION statusflow_internal.catalog_shared()
RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN statusflow_internal.citus_present()
		AND NOT statusflow_internal.citus_worker()
		AND (statusflow_internal.citus_table('statusflow_internal.cluster_catalog')).kind
			OPERATOR(pg_catalog.=) 'reference';
END
$$;

/*
 * Share the catalog with Citus's workers, on the coordinator: make
 * cluster_catalog a reference table (its trigger goes to every placement),
 * then write the catalog into it.  attach() calls it for the first Citus
 * table; it does nothing when done before or without Citus.  As the
 * extension's owner: the caller does not own cluster_catalog.
 */
CREATE FUNCTION statusflow_internal.citus_setup()
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	previous text;
BEGIN
	IF NOT statusflow_internal.citus_present() OR statusflow_internal.citus_worker()
	   OR statusflow_internal.catalog_shared() THEN
		RETURN;
	END IF;
	previous := statusflow_internal.citus_allow_triggers('on');
	EXECUTE 'SELECT pg_catalog.create_reference_table(''statusflow_internal.cluster_catalog'')';
	PERFORM statusflow_internal.citus_allow_triggers(previous);
	INSERT INTO statusflow_internal.cluster_catalog (id, generation, payload)
	VALUES (1, 1, statusflow_internal.catalog_payload())
	ON CONFLICT (id) DO UPDATE
	SET generation = statusflow_internal.cluster_catalog.generation OPERATOR(pg_catalog.+) 1,
		payload = excluded.payload;
END
$$;

/*
 * On the coordinator of a cluster sharing its catalog, write the catalog
 * into cluster_catalog, in this transaction: the workers load it (see
 * apply_catalog()) and change with it or not at all.  As the extension's
 * owner; runs no user code and writes only what the catalog holds.
 */
CREATE FUNCTION statusflow_internal.citus_publish()
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF statusflow_internal.citus_present() AND statusflow_internal.catalog_shared() THEN
		UPDATE statusflow_internal.cluster_catalog c
		SET generation = c.generation OPERATOR(pg_catalog.+) 1,
			payload = statusflow_internal.catalog_payload()
		WHERE c.id OPERATOR(pg_catalog.=) 1;
	END IF;
END
$$;

/*
 * Statement trigger on the catalog tables: on the coordinator of a cluster
 * sharing its catalog, write the catalog into cluster_catalog (in this
 * transaction, so the workers change with it or not at all).  As the
 * extension's owner; runs no user code.
 */
CREATE FUNCTION statusflow_internal.publish_catalog()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.citus_publish();
	RETURN NULL;
END
$$;

CREATE TRIGGER publish_catalog
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.workflow
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.publish_catalog();
CREATE TRIGGER publish_catalog
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.status
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.publish_catalog();
CREATE TRIGGER publish_catalog
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.transition
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.publish_catalog();
CREATE TRIGGER publish_catalog
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.binding
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.publish_catalog();
CREATE TRIGGER publish_catalog
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.quota
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.publish_catalog();
CREATE TRIGGER publish_catalog
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.timer
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.publish_catalog();
CREATE TRIGGER publish_catalog
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.action
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.publish_catalog();

/*
 * Trigger on the catalog tables, before each row changes (and before a
 * TRUNCATE): on a Citus worker, refuse (check_coordinator()), so that every
 * API function that changes the catalog (and any direct write) is refused
 * there, with its transaction, before its change is made.  Per row, so
 * that statements changing nothing pass (the event triggers' clean-ups
 * after a DROP on a worker).  Not fired when a worker loads the
 * coordinator's catalog (load_catalog() runs with session_replication_role
 * = replica).  Allowed in the connections Citus opens to run a
 * coordinator's statement (application_name "citus_internal gpid=...", as
 * Citus names its own backends): the catalog writes of statusflow's event
 * triggers there follow DDL Citus propagates (a dropped table, a renamed
 * enum value), and the coordinator's catalog, which replaces the worker's
 * in the same transaction, has them too.
 */
CREATE FUNCTION statusflow_internal.refuse_on_worker()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_setting('application_name') NOT LIKE 'citus\_internal gpid=%' THEN
		PERFORM statusflow_internal.check_coordinator();
	END IF;
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['workflow', 'status', 'transition', 'binding', 'quota', 'timer',
							 'action', 'feed', 'summary'] LOOP
		EXECUTE pg_catalog.format('CREATE TRIGGER refuse_on_worker '
								  'BEFORE INSERT OR UPDATE OR DELETE ON statusflow.%1$I '
								  'FOR EACH ROW EXECUTE FUNCTION statusflow_internal.refuse_on_worker(); '
								  'CREATE TRIGGER refuse_truncate_on_worker '
								  'BEFORE TRUNCATE ON statusflow.%1$I '
								  'FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.refuse_on_worker()', t);
	END LOOP;
END
$$;

/*
 * On a worker, replace the catalog with payload p (see catalog_payload()).
 * Names are resolved on this node; a binding whose table is not a Citus
 * table here (a coordinator's local table) is left out, and so are the
 * workflows whose type is missing.  The catalog's own checks ran on the
 * coordinator: the rows are loaded with triggers and foreign keys off
 * (session_replication_role), but for invalidate_cache, enabled ALWAYS,
 * which tells every backend of this node to reload.  One load at a time
 * (a lock on the bindings).  As the extension's owner; runs no user code.
 */
CREATE FUNCTION statusflow_internal.load_catalog(p jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	role text := pg_catalog.current_setting('session_replication_role');
	part text;
BEGIN
	IF NOT statusflow_internal.citus_worker() OR p IS NULL THEN
		RETURN;
	END IF;
	LOCK TABLE statusflow.binding IN SHARE ROW EXCLUSIVE MODE;
	PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
	DELETE FROM statusflow.action;
	DELETE FROM statusflow.timer;
	DELETE FROM statusflow.quota;
	DELETE FROM statusflow.binding;
	DELETE FROM statusflow.transition;
	DELETE FROM statusflow.status;
	DELETE FROM statusflow.workflow;
	INSERT INTO statusflow.workflow
	SELECT r.* FROM pg_catalog.jsonb_array_elements(p->'workflow') e,
		LATERAL pg_catalog.jsonb_populate_record(NULL::statusflow.workflow,
			CASE WHEN pg_catalog.to_regtype(e->>'status_type') IS NOT NULL THEN e END) r
	WHERE r.name IS NOT NULL;
	-- the tables of a workflow's parts: the rows of the workflows kept
	FOREACH part IN ARRAY ARRAY['status', 'transition', 'quota', 'timer', 'action'] LOOP
		EXECUTE pg_catalog.format(
			'INSERT INTO statusflow.%1$I SELECT r.* '
			'FROM pg_catalog.jsonb_populate_recordset(NULL::statusflow.%1$I, $1 OPERATOR(pg_catalog.->) %1$L) r '
			'WHERE r.workflow IN (SELECT w.name FROM statusflow.workflow w)', part)
		USING p;
	END LOOP;
	INSERT INTO statusflow.binding
	SELECT r.* FROM pg_catalog.jsonb_array_elements(p->'binding') e,
		LATERAL pg_catalog.jsonb_populate_record(NULL::statusflow.binding,
			CASE WHEN pg_catalog.to_regclass(e->>'table_name') IS NULL
					   OR pg_catalog.to_regclass(e->>'history_table') IS NULL THEN NULL
				 WHEN (statusflow_internal.citus_table(pg_catalog.to_regclass(e->>'table_name'))).kind
					  IS NOT NULL THEN e END) r
	WHERE r.id IS NOT NULL
	  AND r.workflow IN (SELECT w.name FROM statusflow.workflow w);
	DELETE FROM statusflow.quota_usage u
	WHERE u.binding_id NOT IN (SELECT b.id FROM statusflow.binding b)
	   OR u.quota_id NOT IN (SELECT q.id FROM statusflow.quota q);
	PERFORM pg_catalog.set_config('session_replication_role', role, true);
END
$$;

/* Row trigger of cluster_catalog, fired on every placement: load it. */
CREATE FUNCTION statusflow_internal.apply_catalog()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.load_catalog(NEW.payload);
	RETURN NULL;
END
$$;

/*
 * On a worker whose catalog lacks binding, which a trigger on a shard here
 * names: load the catalog from this node's placement of cluster_catalog.
 * A node added after the catalog was last written (citus_add_node) gets the
 * placement from Citus (replicate_reference_tables(), or the first shard
 * placed there) without the trigger that loads it firing; the shards
 * moved there carry the triggers of bindings it does not know.  Returns
 * whether the binding is known then.  Waits for a load in progress (the
 * lock load_catalog() takes), then loads only when still needed.  As the
 * extension's owner; runs no user code.
 */
CREATE FUNCTION statusflow_internal.citus_reload_catalog(binding integer)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	placement regclass;
	p jsonb;
BEGIN
	IF NOT statusflow_internal.citus_worker() THEN
		RETURN false;
	END IF;
	LOCK TABLE statusflow.binding IN SHARE ROW EXCLUSIVE MODE;
	IF EXISTS (SELECT FROM statusflow.binding b
			   WHERE b.id OPERATOR(pg_catalog.=) citus_reload_catalog.binding) THEN
		RETURN true;
	END IF;
	-- the placement itself: a query of the reference table would be Citus's
	EXECUTE 'SELECT pg_catalog.to_regclass(pg_catalog.shard_name(s.logicalrelid, s.shardid))'
			' FROM pg_catalog.pg_dist_shard s'
			' WHERE s.logicalrelid OPERATOR(pg_catalog.=) ''statusflow_internal.cluster_catalog''::pg_catalog.regclass'
	INTO placement;
	IF placement IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE pg_catalog.format('SELECT c.payload FROM %s c WHERE c.id OPERATOR(pg_catalog.=) 1', placement)
	INTO p;
	PERFORM statusflow_internal.load_catalog(p);
	RETURN EXISTS (SELECT FROM statusflow.binding b
				   WHERE b.id OPERATOR(pg_catalog.=) citus_reload_catalog.binding);
END
$$;

CREATE TRIGGER apply_catalog
	AFTER INSERT OR UPDATE ON statusflow_internal.cluster_catalog
	FOR EACH ROW EXECUTE FUNCTION statusflow_internal.apply_catalog();

-- invalidate_cache fires in the workers' loading too (see apply_catalog())
ALTER TABLE statusflow.workflow ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE statusflow.status ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE statusflow.transition ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE statusflow.binding ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE statusflow.quota ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE statusflow.timer ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE statusflow.action ENABLE ALWAYS TRIGGER invalidate_cache;

/*
 * Raise unless statusflow.distribute() can distribute table_name by
 * dist_column: checked before anything changes.  Citus present, on the
 * coordinator; the caller owns a plain, unpartitioned table bound by
 * statusflow and not yet a Citus table; the column exists, is no bound
 * status column and is one of every binding's key columns; the bindings'
 * quotas count per it; no feed or summaries; no trigger Citus refuses; each
 * history a plain table whose unique keys other than its primary key and
 * event ids include the column.
 */
CREATE FUNCTION statusflow_internal.check_distribute(table_name regclass,
													 dist_column name,
													 colocate_with text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel pg_catalog.pg_class;
	b statusflow.binding;
	other text;
BEGIN
	PERFORM statusflow_internal.require(table_name IS NOT NULL, 'table_name');
	PERFORM statusflow_internal.require(dist_column IS NOT NULL, 'distribution_column');
	PERFORM statusflow_internal.require(colocate_with IS NOT NULL, 'colocate_with');
	IF NOT statusflow_internal.citus_present() THEN
		RAISE EXCEPTION 'Citus is not installed in this database'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'statusflow.distribute() distributes a bound table on a Citus coordinator.';
	END IF;
	PERFORM statusflow_internal.check_coordinator();
	SELECT * INTO rel FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) table_name;
	IF NOT statusflow_internal.owns_relation(table_name) THEN
		RAISE EXCEPTION 'must be owner of table %', table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF (statusflow_internal.citus_table(table_name)).kind IS NOT NULL THEN
		RAISE EXCEPTION 'table % is already a Citus % table', table_name,
			(statusflow_internal.citus_table(table_name)).kind
			USING ERRCODE = 'invalid_table_definition',
				  HINT = 'statusflow.distribute() distributes a plain PostgreSQL table.';
	END IF;
	IF rel.relkind OPERATOR(pg_catalog.<>) 'r' OR rel.relispartition THEN
		RAISE EXCEPTION 'statusflow.distribute() does not distribute partitioned tables or partitions'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = pg_catalog.format('Table %s is partitioned or a partition.', table_name),
				  HINT = 'Detach the workflow, distribute the table with create_distributed_table(), then attach it again.';
	END IF;
	IF NOT EXISTS (SELECT FROM statusflow.binding x
				   WHERE x.table_name OPERATOR(pg_catalog.=) check_distribute.table_name) THEN
		RAISE EXCEPTION 'table % has no column bound by statusflow', table_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Distribute it with create_distributed_table().';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
				   WHERE a.attrelid OPERATOR(pg_catalog.=) table_name
					 AND a.attname OPERATOR(pg_catalog.=) dist_column
					 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) THEN
		RAISE EXCEPTION 'column "%" of table % does not exist', dist_column, table_name
			USING ERRCODE = 'undefined_column';
	END IF;
	-- what attach() refuses on a distributed table
	PERFORM statusflow_internal.check_citus_table(check_distribute.table_name, x.column_name,
												  'distributed', dist_column)
	FROM statusflow.binding x
	WHERE x.table_name OPERATOR(pg_catalog.=) check_distribute.table_name;
	FOR b IN SELECT * FROM statusflow.binding x
			 WHERE x.table_name OPERATOR(pg_catalog.=) check_distribute.table_name
			 ORDER BY x.id LOOP
		PERFORM statusflow_internal.check_quota_column(table_name, q.per_column, dist_column)
		FROM statusflow.quota q WHERE q.workflow OPERATOR(pg_catalog.=) b.workflow;
		IF NOT dist_column OPERATOR(pg_catalog.=) ANY (b.key_columns) THEN
			RAISE EXCEPTION 'column "%" is not a key column of the binding of %.%',
				dist_column, table_name, pg_catalog.quote_ident(b.column_name)
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = pg_catalog.format('History rows are keyed by %s; each entity''s history is kept on the shard of its row.',
												 pg_catalog.array_to_string(b.key_columns, ', ')),
					  HINT = 'Distribute the table by a column of its primary key, such as the account.';
		END IF;
		IF EXISTS (SELECT FROM statusflow.feed f WHERE f.binding_id OPERATOR(pg_catalog.=) b.id) THEN
			RAISE EXCEPTION 'the binding of %.% has change feeds', table_name,
				pg_catalog.quote_ident(b.column_name)
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'Change feeds are not supported on Citus-distributed tables.',
					  HINT = 'Drop them with statusflow.drop_feed() first.';
		END IF;
		IF EXISTS (SELECT FROM statusflow.summary s WHERE s.binding_id OPERATOR(pg_catalog.=) b.id) THEN
			RAISE EXCEPTION 'the binding of %.% keeps summaries', table_name,
				pg_catalog.quote_ident(b.column_name)
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'Summaries are not supported on Citus-distributed tables.',
					  HINT = 'Stop keeping them with statusflow.disable_summaries() first.';
		END IF;
		IF (statusflow_internal.citus_table(b.history_table)).kind IS NOT NULL THEN
			RAISE EXCEPTION 'history table % is already a Citus table', b.history_table
				USING ERRCODE = 'feature_not_supported',
					  HINT = 'Detach the workflow and attach it again after distributing the table.';
		END IF;
		SELECT pg_catalog.format('index %s', i.indexrelid::pg_catalog.regclass) INTO other
		FROM pg_catalog.pg_index i
		WHERE i.indrelid OPERATOR(pg_catalog.=) b.history_table AND i.indisunique
		  AND NOT i.indisprimary
		  AND NOT statusflow_internal.is_event_id_index(i.indexrelid)
		  AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
						  WHERE a.attrelid OPERATOR(pg_catalog.=) b.history_table
							AND a.attname OPERATOR(pg_catalog.=) dist_column
							AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::int2[]))
		LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'history table % has a unique % without column "%"',
				b.history_table, other, dist_column
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'Citus keeps unique keys of distributed tables only when they include the distribution column.',
					  HINT = 'Drop the index, or add the distribution column to it.';
		END IF;
	END LOOP;
	-- Citus refuses other triggers unless told it may (statusflow's own go
	-- and come back)
	IF NOT pg_catalog.current_setting('citus.enable_unsafe_triggers')::boolean THEN
		SELECT pg_catalog.format('trigger %I on %s', g.tgname, g.tgrelid::pg_catalog.regclass)
		INTO other
		FROM pg_catalog.pg_trigger g
		WHERE NOT g.tgisinternal
		  AND ((g.tgrelid OPERATOR(pg_catalog.=) check_distribute.table_name
				AND NOT EXISTS (SELECT FROM statusflow.binding x
								WHERE x.table_name OPERATOR(pg_catalog.=) check_distribute.table_name
								  AND g.tgname IN (SELECT statusflow_internal.trigger_names(x.table_name, x.id))))
			   OR (g.tgrelid IN (SELECT x.history_table FROM statusflow.binding x
								 WHERE x.table_name OPERATOR(pg_catalog.=) check_distribute.table_name)
				   AND g.tgname NOT IN ('statusflow_append_only', 'statusflow_append_only_truncate')))
		LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'Citus does not distribute a table with %', other
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'Citus refuses triggers on distributed tables unless citus.enable_unsafe_triggers is on.',
					  HINT = 'Drop the trigger, or set citus.enable_unsafe_triggers if it is safe on every shard.';
		END IF;
	END IF;
END
$$;

/* Is index a unique index of event ids (event_id), as the history's? */
CREATE FUNCTION statusflow_internal.is_event_id_index(index regclass)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT i.indisunique AND i.indnatts OPERATOR(pg_catalog.=) 1
		AND a.attname OPERATOR(pg_catalog.=) 'event_id'
	FROM pg_catalog.pg_index i
	JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
								  AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]
	WHERE i.indexrelid OPERATOR(pg_catalog.=) index
$$;

/*
 * Give binding b's history table the keys attach() gives the history of a
 * table distributed by dist_column (primary key (dist_column, history_id),
 * event ids unique per dist_column), then distribute it by that column,
 * co-located with the bound table, with its rows.  Its append-only trigger
 * goes (Citus refuses triggers); sync_binding() puts it back.
 */
CREATE FUNCTION statusflow_internal.distribute_history(b statusflow.binding,
													   dist_column name)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ix record;
BEGIN
	EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS statusflow_append_only ON %1$s; '
							  'DROP TRIGGER IF EXISTS statusflow_append_only_truncate ON %1$s',
							  b.history_table);
	FOR ix IN SELECT i.indexrelid::pg_catalog.regclass AS name, i.indisprimary AS pk, co.conname
			  FROM pg_catalog.pg_index i
			  LEFT JOIN pg_catalog.pg_constraint co
				ON co.conindid OPERATOR(pg_catalog.=) i.indexrelid
			   AND co.conrelid OPERATOR(pg_catalog.=) i.indrelid
			  WHERE i.indrelid OPERATOR(pg_catalog.=) b.history_table
				AND (i.indisprimary OR statusflow_internal.is_event_id_index(i.indexrelid)) LOOP
		IF ix.conname IS NOT NULL THEN
			EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', b.history_table,
									  ix.conname);
		ELSE
			EXECUTE pg_catalog.format('DROP INDEX %s', ix.name);
		END IF;
	END LOOP;
	EXECUTE pg_catalog.format('ALTER TABLE %s ADD PRIMARY KEY (%I, history_id)',
							  b.history_table, dist_column);
	EXECUTE pg_catalog.format('CREATE UNIQUE INDEX ON %s (%I, event_id) WHERE event_id IS NOT NULL',
							  b.history_table, dist_column);
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)'
	USING b.history_table, dist_column::text, b.table_name::text;
	EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)'
	USING b.history_table;
END
$$;

CREATE FUNCTION statusflow.distribute(table_name regclass,
									  distribution_column name,
									  colocate_with text DEFAULT 'default',
									  shard_count integer DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	trigger_name name;
BEGIN
	PERFORM statusflow_internal.check_distribute(table_name, distribution_column, colocate_with);
	-- statusflow's triggers go while Citus distributes the table, then come back
	FOR b IN SELECT * FROM statusflow.binding x
			 WHERE x.table_name OPERATOR(pg_catalog.=) distribute.table_name
			 ORDER BY x.id LOOP
		FOR trigger_name IN SELECT g.tgname FROM statusflow_internal.trigger_names(b.table_name, b.id) g LOOP
			EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', trigger_name, b.table_name);
		END LOOP;
	END LOOP;
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3, shard_count => $4)'
	USING table_name, distribution_column::text, colocate_with, shard_count;
	EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)'
	USING table_name;
	PERFORM statusflow_internal.citus_setup();
	FOR b IN SELECT * FROM statusflow.binding x
			 WHERE x.table_name OPERATOR(pg_catalog.=) distribute.table_name
			 ORDER BY x.id LOOP
		PERFORM statusflow_internal.distribute_history(b, distribution_column);
		PERFORM statusflow_internal.sync_binding(b.id);
	END LOOP;
	-- the workers load the bindings of the table, now distributed there
	PERFORM statusflow_internal.citus_publish();
END
$$;

-- A table named like a history shard, in a schema first on the search_path
-- of a session on a worker, receives nothing: the shard's trigger finds its
-- history shard by its qualified name, under a pinned search_path.  (With
-- the name resolved through the session's path, the history rows went into
-- the squatter's tables.)
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SELECT statusflow.create_workflow('sp', ARRAY['a', 'b'], ARRAY['a'], ARRAY['b']) IS NOT NULL AS created;
SELECT statusflow.add_transition('sp', ARRAY['a'], 'b', 'go') > 0 AS t;
CREATE TABLE sp (account_id bigint, id bigint, status sp_status NOT NULL DEFAULT 'a',
	PRIMARY KEY (account_id, id));
SELECT create_distributed_table('sp', 'account_id', shard_count => 2);
SELECT statusflow.attach('sp', 'status', 'sp');
INSERT INTO sp (account_id, id) SELECT a, 1 FROM generate_series(1, 8) a;

-- on a worker: the squatter's copies of the history shards there, then
-- every row of the bound table's shards there changed with the squatter's
-- schema first on the path
\getenv worker_port SF_CITUS_WORKER1
\c - - - :worker_port
SET client_min_messages = warning;
SET citus.override_table_visibility = off;
SET citus.enable_ddl_propagation = off;
CREATE SCHEMA squat;
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT c.relname FROM pg_class c
			 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
			   AND c.relname ~ '^sp_status_history_[0-9]+$' LOOP
		EXECUTE format('CREATE TABLE squat.%I (LIKE public.%I)', r.relname, r.relname);
	END LOOP;
END $$;
SELECT count(*) > 0 AS squatting FROM pg_class WHERE relnamespace = 'squat'::regnamespace;
SET search_path = squat, public;
SET citus.enable_manual_changes_to_shards = on;
CREATE TEMP TABLE changed (n bigint);
DO $$
DECLARE
	r record;
	n bigint;
BEGIN
	FOR r IN SELECT c.relname FROM pg_class c
			 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
			   AND c.relname ~ '^sp_[0-9]+$' LOOP
		EXECUTE format('UPDATE public.%I SET status = ''b''', r.relname);
		GET DIAGNOSTICS n = ROW_COUNT;
		INSERT INTO changed VALUES (n);
	END LOOP;
END $$;
SELECT sum(n) > 0 AS changed FROM changed;
-- the squatter's tables got nothing
DO $$
DECLARE
	r record;
	n bigint;
	total bigint := 0;
BEGIN
	FOR r IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'squat'::regnamespace LOOP
		EXECUTE format('SELECT count(*) FROM squat.%I', r.relname) INTO n;
		total := total + n;
	END LOOP;
	RAISE WARNING 'rows in the squatter''s tables: %', total;
END $$;
-- every change of this worker's shards is in the real history
SELECT (SELECT sum(n) FROM changed) = (SELECT count(*) FROM public.sp_status_history
									   WHERE to_status = 'b') AS recorded;
RESET search_path;
DROP SCHEMA squat CASCADE;

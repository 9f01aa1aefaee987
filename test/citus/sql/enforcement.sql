-- statusflow on a Citus cluster (a coordinator and two workers), through the
-- coordinator.  Refusals print their message, DETAIL and HINT, then their
-- SQLSTATE; CONTEXT lines (which name the worker's port) are not shown.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
-- roles reach the workers (Citus creates them there); the guards see them
CREATE ROLE sf_citus_agent LOGIN;
CREATE ROLE sf_citus_other LOGIN;
SELECT statusflow.create_workflow('simple', ARRAY['new', 'done'], ARRAY['new'],
	ARRAY['done']) IS NOT NULL AS created;
SELECT statusflow.add_transition('simple', ARRAY['new'], 'done', 'finish') > 0 AS t;

SELECT statusflow.create_workflow('inv',
	ARRAY['invited', 'sent', 'opened', 'accepted', 'expired', 'paused'],
	ARRAY['invited'], ARRAY['accepted', 'expired']) IS NOT NULL AS created;
SELECT statusflow.add_transition('inv', ARRAY['invited'], 'sent', 'send') > 0 AS t;
SELECT statusflow.add_transition('inv', ARRAY['sent'], 'opened', 'open') > 0 AS t;
-- guards: a role, a row condition, a use limit, back to the previous status
SELECT statusflow.add_transition('inv', ARRAY['opened'], 'accepted', 'accept',
	roles => ARRAY['sf_citus_agent']) > 0 AS t;
SELECT statusflow.add_transition('inv', ARRAY['sent', 'opened'], 'expired', 'expire',
	condition => 'email IS NOT NULL') > 0 AS t;
SELECT statusflow.add_transition('inv', ARRAY['opened'], 'sent', 'resend', max_uses => 1) > 0 AS t;
SELECT statusflow.add_transition('inv', ARRAY['sent', 'opened'], 'paused', 'pause') > 0 AS t;
SELECT statusflow.add_transition('inv', ARRAY['paused'], NULL, 'resume',
	restore_previous => true) > 0 AS t;

-- 1. attach on a distributed table: the history is distributed with it
CREATE TABLE invitations (account_id bigint, id bigint, email text,
	status inv_status NOT NULL DEFAULT 'invited', PRIMARY KEY (account_id, id));
SELECT create_distributed_table('invitations', 'account_id', shard_count => 8);
INSERT INTO invitations (account_id, id, email)
SELECT a, i, 'x' || i FROM generate_series(1, 4) a, generate_series(1, 2) i;
SELECT statusflow.attach('invitations', 'status', 'inv');
SELECT p.logicalrelid, p.partmethod,
       column_to_column_name(p.logicalrelid, p.partkey) AS dist_column,
       p.colocationid = (SELECT colocationid FROM pg_dist_partition
                         WHERE logicalrelid = 'invitations'::regclass) AS colocated
FROM pg_dist_partition p
WHERE p.logicalrelid IN ('invitations'::regclass, 'invitations_status_history'::regclass)
ORDER BY 1;
-- the backfill: one row per entity, on its shard
SELECT to_status, event, count(*) FROM invitations_status_history GROUP BY 1, 2;
-- the history's keys include the distribution column
SELECT pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'invitations_status_history'::regclass AND contype = 'p';

-- refusals of attach: the distribution column, a reference table
CREATE TABLE by_status (account_id bigint, status simple_status NOT NULL, PRIMARY KEY (status, account_id));
SELECT create_distributed_table('by_status', 'status');
SELECT statusflow.attach('by_status', 'status', 'simple');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE ref_inv (id bigint PRIMARY KEY, status simple_status NOT NULL DEFAULT 'new');
SELECT create_reference_table('ref_inv');
SELECT statusflow.attach('ref_inv', 'status', 'simple');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS bindings FROM statusflow.binding;

-- 2. every write path, checked on the workers
-- single-row UPDATE (router)
UPDATE invitations SET status = 'sent' WHERE account_id = 1 AND id = 1;
-- an undeclared transition
UPDATE invitations SET status = 'accepted' WHERE account_id = 1 AND id = 1;
\echo :LAST_ERROR_SQLSTATE
-- multi-shard UPDATE
UPDATE invitations SET status = 'sent' WHERE status = 'invited' AND id = 1;
UPDATE invitations SET status = CASE WHEN account_id = 1 THEN 'accepted' ELSE status END
WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
-- INSERT in an initial status, and not
INSERT INTO invitations (account_id, id, email) VALUES (5, 1, 'e');
INSERT INTO invitations (account_id, id, status) VALUES (5, 2, 'sent');
\echo :LAST_ERROR_SQLSTATE
-- INSERT ... SELECT between shards
INSERT INTO invitations (account_id, id, email)
SELECT account_id + 10, id, email FROM invitations WHERE account_id <= 2;
-- COPY
COPY invitations (account_id, id, email) FROM stdin;
6	1	c
6	2	c
\.
COPY invitations (account_id, id, status) FROM stdin;
7	1	opened
\.
-- Citus 13.2 passes a worker's COPY error on with its message and detail,
-- and its SQLSTATE on PostgreSQL 15 only (XX000 on 17)
SELECT :'LAST_ERROR_SQLSTATE' = '23514'
	OR (current_setting('server_version_num')::int >= 170000
		AND :'LAST_ERROR_SQLSTATE' = 'XX000') AS copy_refused;
SELECT count(*) FROM invitations WHERE account_id = 7;

-- the API through the coordinator
SELECT statusflow.transition('invitations', ROW(2, 1), 'opened',
	reason => 'clicked', actor => 'alice', metadata => '{"via": "mail"}');
SELECT statusflow.transition('invitations', '(2,1)', 'invited');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.fire('invitations', ROW(3, 1), 'open', actor => 'bob');
SELECT statusflow.fire('invitations', ROW(3, 2), 'open');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.transition_many('invitations', ARRAY[ROW(4, 1), ROW(4, 2)], 'sent');
-- fire_many locks each key's row on its shard
SELECT statusflow.fire_many('invitations', ARRAY[ROW(11, 1), ROW(12, 2), ROW(99, 9)], 'send');
SELECT account_id, id, status FROM invitations WHERE account_id IN (11, 12) ORDER BY 1, 2;
SELECT statusflow.fire_many('invitations', ARRAY[ROW(11, 1), ROW(11, 2)], 'open');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.ingest('invitations', ROW(6, 1), 'send', event_id => 'evt-1');
SELECT statusflow.ingest('invitations', ROW(6, 1), 'send', event_id => 'evt-1');
-- ingest_batch() on a distributed table takes its receipts one at a time
SELECT * FROM statusflow.ingest_batch('invitations', ARRAY[ROW(12, 1), ROW(12, 1), ROW(12, 1)],
	ARRAY['send', 'send', 'open'], event_ids => ARRAY['b-1', 'b-1', 'b-2']);
SELECT from_status, to_status, event, applied, event_id FROM invitations_status_history
WHERE account_id = 12 AND id = 1 ORDER BY history_id;
-- the API's own history rows (a repeated event, an ingested event that
-- changes nothing) go to the row's shard too
SELECT statusflow.add_transition('inv', ARRAY['sent'], 'sent', 'remind') > 0 AS t;
SELECT statusflow.fire('invitations', ROW(6, 1), 'remind', actor => 'carol');
SELECT statusflow.remove_transition('inv', ARRAY['sent'], 'sent', 'remind');
SELECT statusflow.ingest('invitations', ROW(6, 1), 'send', event_id => 'evt-2');
SELECT statusflow.ingest('invitations', ROW(6, 1), 'send', event_id => 'evt-2');
SELECT from_status, to_status, event, actor, applied, event_id FROM invitations_status_history
WHERE account_id = 6 AND id = 1 ORDER BY history_id;
-- who and why reached the workers' history rows
SELECT account_id, id, from_status, to_status, event, actor, reason, metadata, event_id
FROM invitations_status_history
WHERE (account_id, id) IN ((2, 1), (3, 1), (6, 1)) AND event IS DISTINCT FROM 'attach'
ORDER BY account_id, id, history_id;

-- a plain UPDATE's who and why: statusflow.actor and reason set with SET
-- LOCAL reach the workers when Citus sends SET LOCAL along; set_config()
-- is not sent
INSERT INTO invitations (account_id, id, email) VALUES (40, 1, 'a'), (41, 1, 'b');
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL statusflow.actor = 'dave';
SET LOCAL statusflow.reason = 'manual fix';
UPDATE invitations SET status = 'sent' WHERE account_id = 40;
COMMIT;
BEGIN;
SELECT set_config('statusflow.actor', 'erin', true) IS NOT NULL AS set;
UPDATE invitations SET status = 'sent' WHERE account_id = 41;
COMMIT;
SELECT account_id, to_status, actor, reason FROM invitations_status_history
WHERE account_id IN (40, 41) AND to_status = 'sent' ORDER BY 1;

-- guards on the workers: roles
GRANT SELECT, UPDATE ON invitations TO sf_citus_agent, sf_citus_other;
SET ROLE sf_citus_other;
SELECT statusflow.fire('invitations', ROW(2, 1), 'accept');
\echo :LAST_ERROR_SQLSTATE
UPDATE invitations SET status = 'accepted' WHERE account_id = 2 AND id = 1;
\echo :LAST_ERROR_SQLSTATE
SET ROLE sf_citus_agent;
SELECT statusflow.fire('invitations', ROW(2, 1), 'accept');
RESET ROLE;
SELECT db_role FROM invitations_status_history WHERE account_id = 2 AND id = 1 AND to_status = 'accepted';
-- a row condition
UPDATE invitations SET email = NULL WHERE account_id = 3 AND id = 1;
UPDATE invitations SET status = 'expired' WHERE account_id = 3 AND id = 1;
\echo :LAST_ERROR_SQLSTATE
-- uses: resend once
SELECT statusflow.fire('invitations', ROW(3, 1), 'resend');
SELECT statusflow.fire('invitations', ROW(3, 1), 'open');
UPDATE invitations SET status = 'sent' WHERE account_id = 3 AND id = 1;
\echo :LAST_ERROR_SQLSTATE
-- back to the previous status
SELECT statusflow.fire('invitations', ROW(4, 1), 'pause');
UPDATE invitations SET status = 'opened' WHERE account_id = 4 AND id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.fire('invitations', ROW(4, 1), 'resume');

-- quotas per account (the distribution column): two entries into "opened"
-- per account and day
SELECT statusflow.set_quota('inv', ARRAY['opened'], 'account_id', 2, 'day') > 0 AS q;
INSERT INTO invitations (account_id, id, email) SELECT 20, i, 'q' FROM generate_series(1, 3) i;
UPDATE invitations SET status = 'sent' WHERE account_id = 20;
UPDATE invitations SET status = 'opened' WHERE account_id = 20 AND id <= 2;
UPDATE invitations SET status = 'opened' WHERE account_id = 20 AND id = 3;
\echo :LAST_ERROR_SQLSTATE
-- another account has its own count
INSERT INTO invitations (account_id, id, email) VALUES (21, 1, 'q');
SELECT statusflow.fire('invitations', ROW(21, 1), 'send');
SELECT statusflow.fire('invitations', ROW(21, 1), 'open');
SELECT statusflow.remove_quota('inv', ARRAY['opened']);
-- a quota per another column, a feed: refused on a distributed table
SELECT statusflow.set_quota('inv', ARRAY['opened'], 'id', 2, 'day');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.create_feed('invitations', 'mailer');
\echo :LAST_ERROR_SQLSTATE
-- summaries fold by snapshots, which are each node's own
SELECT statusflow.enable_summaries('invitations');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS summaries FROM statusflow.summary;
-- the history's shards are append-only; pruning works (distribute.sql),
-- here it finds nothing older than a day
DELETE FROM invitations_status_history WHERE account_id = 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE invitations_status_history SET actor = 'x' WHERE account_id = 1;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE invitations_status_history;
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.prune_history('invitations', now() - interval '1 day');

-- 3. a workflow changed on the coordinator applies on every node at the
-- next statement, pooled connections to the workers included: this
-- session's connections are open when another session changes the workflow
UPDATE invitations SET status = 'sent' WHERE account_id = 5 AND id = 1;
\! psql -X -q -c "SELECT statusflow.add_transition('inv', ARRAY['sent'], 'accepted', 'shortcut')" >/dev/null
UPDATE invitations SET status = 'accepted' WHERE account_id = 5 AND id = 1;
\! psql -X -q -c "SELECT statusflow.remove_transition('inv', ARRAY['sent'], 'accepted', 'shortcut')" >/dev/null
UPDATE invitations SET status = 'accepted' WHERE account_id = 6 AND id = 1;
\echo :LAST_ERROR_SQLSTATE
-- the workers' catalogs
SELECT result FROM run_command_on_workers($$
	SELECT count(*) || ' transitions, ' ||
	       (SELECT count(*) FROM statusflow.binding) || ' binding'
	FROM statusflow.transition$$);

-- every entity's history is a chain of declared transitions ending at its status
WITH h AS (
	SELECT account_id, id, from_status, to_status,
	       lag(to_status) OVER w AS before,
	       row_number() OVER w AS n, count(*) OVER (PARTITION BY account_id, id) AS total
	FROM invitations_status_history
	WINDOW w AS (PARTITION BY account_id, id ORDER BY history_id))
SELECT count(*) AS rows,
       count(*) FILTER (WHERE from_status IS DISTINCT FROM before) AS broken_links
FROM h;
SELECT count(*) AS entities,
       count(*) FILTER (WHERE i.status IS DISTINCT FROM (
			SELECT h.to_status FROM invitations_status_history h
			WHERE h.account_id = i.account_id AND h.id = i.id
			ORDER BY h.history_id DESC LIMIT 1)) AS wrong_last
FROM invitations i;

-- 1. the other order: attach, then distribute (statusflow.distribute(),
-- tested in distribute.sql).  create_distributed_table() naming a bound
-- table is refused by statusflow before it runs; named by a variable, which
-- statusflow does not see, Citus refuses a table with triggers before any
-- change, and with citus.enable_unsafe_triggers, the copy into the shards
-- is refused by statusflow on the workers (Citus reports errors of that
-- copy as XX000, without their hint): nothing changes
CREATE TABLE later (account_id bigint, id bigint, status simple_status NOT NULL DEFAULT 'new',
	PRIMARY KEY (account_id, id));
INSERT INTO later VALUES (1, 1), (2, 1);
SELECT statusflow.attach('later', 'status', 'simple');
SELECT create_distributed_table('later', 'account_id');
\echo :LAST_ERROR_SQLSTATE
SET citus.enable_unsafe_triggers = on;
DO $$ DECLARE t text := 'later'; BEGIN PERFORM create_distributed_table(t, 'account_id'); END $$;
\echo :LAST_ERROR_SQLSTATE
RESET citus.enable_unsafe_triggers;
SELECT count(*) AS distributed FROM pg_dist_partition WHERE logicalrelid = 'later'::regclass;
-- what the hint says: detach, distribute, attach again
SELECT statusflow.detach('later');
SELECT create_distributed_table('later', 'account_id');
SELECT statusflow.attach('later', 'status', 'simple', history_table => 'later_history');
UPDATE later SET status = 'done' WHERE account_id = 1;
UPDATE later SET status = 'new' WHERE account_id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT account_id, from_status, to_status FROM later_history ORDER BY account_id, history_id;

-- tick() moves the due rows of a distributed table (each row locked by a
-- query of its own key)
SELECT statusflow.create_workflow('tk', ARRAY['waiting', 'due', 'done'], ARRAY['waiting'],
	ARRAY['done']) IS NOT NULL AS created;
SELECT statusflow.add_transition('tk', ARRAY['waiting'], 'due', 'expire') > 0 AS t;
SELECT statusflow.add_transition('tk', ARRAY['due'], 'done', 'finish') > 0 AS t;
CREATE TABLE jobs (account_id bigint, id bigint, status tk_status NOT NULL DEFAULT 'waiting',
	run_at timestamptz NOT NULL, PRIMARY KEY (account_id, id));
SELECT create_distributed_table('jobs', 'account_id');
INSERT INTO jobs (account_id, id, run_at)
SELECT a, 1, now() - a * interval '1 hour' FROM generate_series(1, 6) a;
UPDATE jobs SET run_at = now() + interval '1 day' WHERE account_id > 4;
SELECT statusflow.attach('jobs', 'status', 'tk');
SELECT statusflow.add_timer('tk', 'waiting', at_column => 'run_at', event => 'expire') > 0 AS timer;
SELECT table_name, key, from_status, to_status, event, outcome FROM statusflow.tick()
ORDER BY key->>'account_id';
SELECT account_id, status FROM jobs ORDER BY 1;
SELECT account_id, from_status, to_status, event FROM jobs_status_history
WHERE event = 'expire' ORDER BY 1;
-- a second tick finds nothing left
SELECT count(*) FROM statusflow.tick();

-- 5. a plain table next to the distributed ones works as on one node
CREATE TABLE loc (id bigint PRIMARY KEY, status simple_status NOT NULL DEFAULT 'new');
SELECT statusflow.attach('loc', 'status', 'simple');
INSERT INTO loc VALUES (1), (2);
UPDATE loc SET status = 'done' WHERE id = 2;
UPDATE loc SET status = 'new' WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.fire('loc', 1, 'finish');
SELECT id, from_status, to_status, event FROM loc_status_history ORDER BY id, history_id;
-- the workers do not get the plain table's binding
SELECT result FROM run_command_on_workers($$SELECT count(*) FROM statusflow.binding$$);

-- an open session on a worker (its own client backend, where Citus runs the
-- shard's trigger by local execution) sees a change made on the coordinator
-- at its next statement
\getenv worker_port SF_CITUS_WORKER1
\c - - - :worker_port
SET client_min_messages = warning;
\set SHOW_CONTEXT never
INSERT INTO invitations (account_id, id, email) VALUES (30, 1, 'w');
UPDATE invitations SET status = 'accepted' WHERE account_id = 30;
\echo :LAST_ERROR_SQLSTATE
\! psql -X -q -c "SELECT statusflow.add_transition('inv', ARRAY['invited'], 'accepted', 'direct')" >/dev/null
UPDATE invitations SET status = 'accepted' WHERE account_id = 30;
SELECT from_status, to_status, event FROM invitations_status_history WHERE account_id = 30 ORDER BY history_id;
-- catalog writes are the coordinator's
SELECT statusflow.attach('invitations', 'status', 'inv');
\echo :LAST_ERROR_SQLSTATE
-- every API function that changes the catalog is refused on a worker, with
-- all it did before (one check: a statement trigger on the catalog tables,
-- and the same check first in the functions that run DDL before writing
-- the catalog)
\set catalog_state 'SELECT format(''%s workflows, %s transitions, %s described, %s bindings, %s timers, %s triggers, type %s'', (SELECT count(*) FROM statusflow.workflow), (SELECT count(*) FROM statusflow.transition), (SELECT count(*) FROM statusflow.status WHERE description IS NOT NULL), (SELECT count(*) FROM statusflow.binding), (SELECT count(*) FROM statusflow.timer), (SELECT count(*) FROM pg_trigger WHERE tgrelid = ''invitations''::regclass), to_regtype(''on_worker_status'')) AS catalog'
:catalog_state;
SELECT statusflow.create_workflow('on_worker', ARRAY['a', 'b'], ARRAY['a'], ARRAY['b']);
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.add_transition('inv', ARRAY['sent'], 'accepted', 'rush');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.set_status_info('inv', 'sent', description => 'mailed');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.add_timer('inv', 'sent', after => '1 day', to_status => 'expired');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.add_status('inv', 'bounced');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.detach('invitations');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.drop_workflow('simple');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.install_preset('beta_general', workflow_name => 'beta_on_worker');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM statusflow.transition WHERE workflow = 'inv';
\echo :LAST_ERROR_SQLSTATE
:catalog_state;

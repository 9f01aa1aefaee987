-- Attach first, then distribute: statusflow.distribute() distributes a
-- bound table (two bound columns) and its history tables, co-located,
-- keeping every history row and the enforcement; what it refuses changes
-- nothing; Citus's own functions are refused on a bound table.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SELECT statusflow.create_workflow('dst', ARRAY['new', 'sent', 'opened', 'won', 'lost'],
	ARRAY['new'], ARRAY['won', 'lost']) IS NOT NULL AS created;
SELECT statusflow.add_transition('dst', ARRAY['new'], 'sent', 'send') > 0 AS t;
SELECT statusflow.add_transition('dst', ARRAY['sent'], 'opened', 'open') > 0 AS t;
SELECT statusflow.add_transition('dst', ARRAY['opened'], 'won', 'win') > 0 AS t;
SELECT statusflow.add_transition('dst', ARRAY['new', 'sent', 'opened'], 'lost', 'lose') > 0 AS t;
SELECT statusflow.create_workflow('dst_pay', ARRAY['unpaid', 'paid'], ARRAY['unpaid'],
	ARRAY['paid']) IS NOT NULL AS created;
SELECT statusflow.add_transition('dst_pay', ARRAY['unpaid'], 'paid', 'pay') > 0 AS t;
CREATE TABLE dst (account_id bigint, id bigint, email text,
	status dst_status NOT NULL DEFAULT 'new', payment dst_pay_status NOT NULL DEFAULT 'unpaid',
	PRIMARY KEY (account_id, id));
INSERT INTO dst (account_id, id, email)
SELECT a, i, 'x' || i FROM generate_series(1, 8) a, generate_series(1, 4) i;
SELECT statusflow.attach('dst', 'status', 'dst');
SELECT statusflow.attach('dst', 'payment', 'dst_pay');
-- history on the coordinator, before distributing
UPDATE dst SET status = 'sent' WHERE id <= 3;
UPDATE dst SET status = 'opened' WHERE id <= 2;
UPDATE dst SET status = 'won' WHERE id = 1 AND account_id % 2 = 0;
UPDATE dst SET status = 'lost' WHERE id = 4 AND account_id < 3;
SELECT statusflow.fire('dst', ROW(3, 3), 'open', actor => 'ann', reason => 'clicked',
	column_name => 'status');
UPDATE dst SET payment = 'paid' WHERE account_id = 2;

-- what the reports say, and every history row, before
CREATE TABLE dst_before (report text, answer text);
CREATE FUNCTION dst_reports() RETURNS TABLE (report text, answer text) LANGUAGE sql AS $$
	SELECT 'status_counts', string_agg(format('%s=%s/%s', status, entities, entries), ' ' ORDER BY status)
	FROM statusflow.status_counts('dst', column_name => 'status')
	UNION ALL
	SELECT 'transition_matrix', string_agg(format('%s>%s=%s', from_status, to_status, transitions),
		' ' ORDER BY from_status, to_status)
	FROM statusflow.transition_matrix('dst', column_name => 'status')
	UNION ALL
	SELECT 'funnel', string_agg(format('%s=%s', step, entities), ' ' ORDER BY step_no)
	FROM statusflow.funnel('dst', ARRAY['sent', 'opened', 'won'], column_name => 'status')
	UNION ALL
	SELECT 'timeline', string_agg(format('%s>%s:%s:%s', from_status, to_status, event, actor),
		' ' ORDER BY occurred_at, history_id)
	FROM statusflow.timeline('dst', ROW(3, 3), column_name => 'status')
	UNION ALL
	SELECT 'payment counts', string_agg(format('%s=%s/%s', status, entities, entries), ' ' ORDER BY status)
	FROM statusflow.status_counts('dst', column_name => 'payment')
$$;
INSERT INTO dst_before SELECT * FROM dst_reports();
CREATE TABLE dst_history_before AS
SELECT history_id, account_id, id, from_status::text AS from_status, to_status::text AS to_status,
	event, actor, reason, occurred_at
FROM dst_status_history;
CREATE TABLE dst_payment_before AS
SELECT history_id, account_id, id, to_status::text AS to_status FROM dst_payment_history;
SELECT (SELECT count(*) FROM dst_history_before) AS status_rows,
	(SELECT count(*) FROM dst_payment_before) AS payment_rows;

-- refusals, each before anything changes
CREATE FUNCTION dst_state() RETURNS text LANGUAGE sql AS $$
	SELECT format('citus tables %s, triggers %s, history %s+%s',
		(SELECT count(*) FROM pg_dist_partition
		 WHERE logicalrelid IN ('dst'::regclass, 'dst_status_history'::regclass,
								'dst_payment_history'::regclass)),
		(SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('dst'::regclass,
			'dst_status_history'::regclass, 'dst_payment_history'::regclass)),
		(SELECT count(*) FROM dst_status_history), (SELECT count(*) FROM dst_payment_history))
$$;
SELECT dst_state();
-- a column that does not exist; a bound status column; a column of no key
SELECT statusflow.distribute('dst', 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.distribute('dst', 'payment');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.distribute('dst', 'email');
\echo :LAST_ERROR_SQLSTATE
-- a quota per a column other than the distribution column
SELECT statusflow.set_quota('dst', ARRAY['opened'], 'id', 5) > 0 AS q;
SELECT statusflow.distribute('dst', 'account_id');
\echo :LAST_ERROR_SQLSTATE
SELECT statusflow.remove_quota('dst', ARRAY['opened']);
-- a trigger of the application's (Citus refuses it)
CREATE FUNCTION dst_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER dst_app AFTER INSERT ON dst FOR EACH ROW EXECUTE FUNCTION dst_noop();
SELECT statusflow.distribute('dst', 'account_id');
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER dst_app ON dst;
-- a unique index of a history without the distribution column
CREATE UNIQUE INDEX dst_history_odd ON dst_status_history (history_id, event);
SELECT statusflow.distribute('dst', 'account_id');
\echo :LAST_ERROR_SQLSTATE
DROP INDEX dst_history_odd;
-- a table without a bound column
CREATE TABLE dst_plain (account_id bigint PRIMARY KEY);
SELECT statusflow.distribute('dst_plain', 'account_id');
\echo :LAST_ERROR_SQLSTATE
-- refused by Citus after statusflow's triggers went: all of it rolls back
SELECT statusflow.distribute('dst', 'account_id', colocate_with => 'no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT dst_state();

-- Citus's own functions on a bound table: statusflow's refusal, before
-- Citus changes anything
SELECT create_distributed_table('dst', 'account_id');
\echo :LAST_ERROR_SQLSTATE
SELECT create_distributed_table(distribution_column => 'account_id', table_name => 'public.dst');
\echo :LAST_ERROR_SQLSTATE
SELECT create_distributed_table_concurrently('dst', 'account_id');
\echo :LAST_ERROR_SQLSTATE
SELECT create_reference_table('dst');
\echo :LAST_ERROR_SQLSTATE
SELECT citus_add_local_table_to_metadata('dst');
\echo :LAST_ERROR_SQLSTATE
-- a table named by a variable is not seen: Citus's own refusal of the
-- triggers, also before any change
DO $$ DECLARE t text := 'dst'; BEGIN PERFORM create_distributed_table(t, 'account_id'); END $$;
\echo :LAST_ERROR_SQLSTATE
SELECT dst_state();

-- distribute: the table and both histories, hash-distributed by account_id,
-- in one co-location group
SELECT statusflow.distribute('dst', 'account_id', shard_count => 4);
SELECT p.logicalrelid, p.partmethod,
	column_to_column_name(p.logicalrelid, p.partkey) AS dist_column,
	p.colocationid = (SELECT colocationid FROM pg_dist_partition
					  WHERE logicalrelid = 'dst'::regclass) AS colocated,
	(SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards
FROM pg_dist_partition p
WHERE p.logicalrelid IN ('dst'::regclass, 'dst_status_history'::regclass,
						 'dst_payment_history'::regclass)
ORDER BY 1;
SELECT conrelid::regclass, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid IN ('dst_status_history'::regclass, 'dst_payment_history'::regclass)
  AND contype = 'p' ORDER BY 1;
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) LIKE '%(account_id, event_id) WHERE (event_id IS NOT NULL)' AS per_account
FROM pg_index WHERE indrelid = 'dst_status_history'::regclass AND indisunique AND NOT indisprimary;
-- every earlier history row is there, unchanged
SELECT (SELECT count(*) FROM (SELECT history_id, account_id, id, from_status::text, to_status::text,
		event, actor, reason, occurred_at FROM dst_status_history
		EXCEPT ALL SELECT * FROM dst_history_before) d) AS status_missing_before,
	(SELECT count(*) FROM (SELECT * FROM dst_history_before
		EXCEPT ALL SELECT history_id, account_id, id, from_status::text, to_status::text,
		event, actor, reason, occurred_at FROM dst_status_history) d) AS status_missing_after,
	(SELECT count(*) FROM (SELECT * FROM dst_payment_before
		EXCEPT ALL SELECT history_id, account_id, id, to_status::text FROM dst_payment_history) d)
	AS payment_missing_after,
	(SELECT count(*) FROM dst_payment_history) AS payment_rows;
-- the reports give the same answers
SELECT b.report, b.answer IS NOT DISTINCT FROM a.answer AS same
FROM dst_before b LEFT JOIN dst_reports() a USING (report) ORDER BY 1;
-- the workers know both bindings; every shard has statusflow's triggers
SELECT result FROM run_command_on_workers($$SELECT count(*) FROM statusflow.binding b
	WHERE b.table_name = 'public.dst'::regclass$$);
SELECT DISTINCT result FROM run_command_on_placements('dst',
	$$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'statusflow%%'$$);

-- every write path enforced on the workers
UPDATE dst SET status = 'won' WHERE account_id = 5 AND id = 3;
\echo :LAST_ERROR_SQLSTATE
UPDATE dst SET status = 'opened' WHERE account_id = 5 AND id = 3;
UPDATE dst SET payment = 'unpaid' WHERE account_id = 2;
\echo :LAST_ERROR_SQLSTATE
UPDATE dst SET payment = 'paid' WHERE account_id = 5;
INSERT INTO dst (account_id, id, status) VALUES (9, 1, 'sent');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO dst (account_id, id) VALUES (9, 1);
SELECT statusflow.fire('dst', ROW(9, 1), 'send', actor => 'bob', column_name => 'status');
SELECT statusflow.transition('dst', ROW(9, 1), 'won', column_name => 'status');
\echo :LAST_ERROR_SQLSTATE
-- the new history rows, each on the history shard of its row's account
SELECT account_id, id, from_status, to_status, event, actor FROM dst_status_history
WHERE (account_id, id) IN ((5, 3), (9, 1)) ORDER BY account_id, id, history_id;
SELECT shardid = get_shard_id_for_distribution_column('dst_status_history', 5) AS right_shard,
	result
FROM run_command_on_placements('dst_status_history',
	$$SELECT count(*) FROM %s WHERE account_id = 5 AND id = 3 AND event = 'open'$$)
WHERE result <> '0';
SELECT account_id, count(*) FILTER (WHERE to_status = 'paid') AS paid
FROM dst_payment_history WHERE account_id IN (2, 5) GROUP BY 1 ORDER BY 1;

-- prune_history() on the distributed history: one multi-shard DELETE that
-- Citus runs on the shards, each entity keeping its latest row
SELECT count(*) AS rows_before, count(DISTINCT (account_id, id)) AS entities
FROM dst_status_history;
SELECT statusflow.prune_history('dst', now(), column_name => 'status') AS pruned;
SELECT count(*) AS rows_after,
	count(*) FILTER (WHERE h.to_status IS DISTINCT FROM d.status) AS not_current
FROM dst_status_history h JOIN dst d USING (account_id, id);
-- the other binding's history is untouched; a DELETE of one's own is still
-- refused on the workers' shards
SELECT count(*) AS payment_rows FROM dst_payment_history;
DELETE FROM dst_payment_history WHERE account_id = 2;
\echo :LAST_ERROR_SQLSTATE
-- the setting that tells the workers' shards of a prune is anyone's to set,
-- but only the history's owner may prune
CREATE ROLE sf_citus_pruner LOGIN;
GRANT SELECT, DELETE ON dst_payment_history TO sf_citus_pruner;
SET ROLE sf_citus_pruner;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL statusflow.pruning = 'public.dst_payment_history';
DELETE FROM dst_payment_history WHERE account_id = 2;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS payment_rows FROM dst_payment_history;

-- gone, with their bindings (on the workers too) and workflows
DROP TABLE dst, dst_plain;
DROP TABLE dst_status_history, dst_payment_history, dst_before, dst_history_before,
	dst_payment_before;
SELECT statusflow.drop_workflow('dst'), statusflow.drop_workflow('dst_pay');
SELECT result FROM run_command_on_workers($$SELECT count(*) FROM statusflow.binding$$);
DROP ROLE sf_citus_pruner;

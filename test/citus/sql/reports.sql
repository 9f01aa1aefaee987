-- Reports through the coordinator give the answers they give on one node:
-- the same rows moved the same way in a distributed table (rep) and in a
-- plain one (rep_local), then each report of both, compared.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SELECT statusflow.create_workflow('rep', ARRAY['new', 'sent', 'opened', 'won', 'lost'],
	ARRAY['new'], ARRAY['won', 'lost']) IS NOT NULL AS created;
SELECT statusflow.add_transition('rep', ARRAY['new'], 'sent', 'send') > 0 AS t;
SELECT statusflow.add_transition('rep', ARRAY['sent'], 'opened', 'open') > 0 AS t;
SELECT statusflow.add_transition('rep', ARRAY['opened'], 'won', 'win') > 0 AS t;
SELECT statusflow.add_transition('rep', ARRAY['new', 'sent', 'opened'], 'lost', 'lose') > 0 AS t;
CREATE TABLE rep (account_id bigint, id bigint, status rep_status NOT NULL DEFAULT 'new',
	PRIMARY KEY (account_id, id));
CREATE TABLE rep_local (LIKE rep INCLUDING ALL);
SELECT create_distributed_table('rep', 'account_id');
INSERT INTO rep (account_id, id) SELECT a, i FROM generate_series(1, 10) a, generate_series(1, 6) i;
INSERT INTO rep_local SELECT * FROM rep;
SELECT statusflow.attach('rep', 'status', 'rep');
SELECT statusflow.attach('rep_local', 'status', 'rep');
-- the same moves on both
CREATE FUNCTION rep_move(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('UPDATE %s SET status = ''sent'' WHERE id <= 5', t);
	EXECUTE format('UPDATE %s SET status = ''opened'' WHERE id <= 4', t);
	EXECUTE format('UPDATE %s SET status = ''won'' WHERE id <= 2 AND account_id %% 2 = 0', t);
	EXECUTE format('UPDATE %s SET status = ''lost'' WHERE id = 3 OR (id = 6 AND account_id < 4)', t);
END $$;
SELECT rep_move('rep'), rep_move('rep_local');
-- one entry later than the others, alone in its statement: its place in the
-- queue of "sent" does not depend on how history ids break ties
UPDATE rep SET status = 'sent' WHERE account_id = 5 AND id = 6;
UPDATE rep_local SET status = 'sent' WHERE account_id = 5 AND id = 6;

-- each report: rows of the distributed table's answer missing from the
-- plain table's, and the other way round (0 and 0: the same answer)
CREATE FUNCTION rep_diff(report text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	a bigint;
	b bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) d',
		format(report, 'rep'), format(report, 'rep_local')) INTO a;
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) d',
		format(report, 'rep_local'), format(report, 'rep')) INTO b;
	RETURN a || ' ' || b;
EXCEPTION WHEN OTHERS THEN
	RETURN 'fails: ' || SQLSTATE;
END $$;
SELECT r AS report, rep_diff(r) AS differences FROM unnest(ARRAY[
	'statusflow.status_counts(%L)',
	'statusflow.group_counts(%L)',
	'statusflow.funnel(%L, ARRAY[''sent'', ''opened'', ''won''])',
	'(SELECT cohort_size, step, entities FROM statusflow.funnel_cohorts(%L, ARRAY[''sent'', ''won''])) f',
	'(SELECT status, stays, open_stays FROM statusflow.time_in_status(%L)) f',
	'statusflow.transition_matrix(%L)',
	'statusflow.entry_series(%L)',
	'(SELECT statusflow.status_at(%L, ROW(2, 1), now())) f',
	'(SELECT from_status, to_status, event FROM statusflow.timeline(%L, ROW(2, 1))) f',
	'(SELECT to_status, event FROM statusflow.next_transitions(%L, ROW(3, 5))) f',
	'(SELECT key, current_status FROM statusflow.stale(%L, ''sent'', ''0 seconds'')) f',
	'(SELECT status, "position", queue_length FROM statusflow.queue_position(%L, ROW(5, 6))) f',
	'(SELECT count(*) > 0 FROM statusflow.dashboard(%L)) f']) r;
-- the distributed table's answers
SELECT * FROM statusflow.status_counts('rep') ORDER BY status;
SELECT * FROM statusflow.transition_matrix('rep') ORDER BY from_status, to_status;

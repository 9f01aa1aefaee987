-- Summaries: enabling, refreshing and disabling them, who may, and every
-- summarized report giving the answers it gives from the history alone, on
-- random histories (fixed seeds), after full and partial folds, with rows
-- not folded yet, backdated rows, repeated events, refused receipts, pruning
-- and tick().
\set SHOW_CONTEXT never
\set VERBOSITY terse

-- "SQLSTATE: message" of a statement, or "ok"
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT statusflow.create_workflow('deal', ARRAY['lead', 'contacted', 'meeting', 'offer', 'won', 'lost'],
								  ARRAY['lead'], ARRAY['won', 'lost']);
SELECT statusflow.set_status_info('deal', s, group_name => g)
FROM (VALUES ('lead', 'open'), ('contacted', 'open'), ('meeting', 'talks'), ('offer', 'talks'),
			 ('won', 'closed'), ('lost', 'closed')) v(s, g);
SELECT count(*) AS transitions FROM (
	SELECT statusflow.add_transition('deal', f, t, event => e)
	FROM (VALUES (ARRAY['lead'], 'contacted', 'contact'), (ARRAY['contacted'], 'meeting', 'meet'),
				 (ARRAY['meeting'], 'offer', 'propose'), (ARRAY['offer'], 'won', 'sign'),
				 (ARRAY['lead', 'contacted', 'meeting', 'offer'], 'lost', 'drop'),
				 (ARRAY['meeting', 'offer'], 'contacted', 'stall'),
				 (ARRAY['contacted', 'meeting'], 'contacted', 'call')) v(f, t, e)) x;
CREATE TABLE deals (region int NOT NULL, id int NOT NULL, status deal_status NOT NULL DEFAULT 'lead',
					PRIMARY KEY (region, id));
SELECT statusflow.attach('deals', 'status', 'deal');
CREATE TABLE unbound (id int PRIMARY KEY);

-- blocks of 64 buckets (since 2000-01-01 UTC): the one holding a time, and
-- the first one starting at or after it (none after the last time there is)
SET TimeZone = 'UTC';
SELECT t, statusflow_internal.block(t, '1 hour', false) AS holding,
	   statusflow_internal.block(t, '1 hour', true) AS next
FROM unnest(ARRAY[timestamptz '2000-01-01 00:00', '2000-01-03 15:59:59.999999',
				  '2000-01-03 16:00', '1999-12-31 23:00', '294276-12-31 23:00',
				  'infinity', '-infinity', NULL]) t;
SELECT statusflow_internal.block('2000-01-03 16:00', '15 minutes', false) AS quarter_hours,
	   statusflow_internal.block('2000-03-05 00:00', '1 day', true) AS days,
	   statusflow_internal.block('2000-03-05 00:00', NULL, true) AS no_period;
SELECT pg_temp.try($$SELECT statusflow_internal.block(now(), '1 month', false)$$);
SELECT pg_temp.try($$SELECT statusflow_internal.block(now(), '7 minutes', false)$$);
RESET TimeZone;

-- enabling: the table's owner only, once, with a sound period
SELECT pg_temp.try($$SELECT statusflow.enable_summaries('unbound')$$);
SELECT pg_temp.try($$SELECT statusflow.enable_summaries('deals', NULL)$$);
SELECT pg_temp.try($$SELECT statusflow.enable_summaries('deals', '10 seconds')$$);
SELECT pg_temp.try($$SELECT statusflow.enable_summaries('deals', '2 days')$$);
SELECT pg_temp.try($$SELECT statusflow.enable_summaries('deals', column_name => 'nosuch')$$);
GRANT SELECT ON deals TO regress_sf_other;
SET ROLE regress_sf_other;
SELECT pg_temp.try($$SELECT statusflow.enable_summaries('deals')$$);
RESET ROLE;
SELECT pg_temp.try($$SELECT statusflow.disable_summaries('deals')$$);
SELECT pg_temp.try($$SELECT statusflow.refresh_summaries('deals')$$);
SELECT statusflow.enable_summaries('deals') AS folded;
SELECT pg_temp.try($$SELECT statusflow.enable_summaries('deals')$$);
SELECT table_name, column_name, period, counts_table, entities_table, built
FROM statusflow.summaries;
-- the summary tables: the history table's owner's, read by who may read the whole history
SELECT c.relname, pg_get_userbyid(c.relowner) = current_user AS owned, c.relrowsecurity
FROM pg_class c WHERE c.relname LIKE 'deals_status_history_summary%' AND c.relkind = 'r'
ORDER BY 1;
SELECT pg_temp.try($$DROP TABLE deals_status_history_summary$$);
-- the catalog row cannot point reports at anything but those tables
CREATE VIEW fake_counts AS SELECT * FROM deals_status_history_summary;
SELECT pg_temp.try($$UPDATE statusflow.summary SET counts = 'fake_counts'$$);
SELECT pg_temp.try($$UPDATE statusflow.summary SET counts = 'unbound'$$);
SELECT pg_temp.try($$UPDATE statusflow.summary SET counts = entities$$);
DROP VIEW fake_counts;
-- internal functions check who calls them
SET ROLE regress_sf_other;
SELECT split_part(pg_temp.try($$SELECT statusflow_internal.create_summary_tables(b)
							   FROM statusflow.binding b WHERE b.table_name = 'deals'::regclass$$),
				  ' binding ', 1) AS refused;
SELECT pg_temp.try($$SELECT statusflow_internal.fold_as_owner(b.id, false, false)
					 FROM statusflow.binding b WHERE b.table_name = 'deals'::regclass$$);
SELECT pg_temp.try($$SELECT statusflow.refresh_summaries('deals')$$);
SELECT pg_temp.try($$SELECT statusflow.disable_summaries('deals')$$);
SELECT pg_temp.try($$UPDATE statusflow.summary SET folded = NULL$$);
SELECT statusflow.refresh_summaries() AS folded_for_other;
-- without SELECT on the history: no summary rows, and the reports refuse as before
SELECT count(*) AS summary_rows_seen FROM deals_status_history_summary;
SELECT pg_temp.try($$SELECT * FROM statusflow.status_counts('deals', until => '2024-03-01')$$);
SELECT pg_temp.try($$SELECT * FROM statusflow.time_in_status('deals')$$);
RESET ROLE;
SELECT pg_temp.try($$SELECT statusflow.refresh_summaries('deals', rebuild => NULL)$$);
SELECT pg_temp.try($$SELECT * FROM statusflow_internal.summary_stays(NULL, true)$$);
SELECT pg_temp.try($$SELECT * FROM statusflow_internal.summary_stays(-1, true)$$);

/*
 * Random histories.  n entities, each a walk through the statuses, written
 * to the history directly (as its owner may): mostly forward in time, some
 * rows backdated, some repeated events (a row from a status to itself),
 * some refused receipts (not applied), recorded when they occurred; the
 * table's rows end in each entity's last status.
 */
CREATE FUNCTION pg_temp.add_history(seed double precision, entities int, steps int,
									first_id int DEFAULT 1)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	labels text[] := ARRAY['lead', 'contacted', 'meeting', 'offer', 'won', 'lost'];
	cur text;
	at timestamptz;
	nxt text;
	n bigint := 0;
	r double precision;
BEGIN
	PERFORM setseed(seed);
	FOR e IN first_id .. first_id + entities - 1 LOOP
		SELECT h.to_status::text, h.occurred_at INTO cur, at
		FROM deals_status_history h WHERE h.region = e % 3 AND h.id = e AND h.applied
		  AND h.from_status IS DISTINCT FROM h.to_status
		ORDER BY h.history_id DESC LIMIT 1;
		IF cur IS NULL THEN
			at := timestamptz '2024-01-01 00:00+00' + random() * interval '60 days';
			INSERT INTO deals_status_history (region, id, from_status, to_status, occurred_at, recorded_at)
			VALUES (e % 3, e, NULL, 'lead', at, at);
			cur := 'lead';
			n := n + 1;
		END IF;
		FOR s IN 1 .. (random() * steps)::int LOOP
			EXIT WHEN cur IN ('won', 'lost');
			r := random();
			at := at + random() * interval '5 days';
			IF r < 0.07 THEN
				-- a repeated event
				INSERT INTO deals_status_history (region, id, from_status, to_status, event, occurred_at, recorded_at)
				VALUES (e % 3, e, cur::deal_status, cur::deal_status, 'call', at, at);
				n := n + 1;
				CONTINUE;
			ELSIF r < 0.11 THEN
				-- a refused receipt
				INSERT INTO deals_status_history (region, id, from_status, to_status, applied, occurred_at, recorded_at)
				VALUES (e % 3, e, cur::deal_status, 'won', false, at, at);
				n := n + 1;
				CONTINUE;
			END IF;
			nxt := labels[1 + (random() * 5)::int];
			CONTINUE WHEN nxt = cur;
			IF random() < 0.15 THEN
				-- backdated: occurred before the row before it
				at := at - interval '9 days';
			END IF;
			INSERT INTO deals_status_history (region, id, from_status, to_status, occurred_at, recorded_at)
			VALUES (e % 3, e, cur::deal_status, nxt::deal_status, at, at);
			cur := nxt;
			n := n + 1;
		END LOOP;
		SET LOCAL session_replication_role = replica;
		INSERT INTO deals (region, id, status) VALUES (e % 3, e, cur::deal_status)
		ON CONFLICT (region, id) DO UPDATE SET status = excluded.status;
		SET LOCAL session_replication_role = origin;
	END LOOP;
	RETURN n;
END
$$;

-- every summarized report, as lines of text in a fixed order
CREATE FUNCTION pg_temp.report_lines() RETURNS SETOF text LANGUAGE sql AS $$
	SELECT 'status_counts(until ' || u || ') ' || c::text
	FROM unnest(ARRAY[timestamptz '2024-01-20 00:00+00', '2024-02-15 13:00+00', '2024-04-01 00:00+00',
					  '2030-01-01 00:00+00', '2024-02-03 10:17+00']) u,
		 LATERAL statusflow.status_counts('deals', until => u) c
	UNION ALL
	SELECT 'status_counts(since) ' || c::text
	FROM statusflow.status_counts('deals', since => '2024-02-01') c
	UNION ALL
	SELECT 'status_counts(window) ' || c::text
	FROM statusflow.status_counts('deals', '2024-01-15', '2024-03-01') c
	UNION ALL
	SELECT 'group_counts(until) ' || c::text
	FROM statusflow.group_counts('deals', until => '2024-03-01') c
	UNION ALL
	SELECT 'transition_matrix() ' || m::text FROM statusflow.transition_matrix('deals') m
	UNION ALL
	SELECT 'transition_matrix(window) ' || m::text
	FROM statusflow.transition_matrix('deals', '2024-01-10', '2024-02-20 05:00+00') m
	UNION ALL
	SELECT 'entry_series(' || p || ') ' || e::text
	FROM unnest(ARRAY['day', 'week', 'month']) p,
		 LATERAL statusflow.entry_series('deals', p, until => '2024-06-01') e
	UNION ALL
	SELECT 'entry_series(week, window) ' || e::text
	FROM statusflow.entry_series('deals', 'week', '2024-01-08', '2024-03-04') e
	UNION ALL
	SELECT 'funnel() ' || f::text FROM statusflow.funnel('deals') f
	UNION ALL
	SELECT 'funnel(steps) ' || f::text
	FROM statusflow.funnel('deals', ARRAY['lead', 'meeting', 'won']) f
	UNION ALL
	SELECT 'funnel_cohorts(' || p || ') ' || f::text
	FROM unnest(ARRAY['week', 'month']) p,
		 LATERAL statusflow.funnel_cohorts('deals', period => p) f
	UNION ALL
	SELECT 'time_in_status() ' || t::text FROM statusflow.time_in_status('deals') t
	UNION ALL
	SELECT 'time_in_status(closed) ' || t::text
	FROM statusflow.time_in_status('deals', include_open => false) t
	UNION ALL
	SELECT 'dashboard() ' || d FROM statusflow.dashboard('deals', stale_after => '30 days') d
	UNION ALL
	SELECT 'dashboard(steps) ' || d
	FROM statusflow.dashboard('deals', ARRAY['lead', 'offer', 'won'], '200 days', 3) d
$$;

CREATE TEMP TABLE with_summaries (line text);

/*
 * The reports with the summaries, then the same reports with the summaries
 * set aside (folded NULL: the reports read the history), in one
 * transaction (one now()); prints what differs, and how many lines there
 * were and whether the summaries were built and used.
 */
CREATE FUNCTION pg_temp.compare(label text) RETURNS TABLE (step text, lines bigint, built boolean,
															differences text[])
LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE with_summaries;
	built := (SELECT s.built FROM statusflow.summaries s WHERE s.table_name = 'deals'::regclass);
	INSERT INTO with_summaries SELECT * FROM pg_temp.report_lines();
	step := label;
	lines := (SELECT count(*) FROM with_summaries);
	BEGIN
		UPDATE statusflow.summary SET folded = NULL;
		SELECT array_agg(d ORDER BY d) INTO differences FROM (
			(SELECT '+summaries ' || line AS d FROM with_summaries
			 EXCEPT ALL SELECT '+summaries ' || l FROM pg_temp.report_lines() l)
			UNION ALL
			(SELECT '+history ' || l FROM pg_temp.report_lines() l
			 EXCEPT ALL SELECT '+history ' || line FROM with_summaries)) x;
		RAISE EXCEPTION USING ERRCODE = 'SFCMP', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'SFCMP' THEN
		RETURN NEXT;
	END;
END
$$;

-- seed 1: a history, summaries built over it, then rows not folded yet
SELECT pg_temp.add_history(0.1, 300, 12) > 0 AS history;
SELECT statusflow.refresh_summaries('deals', rebuild => true) > 0 AS folded;
SELECT * FROM pg_temp.compare('seed 1, all folded');
SELECT pg_temp.add_history(0.11, 60, 6, first_id => 250) > 0 AS tail;
SELECT * FROM pg_temp.compare('seed 1, with a tail');
SELECT statusflow.refresh_summaries('deals') > 0 AS folded;
SELECT * FROM pg_temp.compare('seed 1, tail folded');
SELECT pg_temp.add_history(0.12, 40, 6, first_id => 1) > 0 AS tail;
SELECT statusflow.refresh_summaries() > 0 AS folded;
SELECT pg_temp.add_history(0.13, 100, 4, first_id => 280) > 0 AS tail;
SELECT * FROM pg_temp.compare('seed 1, partly folded');
SELECT refreshed_at AS refreshed_before FROM statusflow.summaries \gset
SELECT count(*) >= 0 AS ticked FROM statusflow.tick();
SELECT refreshed_at > :'refreshed_before' AS refreshed_by_tick FROM statusflow.summaries;
SELECT * FROM pg_temp.compare('seed 1, folded by tick()');

-- rows that commit late, with lower history_ids than rows of the same
-- entities already folded: those entities are folded again from all their
-- rows (the others go on from the summary's table of entities)
SELECT max(history_id) AS gap FROM deals_status_history \gset
SELECT setval(pg_get_serial_sequence('deals_status_history', 'history_id'), :gap + 100) > 0 AS gap_left;
SELECT pg_temp.add_history(0.14, 40, 4, first_id => 1) > 0 AS after_gap;
SELECT statusflow.refresh_summaries('deals') > 0 AS folded;
INSERT INTO deals_status_history (history_id, region, id, from_status, to_status, occurred_at, recorded_at)
OVERRIDING SYSTEM VALUE
SELECT :gap + e, e % 3, e, 'lead', 'meeting', timestamptz '2024-02-10 00:00+00' + e * interval '1 hour', now()
FROM generate_series(1, 20) e;
SELECT count(DISTINCT (h.region, h.id)) > 0 AS late_before_folded
FROM deals_status_history h
JOIN deals_status_history_summary_entities e ON e.region = h.region AND e.id = h.id
WHERE NOT pg_visible_in_snapshot(h.txid, (SELECT folded FROM statusflow.summary))
  AND h.history_id < e.last_id;
SELECT * FROM pg_temp.compare('seed 1, late rows before folded ones');
SELECT statusflow.refresh_summaries('deals') > 0 AS folded;
SELECT * FROM pg_temp.compare('seed 1, late rows folded');

-- the reports do read the summaries: a summary emptied changes their answers
BEGIN;
DELETE FROM deals_status_history_summary;
SELECT count(*) > 0 AS answers_change FROM (
	SELECT * FROM pg_temp.report_lines() l WHERE l LIKE 'status_counts(until%'
	EXCEPT SELECT * FROM with_summaries) x;
ROLLBACK;

-- pruning: the summaries are built again by the next refresh
SELECT statusflow.prune_history('deals', '2024-02-01') > 0 AS pruned;
SELECT built FROM statusflow.summaries;
SELECT * FROM pg_temp.compare('seed 1, pruned');
SELECT statusflow.refresh_summaries('deals') > 0 AS rebuilt;
SELECT built FROM statusflow.summaries;
SELECT * FROM pg_temp.compare('seed 1, pruned and rebuilt');

-- seeds 2 and 3, with daily and quarter-hour buckets
SELECT statusflow.disable_summaries('deals');
SELECT count(*) AS summary_tables_left FROM pg_class WHERE relname LIKE 'deals_status_history_summary%';
TRUNCATE deals;
SELECT pg_temp.try($$TRUNCATE deals_status_history$$);
SELECT statusflow.detach('deals');
DROP TABLE deals_status_history;
SELECT statusflow.attach('deals', 'status', 'deal');
SELECT pg_temp.add_history(0.2, 250, 14) > 0 AS history;
SELECT statusflow.enable_summaries('deals', '1 day') > 0 AS folded;
SELECT * FROM pg_temp.compare('seed 2, all folded');
SELECT pg_temp.add_history(0.21, 120, 8, first_id => 200) > 0 AS tail;
SELECT * FROM pg_temp.compare('seed 2, with a tail');
SELECT statusflow.refresh_summaries('deals') > 0 AS folded;
SELECT pg_temp.add_history(0.22, 50, 8, first_id => 100) > 0 AS tail;
SELECT * FROM pg_temp.compare('seed 2, partly folded');

SELECT statusflow.disable_summaries('deals');
SELECT statusflow.enable_summaries('deals', '15 minutes') > 0 AS folded;
SELECT pg_temp.add_history(0.3, 150, 10, first_id => 400) > 0 AS tail;
SELECT * FROM pg_temp.compare('seed 3, with a tail');
SELECT statusflow.refresh_summaries('deals') > 0 AS folded;
SELECT pg_temp.add_history(0.31, 200, 10, first_id => 300) > 0 AS tail;
SELECT statusflow.refresh_summaries('deals') > 0 AS folded;
SELECT * FROM pg_temp.compare('seed 3, folded twice');

-- open stays packed together (300 entities entering 17 minutes apart): a
-- percentile falls inside a duration bucket of many summary periods, each
-- holding a start or none, with some of them moved on in the tail
INSERT INTO deals_status_history (region, id, from_status, to_status, occurred_at, recorded_at)
SELECT e % 3, e, NULL, 'lead', t, t
FROM generate_series(2000, 2299) e,
	 LATERAL (SELECT timestamptz '2024-03-01 00:00+00' + (e - 2000) * interval '17 minutes' AS t) x;
SET session_replication_role = replica;
INSERT INTO deals (region, id, status) SELECT e % 3, e, 'lead' FROM generate_series(2000, 2299) e;
RESET session_replication_role;
SELECT statusflow.refresh_summaries('deals') > 0 AS folded;
INSERT INTO deals_status_history (region, id, from_status, to_status, occurred_at, recorded_at)
SELECT e % 3, e, 'lead', 'meeting', timestamptz '2024-03-04 00:00+00' + e * interval '3 minutes', now()
FROM generate_series(2000, 2299, 7) e;
SELECT * FROM pg_temp.compare('seed 3, open stays packed');

-- detach drops the summaries
SELECT statusflow.detach('deals');
SELECT count(*) AS summaries_left FROM statusflow.summary;
SELECT count(*) AS summary_tables_left FROM pg_class WHERE relname LIKE 'deals_status_history_summary%';
DROP TABLE deals, deals_status_history, unbound;
SELECT statusflow.drop_workflow('deal');

-- Measure every report on table :"tbl" (made by gen_reports.sql): :rounds
-- interleaved rounds, each report run to completion (its rows counted) and
-- timed inside the server, next to SELECT count(*) over the history table.
-- The reports that summaries serve run twice in each round when the table
-- keeps summaries: from the history alone (the summaries set aside in a
-- subtransaction that is rolled back) and from the summaries plus the
-- rows not folded yet, :repeat times in a row (they take milliseconds,
-- where one run's noise is as large as the differences measured).  Prints
-- one line per report: name, median milliseconds and ratio to count(*)
-- from the history, then from the summaries (empty when not summarized).
\set ON_ERROR_STOP on
\if :{?repeat}
\else
\set repeat 1
\endif
SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION pg_temp.bench_ms(query text)
RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
	started timestamptz := clock_timestamp();
	n bigint;
BEGIN
	EXECUTE 'SELECT count(q.*) FROM (' || query || ') q' INTO n;
	RETURN 1000 * extract(epoch FROM clock_timestamp() - started);
END
$$;

CREATE TEMP TABLE bench_query (n serial, name text, query text, summarized boolean DEFAULT false);
INSERT INTO bench_query (name, query) VALUES
	('count(*) over history', format('SELECT count(*) FROM %I', :'tbl' || '_history')),
	('status_counts()', format($q$SELECT * FROM statusflow.status_counts(%L)$q$, :'tbl')),
	('status_counts(until)', format($q$SELECT * FROM statusflow.status_counts(%L, until => '2024-07-01')$q$, :'tbl')),
	('group_counts()', format($q$SELECT * FROM statusflow.group_counts(%L)$q$, :'tbl')),
	('funnel()', format($q$SELECT * FROM statusflow.funnel(%L)$q$, :'tbl')),
	('funnel(one account)', format($q$SELECT * FROM statusflow.funnel(%L, filter => '{"account_id": 42}')$q$, :'tbl')),
	('funnel_cohorts(week)', format($q$SELECT * FROM statusflow.funnel_cohorts(%L, period => 'week')$q$, :'tbl')),
	('time_in_status()', format($q$SELECT * FROM statusflow.time_in_status(%L)$q$, :'tbl')),
	('time_in_status(June)', format($q$SELECT * FROM statusflow.time_in_status(%L, '2024-06-01', '2024-07-01')$q$, :'tbl')),
	('transition_matrix()', format($q$SELECT * FROM statusflow.transition_matrix(%L)$q$, :'tbl')),
	('transition_matrix(last week)', format($q$SELECT * FROM statusflow.transition_matrix(%L, since => '2025-01-25')$q$, :'tbl')),
	('entry_series(day)', format($q$SELECT * FROM statusflow.entry_series(%L, 'day', until => '2025-03-01')$q$, :'tbl')),
	('entry_series(week, December)', format($q$SELECT * FROM statusflow.entry_series(%L, 'week', '2024-12-01', '2025-01-01')$q$, :'tbl')),
	('stale(no_sms_reply, 3 days)', format($q$SELECT * FROM statusflow.stale(%L, 'no_sms_reply', '3 days')$q$, :'tbl')),
	('stale(any open status)', format($q$SELECT * FROM statusflow.stale(%L, NULL, '3 days')$q$, :'tbl')),
	('queue_position(key)', format($q$SELECT * FROM statusflow.queue_position(%L, 12346)$q$, :'tbl')),
	('status_at(key)', format($q$SELECT statusflow.status_at(%L, 12345, '2024-06-01')$q$, :'tbl')),
	('timeline(key)', format($q$SELECT * FROM statusflow.timeline(%L, 12345)$q$, :'tbl')),
	('dashboard()', format($q$SELECT * FROM statusflow.dashboard(%L)$q$, :'tbl'));

-- the reports that summaries serve
UPDATE bench_query SET summarized = true
WHERE name IN ('status_counts(until)', 'funnel()', 'funnel_cohorts(week)',
			   'time_in_status()', 'transition_matrix()', 'transition_matrix(last week)',
			   'entry_series(day)', 'entry_series(week, December)', 'dashboard()')
  AND EXISTS (SELECT 1 FROM statusflow.summaries s WHERE s.table_name = :'tbl'::regclass);

CREATE TEMP TABLE bench_time (n integer, round integer, ms double precision,
							  summaries boolean);
SET bench.rounds = :rounds;
SET bench.repeat = :repeat;
DO $$
DECLARE
	q record;
BEGIN
	-- a first run of every query warms the caches
	FOR round IN 0 .. current_setting('bench.rounds')::integer LOOP
		FOR q IN SELECT * FROM bench_query ORDER BY n LOOP
			IF q.summarized THEN
				FOR i IN 1 .. current_setting('bench.repeat')::integer LOOP
					INSERT INTO bench_time VALUES (q.n, round, pg_temp.bench_ms(q.query), true);
				END LOOP;
				BEGIN
					UPDATE statusflow.summary SET folded = NULL;
					RAISE EXCEPTION USING ERRCODE = 'SFBEN', MESSAGE = pg_temp.bench_ms(q.query);
				EXCEPTION WHEN SQLSTATE 'SFBEN' THEN
					INSERT INTO bench_time VALUES (q.n, round, SQLERRM::double precision, false);
				END;
			ELSE
				INSERT INTO bench_time VALUES (q.n, round, pg_temp.bench_ms(q.query), false);
			END IF;
		END LOOP;
	END LOOP;
END
$$;

\pset footer off
\pset format unaligned
\pset fieldsep '|'
\pset tuples_only on
WITH m AS (
	SELECT t.n, t.summaries, percentile_disc(0.5) WITHIN GROUP (ORDER BY t.ms) AS ms
	FROM bench_time t WHERE t.round > 0 GROUP BY t.n, t.summaries),
c AS (SELECT m.ms FROM m WHERE m.n = 1)
SELECT q.name, round(h.ms::numeric, 1), round((h.ms / c.ms)::numeric, 2),
	   round(s.ms::numeric, 1), round((s.ms / c.ms)::numeric, 2)
FROM bench_query q CROSS JOIN c
JOIN m h ON h.n = q.n AND NOT h.summaries
LEFT JOIN m s ON s.n = q.n AND s.summaries
ORDER BY q.n;

-- Measure every report on table :"tbl" (made by gen_reports.sql): :rounds
-- interleaved rounds, each report run to completion (its rows counted) and
-- timed inside the server, next to SELECT count(*) over the history table.
-- Prints one line per report: name, median milliseconds, ratio to count(*).
\set ON_ERROR_STOP on
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

CREATE TEMP TABLE bench_query (n serial, name text, query text);
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

CREATE TEMP TABLE bench_time (n integer, round integer, ms double precision);
SET bench.rounds = :rounds;
DO $$
DECLARE
	q record;
BEGIN
	-- a first run of every query warms the caches
	FOR round IN 0 .. current_setting('bench.rounds')::integer LOOP
		FOR q IN SELECT * FROM bench_query ORDER BY n LOOP
			INSERT INTO bench_time VALUES (q.n, round, pg_temp.bench_ms(q.query));
		END LOOP;
	END LOOP;
END
$$;

\pset footer off
\pset format unaligned
\pset fieldsep '|'
\pset tuples_only on
WITH m AS (
	SELECT t.n, percentile_disc(0.5) WITHIN GROUP (ORDER BY t.ms) AS ms
	FROM bench_time t WHERE t.round > 0 GROUP BY t.n)
SELECT q.name, round(m.ms::numeric, 1),
	   round((m.ms / (SELECT m1.ms FROM m m1 WHERE m1.n = 1))::numeric, 2)
FROM bench_query q JOIN m ON m.n = q.n ORDER BY q.n;

-- The reports bench/reports.sh times (included by reports_measure.sql and
-- reports_growth.sql): pg_temp.bench_ms(query), the milliseconds of one run
-- of a query to completion (its rows counted, inside the server), and
-- pg_temp.bench_queries(tbl), every report on table tbl (made by
-- gen_reports.sql) as (n, name, query, summarized): summarized says whether
-- summaries serve the report, when the table keeps summaries.
\ir reports_output.sql

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

CREATE OR REPLACE FUNCTION pg_temp.bench_queries(tbl text)
RETURNS TABLE (n integer, name text, query text, summarized boolean)
LANGUAGE sql AS $$
	SELECT q.n, q.name, q.query,
		   q.name IN ('status_counts(until)', 'funnel()', 'funnel_cohorts(week)',
					  'time_in_status()', 'transition_matrix()', 'transition_matrix(last week)',
					  'entry_series(day)', 'entry_series(week, December)', 'dashboard()')
		   AND EXISTS (SELECT 1 FROM statusflow.summaries s WHERE s.table_name = tbl::regclass)
	FROM (VALUES
		(1, 'count(*) over history', format('SELECT count(*) FROM %I', tbl || '_history')),
		(2, 'status_counts()', format($q$SELECT * FROM statusflow.status_counts(%L)$q$, tbl)),
		(3, 'status_counts(until)', format($q$SELECT * FROM statusflow.status_counts(%L, until => '2024-07-01')$q$, tbl)),
		(4, 'group_counts()', format($q$SELECT * FROM statusflow.group_counts(%L)$q$, tbl)),
		(5, 'funnel()', format($q$SELECT * FROM statusflow.funnel(%L)$q$, tbl)),
		(6, 'funnel(one account)', format($q$SELECT * FROM statusflow.funnel(%L, filter => '{"account_id": 42}')$q$, tbl)),
		(7, 'funnel_cohorts(week)', format($q$SELECT * FROM statusflow.funnel_cohorts(%L, period => 'week')$q$, tbl)),
		(8, 'time_in_status()', format($q$SELECT * FROM statusflow.time_in_status(%L)$q$, tbl)),
		(9, 'time_in_status(June)', format($q$SELECT * FROM statusflow.time_in_status(%L, '2024-06-01', '2024-07-01')$q$, tbl)),
		(10, 'transition_matrix()', format($q$SELECT * FROM statusflow.transition_matrix(%L)$q$, tbl)),
		(11, 'transition_matrix(last week)', format($q$SELECT * FROM statusflow.transition_matrix(%L, since => '2025-01-25')$q$, tbl)),
		(12, 'entry_series(day)', format($q$SELECT * FROM statusflow.entry_series(%L, 'day', until => '2025-03-01')$q$, tbl)),
		(13, 'entry_series(week, December)', format($q$SELECT * FROM statusflow.entry_series(%L, 'week', '2024-12-01', '2025-01-01')$q$, tbl)),
		(14, 'stale(no_sms_reply, 3 days)', format($q$SELECT * FROM statusflow.stale(%L, 'no_sms_reply', '3 days')$q$, tbl)),
		(15, 'stale(any open status)', format($q$SELECT * FROM statusflow.stale(%L, NULL, '3 days')$q$, tbl)),
		(16, 'queue_position(key)', format($q$SELECT * FROM statusflow.queue_position(%L, 12346)$q$, tbl)),
		(17, 'status_at(key)', format($q$SELECT statusflow.status_at(%L, 12345, '2024-06-01')$q$, tbl)),
		(18, 'timeline(key)', format($q$SELECT * FROM statusflow.timeline(%L, 12345)$q$, tbl)),
		(19, 'dashboard()', format($q$SELECT * FROM statusflow.dashboard(%L)$q$, tbl))) AS q(n, name, query)
$$;

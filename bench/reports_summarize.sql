-- Summaries for bench/reports.sh on table :"tbl" (made by gen_reports.sql):
-- enable them (the fold of the whole history), then add a tail of history
-- rows not folded yet (:tail changes of as many entities, each flipping its
-- conversation status), fold that tail once to time a refresh, and add
-- another tail of the same size that the reports will read unfolded.
-- Prints: the seconds of the whole fold, the milliseconds of the refresh,
-- the tail's rows, and the size of the summary tables.
\ir reports_output.sql

CREATE OR REPLACE FUNCTION pg_temp.add_tail(tbl text, n integer, skip integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	added bigint;
BEGIN
	EXECUTE format($q$
		INSERT INTO %1$I (id, from_status, to_status, event, actor, occurred_at, recorded_at)
		SELECT l.id, l.to_status,
			   CASE WHEN l.to_status = 'no_sms_reply' THEN 'sms_in_progress'
					ELSE 'no_sms_reply' END::bench_outreach_status,
			   CASE WHEN l.to_status = 'no_sms_reply' THEN 'reply' ELSE 'send_sms' END,
			   'bench-tail', l.occurred_at + interval '1 hour', now()
		FROM (SELECT DISTINCT ON (h.id) h.id, h.to_status, h.occurred_at FROM %1$I h
			  WHERE h.id IN (SELECT e.id FROM %2$I e
							 WHERE e.status IN ('no_sms_reply', 'sms_in_progress')
							 ORDER BY e.id OFFSET $2 LIMIT $1)
			  ORDER BY h.id, h.history_id DESC) l$q$, tbl || '_history', tbl)
	USING n, skip;
	GET DIAGNOSTICS added = ROW_COUNT;
	RETURN added;
END
$$;

SELECT set_config('bench.t0', clock_timestamp()::text, false) IS NULL;
SELECT statusflow.enable_summaries(:'tbl') IS NULL;
SELECT 'full fold s|' || round(extract(epoch FROM clock_timestamp()
									 - current_setting('bench.t0')::timestamptz)::numeric, 1);
SELECT pg_temp.add_tail(:'tbl', :tail, 0) IS NULL;
SELECT set_config('bench.t0', clock_timestamp()::text, false) IS NULL;
SELECT 'refresh of ' || statusflow.refresh_summaries(:'tbl') || ' rows ms|'
	   || round(1000 * extract(epoch FROM clock_timestamp()
							   - current_setting('bench.t0')::timestamptz)::numeric, 1);
SELECT 'tail rows|' || pg_temp.add_tail(:'tbl', :tail, :tail);
SELECT 'summary tables|' || pg_size_pretty(pg_total_relation_size(s.counts_table)
										  + pg_total_relation_size(s.entities_table))
	   || ' (history ' || pg_size_pretty(pg_total_relation_size(:'tbl_history')) || ')'
FROM statusflow.summaries s WHERE s.table_name = :'tbl'::regclass;
-- as autovacuum would (the benchmark's server runs without it): the
-- history and the summary tables vacuumed, so that index-only scans work
VACUUM ANALYZE :"tbl_history";
SELECT format('VACUUM ANALYZE %s', t)
FROM statusflow.summaries, unnest(ARRAY[counts_table, entities_table]) t
WHERE table_name = :'tbl'::regclass \gexec

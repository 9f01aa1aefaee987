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
\ir reports_queries.sql
\if :{?repeat}
\else
\set repeat 1
\endif
CREATE TEMP TABLE bench_query AS SELECT * FROM pg_temp.bench_queries(:'tbl');

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

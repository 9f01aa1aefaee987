-- How the reports that summaries serve grow from table :"tbl" to table
-- :"other" (both made by gen_reports.sql, both keeping summaries), measured
-- side by side: :pairs pairs of runs of each report, one on each table, the
-- pair's order alternating (after a warm-up pair).  Comparing medians taken
-- in separate rounds mixes the growth with the machine's drift between
-- rounds; the two runs of a pair come one right after the other.  Prints one line per report: name, median
-- milliseconds on each table, and the median of the pairs' ratios
-- (:"other" / :"tbl").
\ir reports_queries.sql
\if :{?pairs}
\else
\set pairs 21
\endif
CREATE TEMP TABLE bench_pair (n integer, pair integer, ms double precision,
							  other_ms double precision);
SET bench.pairs = :pairs;
SET bench.tbl = :'tbl';
SET bench.other = :'other';
DO $$
DECLARE
	q record;
	a double precision;
	b double precision;
BEGIN
	FOR q IN SELECT x.n, x.query, y.query AS other_query
			 FROM pg_temp.bench_queries(current_setting('bench.tbl')) x
			 JOIN pg_temp.bench_queries(current_setting('bench.other')) y USING (n)
			 WHERE x.summarized AND y.summarized ORDER BY x.n LOOP
		FOR pair IN 0 .. current_setting('bench.pairs')::integer LOOP
			IF pair % 2 = 0 THEN
				a := pg_temp.bench_ms(q.query);
				b := pg_temp.bench_ms(q.other_query);
			ELSE
				b := pg_temp.bench_ms(q.other_query);
				a := pg_temp.bench_ms(q.query);
			END IF;
			INSERT INTO bench_pair VALUES (q.n, pair, a, b);
		END LOOP;
	END LOOP;
END
$$;

SELECT q.name, round(percentile_disc(0.5) WITHIN GROUP (ORDER BY p.ms)::numeric, 1),
	   round(percentile_disc(0.5) WITHIN GROUP (ORDER BY p.other_ms)::numeric, 1),
	   round(percentile_disc(0.5) WITHIN GROUP (ORDER BY p.other_ms / p.ms)::numeric, 2)
FROM bench_pair p
JOIN pg_temp.bench_queries(:'tbl') q USING (n)
WHERE p.pair > 0
GROUP BY q.n, q.name
ORDER BY q.n;

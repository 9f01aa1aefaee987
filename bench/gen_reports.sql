-- Benchmark data for bench/reports.sh: an SMS outreach list of :entities
-- accounts in table :"tbl", bound to workflow "bench_outreach", with exactly
-- 10 history rows per entity on average, or 10 times :depth (1 unless set),
-- written directly (as the owner may).
--
-- Entity i has :depth * (1 + 2 * ((3 i) mod 10)) rows (at depth 1: 1, 3, ..., 19, a mean
-- of 10 over every 10 entities): new_account, then no_sms_reply and sms_in_progress
-- flipping back and forth (who sent the last message), and for two thirds of
-- them an ending: a sale (sale_in_progress, then sold or no_sale) or
-- no_sale.  Entities start over a year (from 2024-01-01), or over :years
-- years of 365 days ending where that one ends; their steps are 1 to 48 hours
-- apart.  Rows are inserted in time order, as they would be recorded, so that
-- the heap follows occurred_at.
\set ON_ERROR_STOP on
\if :{?depth}
\else
\set depth 1
\endif
\if :{?years}
\else
\set years 1
\endif
SET client_min_messages = warning;

SELECT NOT EXISTS (SELECT 1 FROM statusflow.workflows
				  WHERE workflow = 'bench_outreach') AS new_workflow \gset
\if :new_workflow
SELECT statusflow.create_workflow('bench_outreach',
	ARRAY['new_account', 'no_sms_reply', 'sms_in_progress', 'sale_in_progress',
		  'sold', 'no_sale'],
	initial => ARRAY['new_account'], terminal => ARRAY['sold', 'no_sale']);
SELECT statusflow.set_status_info('bench_outreach', s, group_name => g)
FROM (VALUES ('new_account', 'new'), ('no_sms_reply', 'conversation'),
			 ('sms_in_progress', 'conversation'), ('sale_in_progress', 'sale'),
			 ('sold', 'closed'), ('no_sale', 'closed')) v(s, g);
SELECT statusflow.add_transition('bench_outreach', f, t, event => e, kind => k)
FROM (VALUES (ARRAY['new_account'], 'no_sms_reply', 'send_sms', 'manual'),
			 (ARRAY['new_account'], 'sms_in_progress', 'reply', 'automatic'),
			 (ARRAY['no_sms_reply'], 'sms_in_progress', 'reply', 'automatic'),
			 (ARRAY['sms_in_progress'], 'no_sms_reply', 'send_sms', 'automatic'),
			 (ARRAY['sms_in_progress'], 'sale_in_progress', 'log_sale', 'manual'),
			 (ARRAY['sale_in_progress'], 'sold', 'sell', 'manual'),
			 (ARRAY['no_sms_reply', 'sms_in_progress', 'sale_in_progress'],
			  'no_sale', 'log_no_sale', 'manual')) v(f, t, e, k);
\endif

-- the status of step j (0-based) of entity i, whose path has n steps
CREATE OR REPLACE FUNCTION bench_step(i bigint, j bigint, n bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN j < 0 THEN NULL
		WHEN j = 0 THEN 'new_account'
		WHEN i % 3 = 0 AND n >= 5 AND j = n - 2 THEN 'sale_in_progress'
		WHEN i % 3 = 0 AND n >= 5 AND j = n - 1 THEN
			CASE WHEN i % 6 = 0 THEN 'sold' ELSE 'no_sale' END
		WHEN i % 3 = 1 AND n >= 3 AND j = n - 1 THEN 'no_sale'
		WHEN j % 2 = CASE WHEN i % 6 = 5 THEN 0 ELSE 1 END THEN 'no_sms_reply'
		ELSE 'sms_in_progress' END
$$;

DROP TABLE IF EXISTS :"tbl";
DROP TABLE IF EXISTS :"tbl_history";
CREATE TABLE :"tbl" (
	id bigint PRIMARY KEY,
	account_id integer NOT NULL,
	phone text NOT NULL,
	status bench_outreach_status NOT NULL
);
INSERT INTO :"tbl"
SELECT i, 1 + i % 1000, '+1555' || lpad(i::text, 7, '0'),
	   bench_step(i, n - 1, n)::bench_outreach_status
FROM generate_series(1::bigint, :entities) i, LATERAL (SELECT :depth * (1 + 2 * ((3 * i) % 10)) AS n) p;
SELECT statusflow.attach(:'tbl', 'status', 'bench_outreach',
						 history_table => :'tbl_history', backfill => false);

SET work_mem = '512MB';
INSERT INTO :"tbl_history" (id, from_status, to_status, event, actor, occurred_at,
							recorded_at)
SELECT i, bench_step(i, j - 1, n)::bench_outreach_status,
	   bench_step(i, j, n)::bench_outreach_status,
	   t.event, CASE WHEN t.kind = 'automatic' THEN 'sms-gateway' ELSE 'agent-' || i % 50 END,
	   at, at
FROM generate_series(1::bigint, :entities) i
CROSS JOIN LATERAL (SELECT :depth * (1 + 2 * ((3 * i) % 10)) AS n,
						   timestamptz '2024-01-01 00:00+00' - (:years - 1) * interval '365 days'
						   + (i * 7919 % :entities) * :years * interval '365 days' / :entities
						   AS start,
						   (1 + i % 48) * interval '1 hour' AS gap) p
CROSS JOIN LATERAL generate_series(0, n - 1) j
CROSS JOIN LATERAL (SELECT start + j * gap AS at) a
LEFT JOIN statusflow.transitions t
	   ON t.workflow = 'bench_outreach' AND t.from_status = bench_step(i, j - 1, n)
	  AND t.to_status = bench_step(i, j, n)
ORDER BY at;
RESET work_mem;
VACUUM ANALYZE :"tbl";
VACUUM ANALYZE :"tbl_history";

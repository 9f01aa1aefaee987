-- Data for bench/automation.sh.
-- Ingestion: :messages messages in a monotonic receipts workflow and a stream
-- of 10 receipts per message: 5 fresh (in order), 3 duplicates of earlier
-- receipts, 2 that arrive late (a lower status, under a new id).  The same
-- stream also goes into a plain event table with ON CONFLICT DO NOTHING.
-- Timers: :entities rows waiting in three copies, 1% of them due.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;

SELECT statusflow.create_workflow('bench_receipts',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'converted'],
	ARRAY['queued'], monotonic => true);
SELECT statusflow.add_transition('bench_receipts', ARRAY[f], t)
FROM (VALUES ('queued', 'sent'), ('sent', 'delivered'), ('delivered', 'opened'),
			 ('opened', 'clicked'), ('clicked', 'converted')) AS p(f, t);
CREATE TABLE bench_messages (id int PRIMARY KEY,
							 status bench_receipts_status NOT NULL DEFAULT 'queued');
INSERT INTO bench_messages SELECT g FROM generate_series(1, :messages) g;
SELECT statusflow.attach('bench_messages', 'status', 'bench_receipts', backfill => false);

-- the receipts of one message, in arrival order: (position, status, id suffix)
CREATE TABLE bench_pattern (pos int, what text, id_suffix text);
INSERT INTO bench_pattern VALUES
	(1, 'sent', 'a'), (2, 'delivered', 'b'), (3, 'sent', 'a'), (4, 'opened', 'c'),
	(5, 'delivered', 'b'), (6, 'delivered', 'd'), (7, 'clicked', 'e'), (8, 'opened', 'c'),
	(9, 'opened', 'f'), (10, 'converted', 'g');
CREATE TABLE bench_stream AS
SELECT row_number() OVER (ORDER BY p.pos, m.id) AS n, m.id AS message, p.what,
	   m.id || '-' || p.id_suffix AS event_id
FROM bench_messages m, bench_pattern p;
CREATE TABLE bench_events (event_id text PRIMARY KEY, message int NOT NULL, what text NOT NULL,
						   received_at timestamptz NOT NULL DEFAULT now());

SELECT statusflow.create_workflow('bench_timers', ARRAY['waiting', 'due'], ARRAY['waiting']);
SELECT statusflow.add_transition('bench_timers', ARRAY['waiting'], 'due', event => 'wake');
CREATE TABLE bench_jobs_plain (id int PRIMARY KEY, wake_at timestamptz NOT NULL,
							   status bench_timers_status NOT NULL DEFAULT 'waiting');
INSERT INTO bench_jobs_plain
SELECT g, CASE WHEN g % 100 = 0 THEN now() - interval '1 hour' ELSE now() + interval '1 day' END
FROM generate_series(1, :entities) g;
CREATE INDEX ON bench_jobs_plain (status, wake_at);
CREATE TABLE bench_jobs_bound (LIKE bench_jobs_plain INCLUDING ALL);
INSERT INTO bench_jobs_bound SELECT * FROM bench_jobs_plain;
CREATE TABLE bench_jobs_tick (LIKE bench_jobs_plain INCLUDING ALL);
INSERT INTO bench_jobs_tick SELECT * FROM bench_jobs_plain;
SELECT statusflow.attach('bench_jobs_bound', 'status', 'bench_timers', backfill => false);
SELECT statusflow.attach('bench_jobs_tick', 'status', 'bench_timers', backfill => false);
SELECT statusflow.add_timer('bench_timers', 'waiting', at_column => 'wake_at', event => 'wake');
VACUUM ANALYZE;

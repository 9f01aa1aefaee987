-- Data for bench/automation.sh.
-- Ingestion: :messages messages in a monotonic receipts workflow and a stream
-- of 10 receipts per message: 5 fresh (in order), 3 duplicates of earlier
-- receipts, 2 that arrive late (a lower status, under a new id).  The same
-- stream also goes into a plain event table with ON CONFLICT DO NOTHING, and
-- through a PL/pgSQL function a user would write without statusflow.  The
-- messages come in three bound copies: for ingest(), for ingest_batch() over
-- the whole stream, and in batches of 1000.
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

-- copies of the messages for ingest_batch(), whole and in batches of 1000
CREATE TABLE bench_messages_all (LIKE bench_messages INCLUDING ALL);
CREATE TABLE bench_messages_1000 (LIKE bench_messages INCLUDING ALL);
INSERT INTO bench_messages_all SELECT * FROM bench_messages;
INSERT INTO bench_messages_1000 SELECT * FROM bench_messages;
SELECT statusflow.attach('bench_messages_all', 'status', 'bench_receipts', backfill => false);
SELECT statusflow.attach('bench_messages_1000', 'status', 'bench_receipts', backfill => false);
-- the stream as the arrays a driver sends: whole (batch 0), and in batches of 1000
CREATE TABLE bench_batches AS
SELECT 0 AS size, 0 AS batch, array_agg(message ORDER BY n) AS messages,
	   array_agg(what ORDER BY n) AS whats, array_agg(event_id ORDER BY n) AS event_ids
FROM bench_stream
UNION ALL
SELECT 1000, (n - 1) / 1000, array_agg(message ORDER BY n), array_agg(what ORDER BY n),
	   array_agg(event_id ORDER BY n)
FROM bench_stream GROUP BY (n - 1) / 1000;

-- the same receipts without statusflow, as a user would write them: a
-- PL/pgSQL function called per receipt stores it (ON CONFLICT DO NOTHING),
-- and when it is new and ranks higher moves the status and writes a history row
CREATE TYPE bench_plain_status AS ENUM ('queued', 'sent', 'delivered', 'opened', 'clicked', 'converted');
CREATE TABLE bench_plain_messages (id int PRIMARY KEY,
								   status bench_plain_status NOT NULL DEFAULT 'queued');
INSERT INTO bench_plain_messages SELECT g FROM generate_series(1, :messages) g;
CREATE TABLE bench_plain_events (event_id text PRIMARY KEY, message int NOT NULL, what text NOT NULL,
								 received_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_plain_history (history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id int NOT NULL, from_status bench_plain_status, to_status bench_plain_status NOT NULL,
	event_id text, occurred_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON bench_plain_history (id, history_id);
CREATE FUNCTION bench_plain_ingest(p_message int, p_what text, p_event_id text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	current bench_plain_status;
	target bench_plain_status := p_what::bench_plain_status;
BEGIN
	INSERT INTO bench_plain_events (event_id, message, what)
	VALUES (p_event_id, p_message, p_what) ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN 'duplicate';
	END IF;
	SELECT status INTO current FROM bench_plain_messages WHERE id = p_message FOR UPDATE;
	IF target <= current THEN
		RETURN 'late';
	END IF;
	UPDATE bench_plain_messages SET status = target WHERE id = p_message;
	INSERT INTO bench_plain_history (id, from_status, to_status, event_id)
	VALUES (p_message, current, target, p_event_id);
	RETURN 'applied';
END $$;

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

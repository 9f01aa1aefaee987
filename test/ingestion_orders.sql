-- pgTAP: receipts in any order.  A realistic sequence of delivery receipts
-- (sent, delivered, opened, clicked, the delivered receipt again, a second
-- opened that comes late) is ingested in every one of its 720 orders, each
-- for a message of its own: the message always ends "clicked", its history
-- is always a chain from "queued" to "clicked", and no event id is recorded
-- twice.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;
BEGIN;
SELECT plan(2161);

SELECT statusflow.create_workflow('orders',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked'], ARRAY['queued'],
	monotonic => true);
SELECT statusflow.add_transition('orders', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('orders', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('orders', ARRAY['delivered'], 'opened', event => 'open');
SELECT statusflow.add_transition('orders', ARRAY['opened'], 'clicked', event => 'click');
CREATE TABLE messages (id int PRIMARY KEY, status orders_status NOT NULL DEFAULT 'queued');
SELECT statusflow.attach('messages', 'status', 'orders');

-- the receipts: (status or event, event id)
CREATE TABLE receipts (n int PRIMARY KEY, what text, event_id text);
INSERT INTO receipts VALUES
	(1, 'sent', 'r-sent'), (2, 'deliver', 'r-delivered'), (3, 'opened', 'r-opened'),
	(4, 'click', 'r-clicked'), (5, 'deliver', 'r-delivered'), (6, 'opened', 'r-opened-2');

-- every order of the six receipts
CREATE TABLE orders_tried AS
WITH RECURSIVE perm(seq) AS (
	SELECT ARRAY[n] FROM receipts
	UNION ALL
	SELECT p.seq || r.n FROM perm p, receipts r WHERE r.n <> ALL (p.seq)
)
SELECT row_number() OVER (ORDER BY seq)::int AS id, seq FROM perm WHERE cardinality(seq) = 6;
SELECT is((SELECT count(*)::int FROM orders_tried), 720, 'every order of the six receipts');

-- ingest each order for a message of its own; the event ids are per message
CREATE FUNCTION ingest_order(message int, seq int[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	step int;
BEGIN
	INSERT INTO messages VALUES (message);
	FOREACH step IN ARRAY seq LOOP
		PERFORM statusflow.ingest('messages', message, r.what,
								  event_id => message || '/' || r.event_id)
		FROM receipts r WHERE r.n = step;
	END LOOP;
END $$;
SELECT ingest_order(id, seq) FROM orders_tried;

SELECT is(m.status::text, 'clicked', format('order %s ends clicked', o.seq))
FROM orders_tried o JOIN messages m USING (id) ORDER BY o.id;

SELECT is(c.chain, 'queued sent delivered opened clicked',
		  format('order %s: the applied history is the chain queued to clicked', o.seq))
FROM orders_tried o
JOIN (SELECT id, string_agg(to_status::text, ' ' ORDER BY history_id) AS chain
	  FROM messages_status_history WHERE applied GROUP BY id) c USING (id)
ORDER BY o.id;

SELECT is(r.ids, r.distinct_ids, format('order %s: each event id recorded once', o.seq))
FROM orders_tried o
JOIN (SELECT id, count(event_id)::int AS ids, count(DISTINCT event_id)::int AS distinct_ids
	  FROM messages_status_history GROUP BY id) r USING (id)
ORDER BY o.id;

SELECT * FROM finish();
ROLLBACK;

-- Ingestion of provider events: at most once per event id, never out of a
-- terminal or sticky status, never back in rank in a monotonic workflow
-- (late receipts are kept as not applied), forward along the workflow.
\set SHOW_CONTEXT never

SELECT statusflow.create_workflow('receipts',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'],
	ARRAY['queued'], ARRAY['unsubscribed'], monotonic => true);
SELECT statusflow.set_status_info('receipts', 'bounced', sticky => true);
SELECT statusflow.add_transition('receipts', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('receipts', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('receipts', ARRAY['delivered'], 'opened', event => 'open');
SELECT statusflow.add_transition('receipts', ARRAY['opened'], 'clicked', event => 'click');
SELECT statusflow.add_transition('receipts', ARRAY['sent', 'delivered'], 'bounced', event => 'bounce');
SELECT statusflow.add_transition('receipts', ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced'],
								 'unsubscribed', event => 'unsubscribe');
SELECT workflow, monotonic FROM statusflow.workflows WHERE workflow = 'receipts';
SELECT status, is_terminal, is_sticky FROM statusflow.statuses
WHERE workflow = 'receipts' AND (is_terminal OR is_sticky)
ORDER BY rank;

CREATE TABLE emails (id int PRIMARY KEY, status receipts_status NOT NULL DEFAULT 'queued');
SELECT statusflow.attach('emails', 'status', 'receipts');
INSERT INTO emails SELECT g FROM generate_series(1, 6) g;

-- a receipt names a status or an event; the outcome says what it did
SELECT statusflow.ingest('emails', 1, 'send', '2026-03-01 10:00+00', 'ev-1');
SELECT statusflow.ingest('emails', 1, 'delivered', '2026-03-01 10:01+00', 'ev-2',
						 '{"provider": "acme", "smtp": "250"}');
-- the same event id again changes nothing
SELECT statusflow.ingest('emails', 1, 'delivered', '2026-03-01 10:01+00', 'ev-2');
-- a receipt further on climbs the workflow, the steps between noted as implied
SELECT statusflow.ingest('emails', 1, 'clicked', '2026-03-01 10:05+00', 'ev-3');
-- a receipt that arrives late does not move the status back, and is kept
SELECT statusflow.ingest('emails', 1, 'opened', '2026-03-01 10:04+00', 'ev-4');
SELECT statusflow.ingest('emails', 1, 'open', '2026-03-01 10:04+00', 'ev-5');
-- a receipt for the status the row is in
SELECT statusflow.ingest('emails', 1, 'clicked', '2026-03-01 10:06+00', 'ev-6');
SELECT id, from_status, to_status, event, actor, reason, metadata, applied, event_id,
	   CASE WHEN from_status IS NOT NULL THEN occurred_at END AS occurred_at
FROM emails_status_history WHERE id = 1 ORDER BY history_id;

-- sticky and terminal statuses never change through ingestion
SELECT statusflow.ingest('emails', 2, 'bounce', event_id => 'ev-7');
SELECT statusflow.ingest('emails', 2, 'delivered', event_id => 'ev-8');
SELECT statusflow.ingest('emails', 2, 'unsubscribe', event_id => 'ev-9');
SELECT statusflow.ingest('emails', 3, 'unsubscribe', event_id => 'ev-10');
SELECT statusflow.ingest('emails', 3, 'click', event_id => 'ev-11');
-- (a plain UPDATE or the API may still move a sticky row)
SELECT statusflow.fire('emails', 2, 'unsubscribe');
SELECT id, status FROM emails WHERE id IN (2, 3) ORDER BY id;

-- without an event id, a receipt is applied or ignored like any other
SELECT statusflow.ingest('emails', 4, 'sent');
SELECT statusflow.ingest('emails', 4, 'sent');
SELECT statusflow.ingest('emails', 4, 'queued');

-- in a workflow that is not monotonic, only declared transitions apply
SELECT statusflow.set_workflow_info('receipts', monotonic => false);
SELECT statusflow.ingest('emails', 5, 'opened', event_id => 'ev-12');
SELECT statusflow.ingest('emails', 5, 'send', event_id => 'ev-13');
SELECT statusflow.ingest('emails', 5, 'open', event_id => 'ev-14');
SELECT statusflow.set_workflow_info('receipts', monotonic => true);
SELECT id, from_status, to_status, event, applied, event_id FROM emails_status_history
WHERE id = 5 ORDER BY history_id;

-- composite and text keys work as for transition()
CREATE TABLE shop_emails (shop text, n int, status receipts_status NOT NULL DEFAULT 'queued',
						  PRIMARY KEY (shop, n));
SELECT statusflow.attach('shop_emails', 'status', 'receipts');
INSERT INTO shop_emails VALUES ('north', 1);
SELECT statusflow.ingest('shop_emails', ROW('north', 1), 'delivered', event_id => 'shop-1');
SELECT statusflow.ingest('shop_emails', '(north,1)', 'deliver', event_id => 'shop-2');
SELECT * FROM shop_emails;

-- errors
SELECT statusflow.ingest('emails', 6, 'nosuch');
SELECT statusflow.ingest('emails', 404, 'send');
SELECT statusflow.ingest('emails', NULL::int, 'send');
SELECT statusflow.ingest('emails', 6, NULL);
SELECT statusflow.ingest('emails', 6, 'send', payload => '[1]');
SELECT statusflow.set_workflow_info('nosuch', monotonic => true);
SELECT status FROM emails WHERE id = 6;

-- a receipt the guards refuse is kept as refused, not applied, and the
-- batch goes on; a monotonic path refused halfway leaves nothing behind
SELECT statusflow.create_workflow('channel_receipts', ARRAY['queued', 'sent', 'delivered', 'opened'],
								  ARRAY['queued'], monotonic => true);
SELECT statusflow.add_transition('channel_receipts', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('channel_receipts', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('channel_receipts', ARRAY['delivered'], 'opened', event => 'open');
SELECT statusflow.set_status_info('channel_receipts', 'opened', condition => 'channel = ''email''');
CREATE TABLE channel_emails (id int PRIMARY KEY, channel text NOT NULL DEFAULT 'email',
							 status channel_receipts_status NOT NULL DEFAULT 'queued');
SELECT statusflow.attach('channel_emails', 'status', 'channel_receipts');
INSERT INTO channel_emails VALUES (1, 'email'), (2, 'sms'), (3, 'email');
SELECT r.id, r.receipt, statusflow.ingest('channel_emails', r.id, r.receipt, event_id => r.ev)
FROM (VALUES (1, 'opened', 'ch-1'), (2, 'opened', 'ch-2'), (3, 'open', 'ch-3'),
			 (2, 'delivered', 'ch-4'), (2, 'open', 'ch-5')) AS r(id, receipt, ev)
ORDER BY r.ev;
SELECT id, status FROM channel_emails ORDER BY id;
SELECT id, from_status, to_status, event, applied, event_id, reason
FROM channel_emails_status_history
WHERE event_id IS NOT NULL OR reason IS NOT NULL ORDER BY history_id;
-- its event id is known: the same receipt again is a duplicate
SELECT statusflow.ingest('channel_emails', 2, 'opened', event_id => 'ch-2');
-- other errors still abort
SELECT statusflow.ingest('channel_emails', 404, 'opened', event_id => 'ch-6');
SELECT statusflow.detach('channel_emails');
DROP TABLE channel_emails, channel_emails_status_history;
SELECT statusflow.drop_workflow('channel_receipts');

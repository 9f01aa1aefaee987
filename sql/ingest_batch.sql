-- ingest_batch(): many receipts in one call, each with the outcome ingest()
-- would give it in turn (test/ingest_batch_equivalence.sql compares the two
-- on random streams).
\set SHOW_CONTEXT never

-- the SQLSTATE and message of a statement's error
CREATE FUNCTION batch_error(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT statusflow.create_workflow('batch_receipts',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'],
	ARRAY['queued'], ARRAY['unsubscribed'], monotonic => true);
SELECT statusflow.set_status_info('batch_receipts', 'bounced', sticky => true);
SELECT statusflow.add_transition('batch_receipts', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('batch_receipts', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('batch_receipts', ARRAY['delivered'], 'opened', event => 'open');
SELECT statusflow.add_transition('batch_receipts', ARRAY['opened'], 'opened', event => 'open');
SELECT statusflow.add_transition('batch_receipts', ARRAY['opened'], 'clicked', event => 'click');
SELECT statusflow.add_transition('batch_receipts', ARRAY['sent', 'delivered'], 'bounced', event => 'bounce');
SELECT statusflow.add_transition('batch_receipts',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced'], 'unsubscribed',
	event => 'unsubscribe');
CREATE TABLE batch_mail (id int PRIMARY KEY, status batch_receipts_status NOT NULL DEFAULT 'queued');
SELECT statusflow.attach('batch_mail', 'status', 'batch_receipts');
INSERT INTO batch_mail SELECT g FROM generate_series(1, 8) g;

-- every outcome in one batch; n is the receipt's place in the arrays
SELECT * FROM statusflow.ingest_batch('batch_mail',
	keys => ARRAY[1, 1, 2, 1, 1, 3, 3, 4, 4, 4, 5, 2, 6, 6, 7, 2],
	statuses_or_events => ARRAY['send', 'clicked', 'opened', 'opened', 'clicked', 'bounce',
		'delivered', 'unsubscribe', 'click', 'unsubscribe', 'queued', 'open', 'sent', 'sent',
		'opened', 'bounce'],
	occurred_at => ARRAY['2026-03-01 10:00+00', '2026-03-01 10:05+00', NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]::timestamptz[],
	event_ids => ARRAY['b-1', 'b-2', 'b-3', 'b-4', 'b-2', 'b-5', 'b-6', 'b-7', 'b-8', 'b-9',
		'b-10', 'b-11', NULL, NULL, 'b-1', 'b-12'],
	payloads => ARRAY['{"smtp": "250"}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL]::jsonb[]);
SELECT id, status FROM batch_mail ORDER BY id;
-- each row's history in order: implied steps, receipts kept as not applied,
-- a repeated event, the who and why of each receipt
SELECT id, from_status, to_status, event, actor, reason, metadata, applied, event_id,
	   CASE WHEN occurred_at <> recorded_at THEN occurred_at END AS occurred_at
FROM batch_mail_status_history WHERE from_status IS NOT NULL ORDER BY id, history_id;

-- an id already in the history is a duplicate in a later batch, for any row
SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[8, 8, 8],
	ARRAY['sent', 'delivered', 'opened'], event_ids => ARRAY['b-9', 'b-13', 'b-13']);
-- an empty batch does nothing
SELECT count(*) FROM statusflow.ingest_batch('batch_mail', '{}'::int[], '{}');

-- keys as an array literal in text, as drivers send an array parameter
SELECT * FROM statusflow.ingest_batch('batch_mail', '{7,8}', ARRAY['click', 'deliver']);
SELECT * FROM statusflow.ingest_batch('batch_mail', '{7,8}'::text, ARRAY['clicked', 'delivered']);
SELECT id, status FROM batch_mail WHERE id IN (7, 8) ORDER BY id;

-- composite keys: rows, or their text forms
CREATE TABLE batch_shop_mail (shop text, n int, status batch_receipts_status NOT NULL DEFAULT 'queued',
							  PRIMARY KEY (shop, n));
SELECT statusflow.attach('batch_shop_mail', 'status', 'batch_receipts');
INSERT INTO batch_shop_mail VALUES ('north', 1), ('north', 2), ('south', 1);
SELECT * FROM statusflow.ingest_batch('batch_shop_mail',
	ARRAY[ROW('north', 1), ROW('south', 1), ROW('north', 1)], ARRAY['send', 'delivered', 'open']);
SELECT * FROM statusflow.ingest_batch('batch_shop_mail', '{"(north,2)","(south,1)"}',
	ARRAY['sent', 'opened']);
SELECT * FROM batch_shop_mail ORDER BY shop, n;
SELECT shop, n, from_status, to_status, event, reason FROM batch_shop_mail_status_history
WHERE from_status IS NOT NULL ORDER BY shop, n, history_id;

-- errors: SQLSTATE and message; nothing of a failed batch stays
SELECT count(*) AS history_rows FROM batch_mail_status_history;
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch(NULL, ARRAY[1], ARRAY['send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', NULL::int[], ARRAY['send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1], NULL)$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1, NULL], ARRAY['send', 'send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1, 2], ARRAY['send', NULL])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1, 2], ARRAY['send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1, 2], ARRAY['send', 'send'],
	occurred_at => ARRAY[now()])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1, 2], ARRAY['send', 'send'],
	event_ids => ARRAY['x', 'y', 'z'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1, 2], ARRAY['send', 'send'],
	payloads => '{}'::jsonb[])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[[1, 2], [3, 4]],
	ARRAY['send', 'send', 'send', 'send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1, 2], ARRAY[['send'], ['send']])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[8, 1], ARRAY['click', 'nosuch'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1.5], ARRAY['send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[1], ARRAY['send'],
	occurred_at => ARRAY['infinity']::timestamptz[])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[8, 404, 405], ARRAY['click', 'send', 'send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[8], ARRAY['click'],
	event_ids => ARRAY[repeat('x', 201)])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[8], ARRAY['click'],
	payloads => ARRAY['[1]']::jsonb[])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', 42, ARRAY['click'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_shop_mail', ARRAY[1], ARRAY['send'])$$);
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_error', ARRAY[1], ARRAY['send'])$$);
SELECT count(*) AS history_rows FROM batch_mail_status_history;
-- a duplicate with a payload that could not be kept is still a duplicate, as for ingest()
SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[8], ARRAY['click'],
	event_ids => ARRAY['b-9'], payloads => ARRAY['[1]']::jsonb[]);

-- refused receipts: a guard refuses some; they are kept as not applied,
-- the refusal as their reason, and the batch goes on, the receipts after
-- them for the same row included
SELECT statusflow.create_workflow('batch_channel', ARRAY['queued', 'sent', 'delivered', 'opened'],
								  ARRAY['queued'], monotonic => true);
SELECT statusflow.add_transition('batch_channel', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('batch_channel', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('batch_channel', ARRAY['delivered'], 'opened', event => 'open');
SELECT statusflow.add_transition('batch_channel', ARRAY['opened'], 'opened', event => 'open',
								 max_uses => 1);
SELECT statusflow.set_status_info('batch_channel', 'opened', condition => 'channel = ''email''');
CREATE TABLE batch_channel_mail (id int PRIMARY KEY, channel text NOT NULL,
								 status batch_channel_status NOT NULL DEFAULT 'queued');
SELECT statusflow.attach('batch_channel_mail', 'status', 'batch_channel');
INSERT INTO batch_channel_mail VALUES (1, 'email'), (2, 'sms'), (3, 'email');
SELECT * FROM statusflow.ingest_batch('batch_channel_mail', ARRAY[1, 2, 3, 2, 2, 3, 3, 3],
	ARRAY['opened', 'opened', 'open', 'delivered', 'open', 'open', 'open', 'open'],
	event_ids => ARRAY['c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6', 'c-7', 'c-2']);
SELECT id, status FROM batch_channel_mail ORDER BY id;
SELECT id, from_status, to_status, event, applied, event_id, reason
FROM batch_channel_mail_status_history WHERE from_status IS NOT NULL ORDER BY id, history_id;

-- workflows and tables where receipts for different rows could see each
-- other are applied one receipt at a time, with the same outcomes: here a
-- statement trigger of the table's own counts the UPDATEs, one per step
-- as for ingest(), and a quota counts entries across rows
CREATE TABLE batch_statements (n int);
CREATE FUNCTION batch_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO batch_statements VALUES (1);
	RETURN NULL;
END $$;
CREATE TABLE batch_counted (id int PRIMARY KEY, account int NOT NULL,
							status batch_receipts_status NOT NULL DEFAULT 'queued');
SELECT statusflow.attach('batch_counted', 'status', 'batch_receipts');
INSERT INTO batch_counted VALUES (1, 1), (2, 1), (3, 2);
CREATE TRIGGER count_statements AFTER UPDATE ON batch_counted
	FOR EACH STATEMENT EXECUTE FUNCTION batch_count_statement();
SELECT * FROM statusflow.ingest_batch('batch_counted', ARRAY[1, 2, 3, 1],
	ARRAY['delivered', 'sent', 'send', 'opened']);
SELECT count(*) AS update_statements FROM batch_statements;
SELECT statusflow.create_workflow('batch_limited', ARRAY['queued', 'sent', 'over'], ARRAY['queued']);
SELECT statusflow.add_transition('batch_limited', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('batch_limited', ARRAY['queued'], 'over');
SELECT statusflow.set_quota('batch_limited', ARRAY['sent'], 'account', 2, overflow_status => 'over') > 0 AS quota_set;
CREATE TABLE batch_limited_mail (id int PRIMARY KEY, account int NOT NULL,
								 status batch_limited_status NOT NULL DEFAULT 'queued');
SELECT statusflow.attach('batch_limited_mail', 'status', 'batch_limited');
INSERT INTO batch_limited_mail VALUES (1, 1), (2, 1), (3, 1), (4, 2);
SELECT * FROM statusflow.ingest_batch('batch_limited_mail', ARRAY[3, 1, 4, 2], ARRAY['send', 'send', 'send', 'send']);
SELECT id, status FROM batch_limited_mail ORDER BY id;

-- not monotonic: only declared transitions apply
SELECT statusflow.create_workflow('batch_free', ARRAY['draft', 'sent', 'failed'], ARRAY['draft']);
SELECT statusflow.add_transition('batch_free', ARRAY['draft'], 'sent', event => 'send');
SELECT statusflow.add_transition('batch_free', ARRAY['sent'], 'failed', event => 'fail');
SELECT statusflow.add_transition('batch_free', ARRAY['failed'], 'sent', event => 'retry');
CREATE TABLE batch_free_mail (id int PRIMARY KEY, status batch_free_status NOT NULL DEFAULT 'draft');
SELECT statusflow.attach('batch_free_mail', 'status', 'batch_free');
INSERT INTO batch_free_mail VALUES (1);
SELECT * FROM statusflow.ingest_batch('batch_free_mail', ARRAY[1, 1, 1, 1, 1, 1],
	ARRAY['failed', 'send', 'fail', 'retry', 'draft', 'failed']);
SELECT status FROM batch_free_mail;

-- privileges: as for ingest(), moving rows takes UPDATE on the table, and
-- event ids SELECT on its history
GRANT SELECT ON batch_mail TO regress_sf_app;
SET ROLE regress_sf_app;
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[5], ARRAY['send'])$$);
SELECT batch_error($$SELECT statusflow.ingest('batch_mail', 5, 'send')$$);
RESET ROLE;
GRANT UPDATE ON batch_mail TO regress_sf_app;
SET ROLE regress_sf_app;
SELECT batch_error($$SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[5], ARRAY['send'], event_ids => ARRAY['p-1'])$$);
SELECT batch_error($$SELECT statusflow.ingest('batch_mail', 5, 'send', event_id => 'p-1')$$);
SELECT * FROM statusflow.ingest_batch('batch_mail', ARRAY[5, 5], ARRAY['send', 'deliver']);
RESET ROLE;
SELECT id, from_status, to_status, event, db_role FROM batch_mail_status_history
WHERE id = 5 AND from_status IS NOT NULL ORDER BY history_id;
REVOKE ALL ON batch_mail FROM regress_sf_app;

SELECT statusflow.detach('batch_mail');
SELECT statusflow.detach('batch_shop_mail');
SELECT statusflow.detach('batch_channel_mail');
SELECT statusflow.detach('batch_counted');
SELECT statusflow.detach('batch_limited_mail');
SELECT statusflow.detach('batch_free_mail');
DROP TABLE batch_mail, batch_mail_status_history, batch_shop_mail, batch_shop_mail_status_history,
	batch_channel_mail, batch_channel_mail_status_history, batch_counted,
	batch_counted_status_history, batch_limited_mail, batch_limited_mail_status_history,
	batch_free_mail, batch_free_mail_status_history, batch_statements;
DROP FUNCTION batch_count_statement(), batch_error(text);
SELECT statusflow.drop_workflow(w)
FROM unnest(ARRAY['batch_receipts', 'batch_channel', 'batch_limited', 'batch_free']) w;

-- History rows: what they record, where the actor, reason and metadata come
-- from, that they follow the transaction, that they are append-only, and
-- pruning.
\set SHOW_CONTEXT never

CREATE TABLE leads (
	id int PRIMARY KEY,
	status invitation_status NOT NULL DEFAULT 'invited'
);
SELECT statusflow.attach('leads', 'status', 'invitation');
GRANT SELECT, INSERT, UPDATE ON leads TO regress_sf_app;

-- one row per change, the first status included; the event of the only
-- transition between two statuses is recorded
INSERT INTO leads VALUES (1);
UPDATE leads SET status = 'sent' WHERE id = 1;
UPDATE leads SET status = 'declined' WHERE id = 1;
UPDATE leads SET status = 'invited' WHERE id = 1;
SELECT id, from_status, to_status, event, actor, db_role, reason, metadata,
	   occurred_at = recorded_at AS occurred_now, txid IS NOT NULL AS has_txid
FROM leads_status_history ORDER BY history_id;

-- actor, reason and metadata from transaction-local settings
BEGIN;
SET LOCAL statusflow.actor = 'worker-7';
SET LOCAL statusflow.reason = 'nightly import';
SET LOCAL statusflow.metadata = '{"batch": 42, "source": "crm"}';
INSERT INTO leads VALUES (2);
UPDATE leads SET status = 'sent' WHERE id = 2;
SELECT txid_current() AS xid \gset
COMMIT;
SELECT id, from_status, to_status, actor, reason, metadata, txid::text = :'xid' AS same_txid
FROM leads_status_history WHERE id = 2 ORDER BY history_id;
-- the settings are gone after the transaction
UPDATE leads SET status = 'opened' WHERE id = 2;
SELECT actor, reason, metadata FROM leads_status_history WHERE id = 2 ORDER BY history_id DESC LIMIT 1;

-- the database role is the current role; the role needs no right on history
SET ROLE regress_sf_app;
INSERT INTO leads VALUES (3);
SELECT count(*) FROM leads_status_history;
RESET ROLE;
SELECT id, to_status, db_role FROM leads_status_history WHERE id = 3;

-- a rolled-back change leaves no history, a rolled-back savepoint neither
BEGIN;
UPDATE leads SET status = 'sent' WHERE id = 3;
ROLLBACK;
BEGIN;
UPDATE leads SET status = 'sent' WHERE id = 3;
SAVEPOINT s;
UPDATE leads SET status = 'accepted' WHERE id = 3;
ROLLBACK TO SAVEPOINT s;
UPDATE leads SET status = 'declined' WHERE id = 3;
COMMIT;
SELECT from_status, to_status FROM leads_status_history WHERE id = 3 ORDER BY history_id;
-- history written in a transaction is visible to it at once
BEGIN;
UPDATE leads SET status = 'invited' WHERE id = 3;
SELECT to_status FROM leads_status_history WHERE id = 3 ORDER BY history_id DESC LIMIT 1;
ROLLBACK;

-- bad settings and values get clear errors and change nothing
INSERT INTO leads VALUES (4);
SET statusflow.metadata = 'not json';
UPDATE leads SET status = 'sent' WHERE id = 4;
SET statusflow.metadata = '[1, 2]';
UPDATE leads SET status = 'sent' WHERE id = 4;
RESET statusflow.metadata;
SET statusflow.reason = 'x';
SELECT set_config('statusflow.reason', repeat('r', 2001), false) IS NOT NULL AS set;
UPDATE leads SET status = 'sent' WHERE id = 4;
RESET statusflow.reason;
SELECT set_config('statusflow.actor', repeat('a', 201), false) IS NOT NULL AS set;
UPDATE leads SET status = 'sent' WHERE id = 4;
RESET statusflow.actor;
SELECT set_config('statusflow.metadata',
				  (SELECT jsonb_object_agg(g::text, repeat('m', 100))::text
				   FROM generate_series(1, 1000) g), false) IS NOT NULL AS set;
UPDATE leads SET status = 'sent' WHERE id = 4;
RESET statusflow.metadata;
-- long but allowed values are kept whole
SELECT set_config('statusflow.reason', repeat('é', 2000), false) IS NOT NULL AS set;
UPDATE leads SET status = 'sent' WHERE id = 4;
RESET statusflow.reason;
SELECT length(reason) FROM leads_status_history WHERE id = 4 ORDER BY history_id DESC LIMIT 1;
SELECT status FROM leads WHERE id = 4;

-- history is append-only, for its owner too
UPDATE leads_status_history SET reason = 'rewritten';
DELETE FROM leads_status_history WHERE id = 1;
TRUNCATE leads_status_history;
-- and others may not even add rows
SET ROLE regress_sf_app;
INSERT INTO leads_status_history (id, to_status) VALUES (1, 'accepted');
DELETE FROM leads_status_history;
RESET ROLE;
SELECT count(*) AS rows_kept FROM leads_status_history;

-- pruning: rows recorded before a time go, each entity keeps its latest row
SELECT count(*) AS before_prune FROM leads_status_history;
SELECT statusflow.prune_history('leads', now() + interval '1 minute');
SELECT id, to_status FROM leads_status_history ORDER BY id;
SELECT id, status FROM leads ORDER BY id;
SELECT statusflow.prune_history('leads', now() - interval '1 day');
-- or everything, when asked
SELECT statusflow.prune_history('leads', now() + interval '1 minute', keep_latest => false);
SELECT count(*) AS after_full_prune FROM leads_status_history;
-- the guard is back once pruning is done
DELETE FROM leads_status_history;
-- only the owner may prune
SET ROLE regress_sf_app;
SELECT statusflow.prune_history('leads', now());
RESET ROLE;
SELECT statusflow.prune_history('leads', NULL);
SELECT statusflow.prune_history('tickets', now(), column_name => 'nosuch');

-- test/fuzz/victims.sql: the tenants' bound tables still work for their
-- owners: as each owner, a new row in an initial status and ordinary UPDATEs
-- through declared transitions, each leaving its history row.  Rolled back.
-- Prints one "victim ok <table>" line per table; stops at the first error.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
SET client_min_messages = warning;

\connect - fuzz_tenant_a
BEGIN;
INSERT INTO fuzz_tenant_a.orders (id, account_id, amount) VALUES (900000001, 424242, 10);
UPDATE fuzz_tenant_a.orders SET status = 'approved' WHERE id = 900000001;
UPDATE fuzz_tenant_a.orders SET status = 'cancelled' WHERE id = 900000001;
SELECT 'victim ok fuzz_tenant_a.orders' FROM fuzz_tenant_a.orders_status_history
WHERE id = 900000001 HAVING array_agg(to_status::text ORDER BY history_id) = '{new,approved,cancelled}';
INSERT INTO fuzz_tenant_a.shipments (region, n, account_id) VALUES ('fuzz', 900000001, 424242);
UPDATE fuzz_tenant_a.shipments SET status = 'on_hold' WHERE n = 900000001;
SELECT 'victim ok fuzz_tenant_a.shipments' FROM fuzz_tenant_a.shipments_status_history
WHERE region = 'fuzz' AND n = 900000001 HAVING array_agg(to_status::text ORDER BY history_id) = '{new,on_hold}';
ROLLBACK;

\connect - fuzz_tenant_b
BEGIN;
INSERT INTO fuzz_tenant_b.invites (id, region, account_id, channel) VALUES (900000001, 'south', 424242, 'sms');
UPDATE fuzz_tenant_b.invites SET status = 'sent' WHERE id = 900000001;
UPDATE fuzz_tenant_b.invites SET status = 'opened' WHERE id = 900000001;
SELECT 'victim ok fuzz_tenant_b.invites' FROM fuzz_tenant_b.invites_status_history
WHERE id = 900000001 HAVING array_agg(to_status::text ORDER BY history_id) = '{invited,sent,opened}';
INSERT INTO fuzz_tenant_b.messages (id) VALUES ('00000000-0000-0000-0000-000000000001');
UPDATE fuzz_tenant_b.messages SET status = 'sent' WHERE id = '00000000-0000-0000-0000-000000000001';
SELECT 'victim ok fuzz_tenant_b.messages' FROM fuzz_tenant_b.messages_status_history
WHERE id = '00000000-0000-0000-0000-000000000001'
HAVING array_agg(to_status::text ORDER BY history_id) = '{queued,sent}';
ROLLBACK;

-- test/fuzz/setup.sql: the multi-tenant world the fuzzer attacks.
-- Run as a superuser in a fresh database by test/fuzz/run.sh:
--   fuzz_tenant_a  schema fuzz_tenant_a: workflow a_order (role, condition,
--                  require_reason, max_uses, restore_previous guards, a quota
--                  with an overflow status, timers, a status condition),
--                  tables orders (bigint key, entered-at column, notify) and
--                  shipments (composite key (region, n)).
--   fuzz_tenant_b  schema fuzz_tenant_b: workflow b_invite on a partitioned
--                  table invites (composite key (id, region), list partitions),
--                  a refusing quota, a timer, notify; a monotonic workflow
--                  b_receipt on messages (uuid key) for ingest(); a preset.
--   fuzz_attacker  UPDATE and SELECT on fuzz_tenant_a.orders only, CREATE on
--                  its own schema fuzz_attacker, where it made a workflow and
--                  a bound table of its own, and look-alike tables.
-- Roles are cluster-wide: the ones of an earlier run are dropped first
-- (run.sh drops the earlier fuzz database before).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

DROP ROLE IF EXISTS fuzz_attacker;
DROP ROLE IF EXISTS fuzz_tenant_a;
DROP ROLE IF EXISTS fuzz_tenant_b;
CREATE ROLE fuzz_tenant_a LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE fuzz_tenant_b LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE fuzz_attacker LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;

-- a fuzzed call must end quickly, whatever it was given (role settings,
-- not database ones: run.sh copies the database from a template)
ALTER ROLE fuzz_attacker SET statement_timeout = '3s';
ALTER ROLE fuzz_tenant_b SET statement_timeout = '3s';
ALTER ROLE fuzz_attacker SET lock_timeout = '2s';
ALTER ROLE fuzz_tenant_b SET lock_timeout = '2s';
-- their tens of thousands of expected errors stay out of the server log (the
-- runner reads them from psql); crashes are logged by the postmaster
ALTER ROLE fuzz_attacker SET log_min_messages = 'fatal';
ALTER ROLE fuzz_tenant_b SET log_min_messages = 'fatal';
ALTER ROLE fuzz_attacker SET log_min_error_statement = 'panic';
ALTER ROLE fuzz_tenant_b SET log_min_error_statement = 'panic';

CREATE EXTENSION statusflow;

-- PUBLIC may not create in public (PostgreSQL 15's default); each role
-- works in the schema named after it, which is first in its search_path.
CREATE SCHEMA fuzz_tenant_a AUTHORIZATION fuzz_tenant_a;
CREATE SCHEMA fuzz_tenant_b AUTHORIZATION fuzz_tenant_b;
CREATE SCHEMA fuzz_attacker;
GRANT USAGE, CREATE ON SCHEMA fuzz_attacker TO fuzz_attacker;

------------------------------------------------------------------------
-- tenant A
------------------------------------------------------------------------
SET ROLE fuzz_tenant_a;
SELECT statusflow.create_workflow('a_order',
	statuses => ARRAY['new', 'approved', 'paid', 'shipped', 'cancelled', 'on_hold', 'limit_reached'],
	initial => ARRAY['new'], terminal => ARRAY['shipped', 'cancelled'],
	type_name => 'fuzz_tenant_a.a_order_status', description => 'tenant A orders');
SELECT statusflow.add_transition('a_order', ARRAY['new'], 'approved', event => 'approve',
								 condition => 'amount < 100');
SELECT statusflow.add_transition('a_order', ARRAY['new'], 'approved', event => 'approve_big',
								 roles => ARRAY['fuzz_tenant_a']);
SELECT statusflow.add_transition('a_order', ARRAY['approved'], 'paid', event => 'pay',
								 require_reason => true);
SELECT statusflow.add_transition('a_order', ARRAY['paid'], 'shipped', event => 'ship');
SELECT statusflow.add_transition('a_order', ARRAY['new', 'approved', 'paid', 'limit_reached'], 'cancelled',
								 event => 'cancel');
SELECT statusflow.add_transition('a_order', ARRAY['new', 'approved', 'paid'], 'on_hold',
								 event => 'hold', max_uses => 2);
SELECT statusflow.add_transition('a_order', ARRAY['on_hold'], NULL, event => 'resume',
								 restore_previous => true);
SELECT statusflow.add_transition('a_order', ARRAY['new'], 'limit_reached', kind => 'automatic');
SELECT statusflow.set_status_info('a_order', 'paid', description => 'money in',
								  group_name => 'done', condition => 'amount >= 0');
SELECT statusflow.set_status_info('a_order', 'shipped', group_name => 'done');
SELECT statusflow.set_quota('a_order', ARRAY['approved'], 'account_id', 3, 'month', 'limit_reached');

CREATE TABLE fuzz_tenant_a.orders (
	id bigint PRIMARY KEY,
	account_id int NOT NULL,
	amount numeric NOT NULL,
	status fuzz_tenant_a.a_order_status NOT NULL DEFAULT 'new',
	entered_at timestamptz,
	due_at timestamptz
);
SELECT statusflow.attach('fuzz_tenant_a.orders', 'status', 'a_order',
						 entered_at_column => 'entered_at');
SELECT statusflow.set_notify('fuzz_tenant_a.orders', 'a_orders');
CREATE TABLE fuzz_tenant_a.shipments (
	region text,
	n int,
	account_id int NOT NULL DEFAULT 1,
	amount numeric NOT NULL DEFAULT 1,
	status fuzz_tenant_a.a_order_status NOT NULL DEFAULT 'new',
	entered_at timestamptz,
	due_at timestamptz,
	PRIMARY KEY (region, n)
);
SELECT statusflow.attach('fuzz_tenant_a.shipments', 'status', 'a_order',
						 entered_at_column => 'entered_at');
SELECT statusflow.add_timer('a_order', 'on_hold', after => '7 days', event => 'resume');
SELECT statusflow.add_timer('a_order', 'new', at_column => 'due_at', to_status => 'cancelled');

INSERT INTO fuzz_tenant_a.orders (id, account_id, amount, due_at)
SELECT g, 1 + g % 2, g * 30, CASE WHEN g = 5 THEN now() - interval '1 day' END
FROM generate_series(1, 6) g;
UPDATE fuzz_tenant_a.orders SET status = 'approved' WHERE id IN (1, 2);
UPDATE fuzz_tenant_a.orders SET status = 'on_hold' WHERE id = 2;
SET statusflow.reason = 'setup';
UPDATE fuzz_tenant_a.orders SET status = 'paid' WHERE id = 1;
RESET statusflow.reason;
INSERT INTO fuzz_tenant_a.shipments (region, n) VALUES ('north', 7), ('south', 1), ('north', 8);
UPDATE fuzz_tenant_a.shipments SET status = 'cancelled' WHERE n = 8;

GRANT SELECT, UPDATE ON fuzz_tenant_a.orders TO fuzz_attacker;
GRANT USAGE ON SCHEMA fuzz_tenant_a TO fuzz_attacker;
RESET ROLE;

------------------------------------------------------------------------
-- tenant B
------------------------------------------------------------------------
SET ROLE fuzz_tenant_b;
SELECT statusflow.create_workflow('b_invite',
	statuses => ARRAY['invited', 'sent', 'bounced', 'opened', 'accepted', 'declined', 'suspended'],
	initial => ARRAY['invited'], terminal => ARRAY['accepted', 'declined'],
	type_name => 'fuzz_tenant_b.b_invite_status');
SELECT statusflow.add_transition('b_invite', ARRAY['invited'], 'sent', event => 'send',
								 condition => 'channel = ''sms''');
SELECT statusflow.add_transition('b_invite', ARRAY['invited'], 'sent', event => 'send_email',
								 condition => 'channel = ''email''');
SELECT statusflow.add_transition('b_invite', ARRAY['sent'], 'bounced', event => 'bounce');
SELECT statusflow.add_transition('b_invite', ARRAY['bounced'], 'sent', event => 'resend',
								 require_reason => true);
SELECT statusflow.add_transition('b_invite', ARRAY['sent'], 'opened', event => 'open');
SELECT statusflow.add_transition('b_invite', ARRAY['sent', 'opened'], 'accepted', event => 'accept',
								 roles => ARRAY['fuzz_tenant_b']);
SELECT statusflow.add_transition('b_invite', ARRAY['sent', 'opened'], 'declined', event => 'decline');
SELECT statusflow.add_transition('b_invite', ARRAY['invited', 'sent', 'bounced', 'opened'],
								 'suspended', event => 'suspend', max_uses => 1);
SELECT statusflow.add_transition('b_invite', ARRAY['suspended'], NULL, event => 'unsuspend',
								 restore_previous => true);
SELECT statusflow.set_quota('b_invite', ARRAY['sent'], 'account_id', 100, 'day');
SELECT statusflow.set_status_info('b_invite', 'bounced', sticky => true);

CREATE TABLE fuzz_tenant_b.invites (
	id int NOT NULL,
	region text NOT NULL,
	account_id int NOT NULL DEFAULT 1,
	channel text NOT NULL DEFAULT 'sms',
	status fuzz_tenant_b.b_invite_status NOT NULL DEFAULT 'invited',
	entered_at timestamptz,
	PRIMARY KEY (id, region)
) PARTITION BY LIST (region);
CREATE TABLE fuzz_tenant_b.invites_north PARTITION OF fuzz_tenant_b.invites FOR VALUES IN ('north');
CREATE TABLE fuzz_tenant_b.invites_south PARTITION OF fuzz_tenant_b.invites FOR VALUES IN ('south');
SELECT statusflow.attach('fuzz_tenant_b.invites', 'status', 'b_invite',
						 entered_at_column => 'entered_at');
SELECT statusflow.set_notify('fuzz_tenant_b.invites', 'b_invites');
SELECT statusflow.add_timer('b_invite', 'sent', after => '3 days', event => 'bounce');
INSERT INTO fuzz_tenant_b.invites (id, region, channel)
VALUES (1, 'north', 'sms'), (2, 'south', 'email'), (3, 'north', 'sms'), (4, 'south', 'sms');
UPDATE fuzz_tenant_b.invites SET status = 'sent' WHERE id IN (1, 2, 3);
UPDATE fuzz_tenant_b.invites SET status = 'suspended' WHERE id = 3;

SELECT statusflow.create_workflow('b_receipt',
	statuses => ARRAY['queued', 'sent', 'delivered', 'read', 'failed'],
	initial => ARRAY['queued'], terminal => ARRAY['read', 'failed'],
	type_name => 'fuzz_tenant_b.b_receipt_status', monotonic => true);
SELECT statusflow.add_transition('b_receipt', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('b_receipt', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('b_receipt', ARRAY['delivered'], 'read', event => 'read');
SELECT statusflow.add_transition('b_receipt', ARRAY['queued', 'sent', 'delivered'], 'failed',
								 event => 'fail', kind => 'automatic');
CREATE TABLE fuzz_tenant_b.messages (
	id uuid PRIMARY KEY,
	status fuzz_tenant_b.b_receipt_status NOT NULL DEFAULT 'queued',
	expires_at timestamptz
);
SELECT statusflow.attach('fuzz_tenant_b.messages', 'status', 'b_receipt');
SELECT statusflow.add_timer('b_receipt', 'sent', at_column => 'expires_at', to_status => 'failed');
INSERT INTO fuzz_tenant_b.messages (id, expires_at) VALUES
	('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', now() - interval '1 hour'),
	('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', NULL);
SELECT statusflow.ingest('fuzz_tenant_b.messages', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
						 'delivered', event_id => 'evt-1');
SELECT statusflow.install_preset('beta_prelaunch', schema => 'fuzz_tenant_b',
								 workflow_name => 'b_beta');
RESET ROLE;

------------------------------------------------------------------------
-- the attacker's own things, made with its own rights
------------------------------------------------------------------------
SET ROLE fuzz_attacker;
SELECT statusflow.create_workflow('evil', ARRAY['x', 'y', 'z'], ARRAY['x'], ARRAY['z'],
								  type_name => 'fuzz_attacker.evil_status');
SELECT statusflow.add_transition('evil', ARRAY['x'], 'y', event => 'go');
SELECT statusflow.add_transition('evil', ARRAY['y'], 'z', event => 'end', condition => 'id > 0');
SELECT statusflow.add_transition('evil', ARRAY['y'], NULL, event => 'back', restore_previous => true);
CREATE TABLE fuzz_attacker.mine (id int PRIMARY KEY, status fuzz_attacker.evil_status NOT NULL DEFAULT 'x',
								 account_id int, amount numeric);
SELECT statusflow.attach('fuzz_attacker.mine', 'status', 'evil');
INSERT INTO fuzz_attacker.mine (id) SELECT generate_series(1, 3);
UPDATE fuzz_attacker.mine SET status = 'y' WHERE id = 2;
-- a table shaped like the victim's, and tables named like the catalog
CREATE TABLE fuzz_attacker.orders (LIKE fuzz_tenant_a.orders INCLUDING ALL);
CREATE TABLE fuzz_attacker.binding (LIKE statusflow.binding);
INSERT INTO fuzz_attacker.binding SELECT * FROM statusflow.binding;
UPDATE fuzz_attacker.binding SET table_name = 'fuzz_attacker.mine', key_columns = '{nope}';
CREATE TABLE fuzz_attacker.workflow (LIKE statusflow.workflow);
INSERT INTO fuzz_attacker.workflow SELECT * FROM statusflow.workflow;
RESET ROLE;

-- the driver's own schema: nobody else may use it
CREATE SCHEMA fuzz_driver;
REVOKE ALL ON SCHEMA fuzz_driver FROM PUBLIC;

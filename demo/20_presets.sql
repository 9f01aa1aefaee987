-- Every preset, installed with a little sample data.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;

\echo
\echo '== 6. The presets of the five seed systems'
SELECT preset, title, seed FROM statusflow.presets();
CREATE SCHEMA demo;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_business') THEN
		CREATE ROLE demo_business;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_customer') THEN
		CREATE ROLE demo_customer;
	END IF;
END $$;
SELECT p.preset, statusflow.install_preset(p.preset, 'demo',
	options => CASE WHEN p.preset = 'loyalty_connection'
					THEN '{"business_role": "demo_business", "customer_role": "demo_customer"}'
					ELSE '{"monthly_limit": 3}' END::jsonb) AS status_type
FROM statusflow.presets() p;

-- review requests: two accounts, the second over its monthly limit of 3
CREATE TABLE demo.review_requests (id int PRIMARY KEY, account_id int NOT NULL,
	channel text NOT NULL, send_at timestamptz,
	status demo.review_request_status NOT NULL DEFAULT 'scheduled');
SELECT statusflow.attach('demo.review_requests', 'status', 'review_request');
INSERT INTO demo.review_requests (id, account_id, channel)
SELECT g, CASE WHEN g <= 4 THEN 1 ELSE 2 END, CASE WHEN g % 2 = 0 THEN 'email' ELSE 'sms' END
FROM generate_series(1, 9) g;
SELECT statusflow.fire_many('demo.review_requests', ARRAY[1, 2, 3, 5, 6, 7, 8, 9], 'send');
SELECT statusflow.fire('demo.review_requests', 1, 'click');
SELECT statusflow.fire('demo.review_requests', 1, 'happy');
SELECT statusflow.fire('demo.review_requests', 1, 'review');
SELECT statusflow.fire('demo.review_requests', 2, 'open');
SELECT statusflow.fire('demo.review_requests', 2, 'unhappy');
SELECT statusflow.fire('demo.review_requests', 4, 'fail', reason => 'gateway timeout');

-- establishments
CREATE TABLE demo.establishments (id int PRIMARY KEY, name text NOT NULL, email text,
	status demo.establishment_invitation_status NOT NULL DEFAULT 'invited');
SELECT statusflow.attach('demo.establishments', 'status', 'establishment_invitation');
-- an accepted invitation activates the establishment's store (an action)
CREATE TABLE demo.stores (name text PRIMARY KEY, state text NOT NULL DEFAULT 'PENDING');
INSERT INTO demo.stores (name) VALUES ('Bakery'), ('Florist'), ('Garage'), ('Pharmacy');
CREATE FUNCTION demo.activate_store(change jsonb) RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ UPDATE demo.stores SET state = 'ACTIVATED' WHERE name = change -> 'row' ->> 'name' $$;
SELECT statusflow.add_action('establishment_invitation', 'demo.activate_store(jsonb)',
							 on_enter => 'accepted');
INSERT INTO demo.establishments (id, name) VALUES
	(1, 'Bakery'), (2, 'Florist'), (3, 'Garage'), (4, 'Pharmacy');
SELECT statusflow.fire_many('demo.establishments', ARRAY[1, 2, 3], 'send');
SELECT statusflow.fire_many('demo.establishments', ARRAY[1, 2], 'deliver');
SELECT statusflow.fire('demo.establishments', 3, 'bounce');
SELECT statusflow.fire('demo.establishments', 1, e) FROM unnest(ARRAY['open', 'view', 'confirm', 'accept']) e;
SELECT statusflow.fire('demo.establishments', 2, e) FROM unnest(ARRAY['view', 'decline']) e;
-- a reinvite after a bounce goes to a corrected address, in one UPDATE
UPDATE demo.establishments SET email = 'contact@garage.example', status = 'invitationSent'
WHERE id = 3;

-- a pre-launch beta: a waiting list, a hard bounce and an unsuspension
CREATE TABLE demo.beta_users (id int PRIMARY KEY, email text NOT NULL,
	status demo.beta_prelaunch_status NOT NULL DEFAULT 'unconfirmed');
SELECT statusflow.attach('demo.beta_users', 'status', 'beta_prelaunch');
INSERT INTO demo.beta_users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 6) g;
SELECT statusflow.fire_many('demo.beta_users', ARRAY[1, 2, 3, 4, 5], 'confirm');
SELECT statusflow.fire_many('demo.beta_users', ARRAY[1, 2], 'invite');
SELECT statusflow.fire('demo.beta_users', 1, 'activate');
SELECT statusflow.fire('demo.beta_users', 3, 'hard_bounce', metadata => '{"smtp": "550 5.1.1"}');
SELECT statusflow.fire('demo.beta_users', 3, 'unsuspend', reason => 'address was right after all');
SELECT statusflow.fire('demo.beta_users', 4, 'hard_bounce');

-- a general campaign
CREATE TABLE demo.referrers (id int PRIMARY KEY, status demo.beta_general_status NOT NULL DEFAULT 'imported');
SELECT statusflow.attach('demo.referrers', 'status', 'beta_general');
INSERT INTO demo.referrers SELECT g FROM generate_series(1, 3) g;
SELECT statusflow.fire('demo.referrers', 1, 'apply');

-- an SMS outreach list
CREATE TABLE demo.outreach (id int PRIMARY KEY, name text NOT NULL, interaction text,
	status demo.sms_outreach_status NOT NULL DEFAULT 'new_account');
SELECT statusflow.attach('demo.outreach', 'status', 'sms_outreach');
INSERT INTO demo.outreach (id, name) VALUES (1, 'Ana'), (2, 'Bo'), (3, 'Cy'), (4, 'Di');
SELECT statusflow.fire_many('demo.outreach', ARRAY[1, 2, 3], 'message_out');
SELECT statusflow.fire('demo.outreach', 2, 'message_in');
UPDATE demo.outreach SET interaction = 'call', status = 'left_voicemail' WHERE id = 3;
UPDATE demo.outreach SET interaction = 'sms', status = 'sold' WHERE id = 2;

-- loyalty connections, changed by the business and by customers
CREATE TABLE demo.connections (id int PRIMARY KEY, customer text NOT NULL,
	status demo.loyalty_connection_status NOT NULL DEFAULT 'imported');
SELECT statusflow.attach('demo.connections', 'status', 'loyalty_connection');
GRANT USAGE ON SCHEMA demo TO demo_business, demo_customer;
GRANT SELECT, UPDATE ON demo.connections TO demo_business, demo_customer;
INSERT INTO demo.connections (id, customer) VALUES (1, 'Eve'), (2, 'Finn'), (3, 'Gil');
SET ROLE demo_business;
SELECT statusflow.fire_many('demo.connections', ARRAY[1, 2], 'invite');
RESET ROLE;
SET ROLE demo_customer;
SELECT statusflow.fire('demo.connections', 1, 'connect');
RESET ROLE;
\echo 'The business may not connect a customer itself:'
\set ON_ERROR_STOP off
SET ROLE demo_business;
SELECT statusflow.fire('demo.connections', 2, 'connect');
RESET ROLE;
\set ON_ERROR_STOP on

\echo
\echo '== 7. Statuses per preset'
SELECT 'review_request' AS workflow, status::text, count(*) FROM demo.review_requests GROUP BY status
UNION ALL SELECT 'establishment_invitation', status::text, count(*) FROM demo.establishments GROUP BY status
UNION ALL SELECT 'beta_prelaunch', status::text, count(*) FROM demo.beta_users GROUP BY status
UNION ALL SELECT 'beta_general', status::text, count(*) FROM demo.referrers GROUP BY status
UNION ALL SELECT 'sms_outreach', status::text, count(*) FROM demo.outreach GROUP BY status
UNION ALL SELECT 'loyalty_connection', status::text, count(*) FROM demo.connections GROUP BY status
ORDER BY 1, 2;
\echo 'Review requests of account 2 beyond its monthly limit of 3 went to limit_reached:'
SELECT id, account_id, channel, status FROM demo.review_requests ORDER BY id;
\echo 'The history of the beta user who bounced and was unsuspended:'
SELECT coalesce(from_status::text, '-') AS "from", to_status AS "to", event, reason, metadata
FROM demo.beta_users_status_history WHERE id = 3 ORDER BY history_id;

-- Data for the dump and restore test (scripts/test.sh dumps this database
-- with pg_dump, restores it with pg_restore into another one, and runs
-- test/dump/restored.sql there).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION statusflow;
SELECT statusflow.install_preset('review_request', options => '{"monthly_limit": 2}');
CREATE TABLE rr (id int PRIMARY KEY, account_id int NOT NULL, channel text NOT NULL,
				 status review_request_status NOT NULL DEFAULT 'scheduled',
				 send_at timestamptz, since timestamptz);
SELECT statusflow.attach('rr', 'status', 'review_request', entered_at_column => 'since');
SELECT statusflow.set_notify('rr', 'rr_changes');
INSERT INTO rr (id, account_id, channel) VALUES (1, 1, 'sms'), (2, 1, 'email'), (3, 1, 'sms');
SELECT statusflow.fire_many('rr', ARRAY[1, 2, 3], 'send', actor => 'before dump');

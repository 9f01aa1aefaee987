-- The transition API: transition(), fire(), transition_many(), fire_many(),
-- with single, converted and composite keys, and their errors.
\set SHOW_CONTEXT never

CREATE TABLE invites (
	id bigint PRIMARY KEY,
	status invitation_status NOT NULL DEFAULT 'invited'
);
SELECT statusflow.attach('invites', 'status', 'invitation');
INSERT INTO invites SELECT g FROM generate_series(1, 6) g;

-- transition() returns the new status and records who, why and when
SELECT statusflow.transition('invites', 1, 'sent');
SELECT statusflow.transition('invites', 1, 'opened', reason => 'tracking pixel',
							 metadata => '{"ip": "10.0.0.1"}', actor => 'mailer',
							 occurred_at => '2026-01-02 03:04:05+00');
SELECT from_status, to_status, event, actor, reason, metadata,
	   CASE WHEN occurred_at = recorded_at THEN 'when recorded'
			ELSE occurred_at::text END AS occurred_at
FROM invites_status_history WHERE id = 1 ORDER BY history_id;
-- staying in the same status changes nothing and records nothing
SELECT statusflow.transition('invites', 1, 'opened');
SELECT count(*) FROM invites_status_history WHERE id = 1;

-- fire() applies an event from whatever status the row is in
SELECT statusflow.fire('invites', 2, 'send');
SELECT statusflow.fire('invites', 2, 'open', actor => 'webhook');
SELECT statusflow.fire('invites', 2, 'accept', reason => 'clicked the button');
SELECT from_status, to_status, event, actor, reason FROM invites_status_history
WHERE id = 2 ORDER BY history_id;

-- keys are converted to the key's type: text, numeric, smaller integers
SELECT statusflow.transition('invites', '3'::text, 'sent');
SELECT statusflow.transition('invites', 4::smallint, 'sent');
SELECT statusflow.transition('invites', 5.0, 'sent');
SELECT statusflow.transition('invites', '6', 'sent');

-- set-based forms: one statement for many keys, all or nothing
SELECT statusflow.fire_many('invites', ARRAY[3, 4, 5], 'open', actor => 'batch');
SELECT id, status FROM invites ORDER BY id;
SELECT statusflow.transition_many('invites', ARRAY[3, 4, 5, 6], 'declined', reason => 'campaign closed');
SELECT id, status FROM invites ORDER BY id;
-- one refused key refuses the whole call
SELECT statusflow.transition_many('invites', ARRAY[1, 3], 'invited');
SELECT statusflow.fire_many('invites', ARRAY[3, 2], 'send');
SELECT id, status FROM invites WHERE id IN (1, 2, 3) ORDER BY id;
-- keys that have no row are skipped; the count says what changed
SELECT statusflow.transition_many('invites', ARRAY[3, 4, 404], 'invited');
SELECT statusflow.transition_many('invites', ARRAY[]::bigint[], 'invited');
SELECT actor, reason, count(*) FROM invites_status_history
WHERE reason = 'campaign closed' OR actor = 'batch' GROUP BY 1, 2 ORDER BY 1, 2;

-- composite keys: a row, or its text form; arrays of rows
CREATE TABLE shop_invites (
	shop text,
	code int,
	status invitation_status NOT NULL DEFAULT 'invited',
	PRIMARY KEY (shop, code)
);
SELECT statusflow.attach('shop_invites', 'status', 'invitation');
INSERT INTO shop_invites VALUES ('north', 1), ('north', 2), ('south', 1), ('it''s, "odd"', 1);
SELECT statusflow.transition('shop_invites', ROW('north', 1), 'sent');
SELECT statusflow.transition('shop_invites', '(south,1)', 'sent');
SELECT statusflow.fire('shop_invites', ROW('it''s, "odd"', 1), 'send');
SELECT statusflow.fire_many('shop_invites', ARRAY[ROW('north', 1), ROW('south', 1)], 'open');
SELECT statusflow.transition_many('shop_invites', ARRAY['(north,2)'], 'sent');
SELECT statusflow.transition_many('shop_invites', ARRAY['(north,1)', '(north,2)', '(south,1)'], 'accepted');
SELECT * FROM shop_invites ORDER BY shop, code;

-- two bound columns on one table: name the column
SELECT statusflow.create_workflow('review', ARRAY['pending', 'done'], ARRAY['pending']);
SELECT statusflow.add_transition('review', ARRAY['pending'], 'done', event => 'finish');
ALTER TABLE invites ADD COLUMN review review_status NOT NULL DEFAULT 'pending';
SELECT statusflow.attach('invites', 'review', 'review', history_table => 'invites_review_log');
SELECT statusflow.fire('invites', 1, 'finish');
SELECT statusflow.fire('invites', 1, 'finish', column_name => 'review');
SELECT statusflow.fire('invites', 1, 'decline', column_name => 'status');
SELECT id, status, review FROM invites WHERE id = 1;

-- errors
SELECT statusflow.transition('invites', 404, 'sent', column_name => 'status');
SELECT statusflow.fire('invites', 404, 'send', column_name => 'status');
SELECT statusflow.transition('invites', 3, 'nosuch', column_name => 'status');
SELECT statusflow.transition('invites', 3, 'done', column_name => 'status');
SELECT statusflow.fire('invites', 3, 'nosuch', column_name => 'status');
SELECT statusflow.fire('invites', 2, 'send', column_name => 'status');
SELECT statusflow.transition('invites', 2, 'sent', column_name => 'status');
SELECT statusflow.transition('invites', 'abc'::text, 'sent', column_name => 'status');
SELECT statusflow.transition('invites', NULL::bigint, 'sent', column_name => 'status');
SELECT statusflow.transition('invites', 3, NULL, column_name => 'status');
SELECT statusflow.transition(NULL, 3, 'sent');
SELECT statusflow.transition('pg_class', 3, 'sent');
SELECT statusflow.transition('invites', 3, 'sent', column_name => 'nosuch');
SELECT statusflow.transition('shop_invites', 1, 'sent');
SELECT statusflow.transition('shop_invites', ROW('north'), 'sent');
SELECT statusflow.transition('shop_invites', ROW('north', 1, 2), 'sent');
SELECT statusflow.transition('shop_invites', ROW('north', NULL), 'sent');
SELECT statusflow.transition('shop_invites', '(north)', 'sent');
-- fields are counted as record_in reads them: quotes and escapes hide commas
SELECT statusflow.transition('shop_invites', '("no,rth")', 'sent');
SELECT statusflow.transition('shop_invites', '(no\,rth,1,2)', 'sent');
SELECT statusflow.transition('shop_invites', '("no,rth",x)', 'sent');
SELECT statusflow.transition_many('invites', ARRAY[1, NULL], 'sent', column_name => 'status');
SELECT statusflow.fire('invites', 3, 'open', metadata => '"just a string"', column_name => 'status');
SELECT statusflow.fire('invites', 3, 'open', reason => repeat('x', 2001), column_name => 'status');
SELECT statusflow.fire('invites', 3, 'open', actor => repeat('x', 201), column_name => 'status');
SELECT status FROM invites WHERE id = 3;

-- the API needs the same rights as the UPDATE it runs
SET ROLE regress_sf_other;
SELECT statusflow.fire('invites', 3, 'open', column_name => 'status');
RESET ROLE;
GRANT SELECT, UPDATE ON invites TO regress_sf_other;
SET ROLE regress_sf_other;
SELECT statusflow.fire('invites', 3, 'open', column_name => 'status');
RESET ROLE;
SELECT db_role FROM invites_status_history WHERE id = 3 ORDER BY history_id DESC LIMIT 1;

-- A small invitation workflow, end to end: define, attach, change statuses
-- by every path, look at the history.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;

\echo
\echo '== 1. Define the workflow: statuses become an enum type'
SELECT statusflow.create_workflow(
	'invitation',
	statuses => ARRAY['invited', 'sent', 'bounced', 'opened', 'accepted', 'declined'],
	initial => ARRAY['invited'],
	terminal => ARRAY['accepted', 'declined']);
SELECT statusflow.add_transition('invitation', ARRAY['invited'], 'sent', event => 'send');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'bounced', event => 'bounce', kind => 'automatic');
SELECT statusflow.add_transition('invitation', ARRAY['bounced'], 'sent', event => 'resend');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'opened', event => 'open', kind => 'automatic');
SELECT statusflow.add_transition('invitation', ARRAY['sent', 'opened'], 'accepted', event => 'accept');
SELECT statusflow.add_transition('invitation', ARRAY['sent', 'opened'], 'declined', event => 'decline');
SELECT from_status, to_status, event, kind FROM statusflow.transitions WHERE workflow = 'invitation';

\echo '== 2. Attach it to a column'
CREATE TABLE invitations (
	id bigint PRIMARY KEY,
	email text NOT NULL,
	status invitation_status NOT NULL DEFAULT 'invited'
);
SELECT statusflow.attach('invitations', 'status', 'invitation') AS history_table;

\echo '== 3. Change statuses: SQL, the API, events, a worker with an actor'
INSERT INTO invitations (id, email) VALUES (1, 'ana@example.com'), (2, 'bo@example.com'), (3, 'cy@example.com');
UPDATE invitations SET status = 'sent';
SELECT statusflow.fire('invitations', 1, 'open', actor => 'mail-webhook');
SELECT statusflow.transition('invitations', 1, 'accepted', reason => 'clicked "join"');
BEGIN;
SET LOCAL statusflow.actor = 'bounce-worker';
SET LOCAL statusflow.metadata = '{"smtp": "550 no such user"}';
SELECT statusflow.fire('invitations', 2, 'bounce');
COMMIT;
SELECT statusflow.fire_many('invitations', ARRAY[3], 'decline', reason => 'campaign closed');

\echo '== 4. A forbidden change is refused, with who, what and why'
\set ON_ERROR_STOP off
UPDATE invitations SET status = 'accepted' WHERE id = 2;
\set ON_ERROR_STOP on

\echo '== 5. The current statuses and the history'
SELECT id, email, status FROM invitations ORDER BY id;
SELECT id, coalesce(from_status::text, '-') AS "from", to_status AS "to", event, actor,
	   reason, metadata
FROM invitations_status_history ORDER BY history_id;

-- Conditions on the change (OLD.column, NEW.column) and status conditions
-- that hold for as long as a row stays in its status.
\set SHOW_CONTEXT never
\set VERBOSITY terse

SELECT statusflow.create_workflow('invite', ARRAY['invited', 'opened', 'bounced', 'locked', 'done'],
								  ARRAY['invited'], ARRAY['done']);
SELECT statusflow.add_transition('invite', ARRAY['invited'], 'opened', event => 'open');
SELECT statusflow.add_transition('invite', ARRAY['invited', 'opened'], 'bounced', event => 'bounce');
-- a reinvite after a bounce needs a changed address
SELECT statusflow.add_transition('invite', ARRAY['bounced'], 'invited', event => 'reinvite',
								 condition => 'NEW.email IS DISTINCT FROM OLD.email');
SELECT statusflow.add_transition('invite', ARRAY['opened'], 'locked');
SELECT statusflow.add_transition('invite', ARRAY['locked'], 'done');
-- "opened" is for e-mail invitations only, for as long as they are opened
SELECT statusflow.set_status_info('invite', 'opened', condition => 'channel = ''email''');
-- the amount of a locked row stays as it was
SELECT statusflow.set_status_info('invite', 'locked', condition => 'NEW.amount = OLD.amount OR OLD.amount IS NULL');

CREATE TABLE invites (id int PRIMARY KEY, email text, channel text NOT NULL DEFAULT 'email',
					  amount int, note text,
					  status invite_status NOT NULL DEFAULT 'invited');
SELECT statusflow.attach('invites', 'status', 'invite');
-- the invariant trigger watches the columns the status conditions read
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS tgname, statusflow_internal.trigger_columns(oid)
FROM pg_trigger
WHERE tgrelid = 'invites'::regclass AND tgname LIKE '%invariant' ;
INSERT INTO invites (id, email, amount) VALUES (1, 'a@example.com', 10), (2, 'b@example.com', 20),
	(3, 'c@example.com', 30);

-- OLD and NEW in a transition's condition
UPDATE invites SET status = 'bounced' WHERE id IN (1, 2);
UPDATE invites SET status = 'invited' WHERE id = 1;
SELECT statusflow.fire('invites', 1, 'reinvite');
UPDATE invites SET status = 'invited', email = 'a2@example.com' WHERE id = 1;
UPDATE invites SET status = 'invited', email = NULL WHERE id = 2;
SELECT id, email, status FROM invites ORDER BY id;
SELECT id, from_status, to_status, event FROM invites_status_history
WHERE id IN (1, 2) ORDER BY history_id;

-- an opened row stays an e-mail invitation
UPDATE invites SET status = 'opened' WHERE id = 3;
UPDATE invites SET channel = 'sms' WHERE id = 3;
UPDATE invites SET channel = 'sms', note = 'x' WHERE id IN (1, 3);
UPDATE invites SET note = 'untouched columns are not checked' WHERE id = 3;
UPDATE invites SET channel = 'email' WHERE id = 3;
-- a row that leaves the status may change it in the same update
UPDATE invites SET channel = 'sms', status = 'bounced' WHERE id = 3;
UPDATE invites SET status = 'invited', email = 'c2@example.com', channel = 'email' WHERE id = 3;
-- entering with the wrong channel is refused as before
UPDATE invites SET channel = 'sms' WHERE id = 3;
UPDATE invites SET status = 'opened' WHERE id = 3;
UPDATE invites SET status = 'opened', channel = 'email' WHERE id = 3;

-- OLD in a status condition: the amount of a locked row
UPDATE invites SET status = 'locked' WHERE id = 3;
UPDATE invites SET amount = 31 WHERE id = 3;
UPDATE invites SET amount = 30, note = 'same amount' WHERE id = 3;
SELECT id, amount, note, status FROM invites WHERE id = 3;

-- changing a condition re-aims the trigger; removing them all drops it
SELECT statusflow.set_status_info('invite', 'opened', condition => 'channel = ''email'' AND note IS NULL');
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS tgname, statusflow_internal.trigger_columns(oid)
FROM pg_trigger
WHERE tgrelid = 'invites'::regclass AND tgname LIKE '%invariant';
SELECT statusflow.set_status_info('invite', 'locked', condition => '');
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS tgname, statusflow_internal.trigger_columns(oid)
FROM pg_trigger
WHERE tgrelid = 'invites'::regclass AND tgname LIKE '%invariant';
-- a condition over the whole row watches every column
SELECT statusflow.set_status_info('invite', 'opened', condition => 'NEW IS NOT NULL OR true');
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS tgname, statusflow_internal.trigger_columns(oid)
FROM pg_trigger
WHERE tgrelid = 'invites'::regclass AND tgname LIKE '%invariant';
SELECT statusflow.set_status_info('invite', 'opened', condition => '');
SELECT count(*) AS invariant_triggers FROM pg_trigger
WHERE tgrelid = 'invites'::regclass AND tgname LIKE '%invariant';

-- errors: a column the table lacks, OLD of a column the table lacks
SELECT statusflow.set_status_info('invite', 'opened', condition => 'OLD.nope = 1');
SELECT statusflow.add_transition('invite', ARRAY['opened'], 'done', condition => 'NEW.nope');

-- a partitioned table: the trigger reaches every partition, OLD follows a
-- row that moves between partitions
SELECT statusflow.set_status_info('invite', 'opened', condition => 'channel = ''email''');
CREATE TABLE regional_invites (region text, id int, email text, channel text NOT NULL DEFAULT 'email',
							   amount int, status invite_status NOT NULL DEFAULT 'invited',
							   PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE regional_invites_eu PARTITION OF regional_invites FOR VALUES IN ('eu');
CREATE TABLE regional_invites_us (status invite_status NOT NULL DEFAULT 'invited', amount int,
								  channel text NOT NULL DEFAULT 'email', email text,
								  id int NOT NULL, region text NOT NULL);
ALTER TABLE regional_invites ATTACH PARTITION regional_invites_us FOR VALUES IN ('us');
SELECT statusflow.attach('regional_invites', 'status', 'invite');
INSERT INTO regional_invites (region, id, email) VALUES ('eu', 1, 'e@example.com'), ('us', 2, 'u@example.com');
UPDATE regional_invites SET status = 'opened';
UPDATE regional_invites SET channel = 'sms' WHERE id = 2;
UPDATE regional_invites SET status = 'bounced';
UPDATE regional_invites SET status = 'invited', region = 'us' WHERE id = 1;
UPDATE regional_invites SET status = 'invited', region = 'us', email = 'e2@example.com' WHERE id = 1;
SELECT region, id, email, status FROM regional_invites ORDER BY id;

SELECT statusflow.detach('regional_invites');
SELECT statusflow.detach('invites');
DROP TABLE regional_invites, regional_invites_status_history, invites, invites_status_history;
SELECT statusflow.drop_workflow('invite');

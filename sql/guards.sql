-- Guards: roles, row conditions on transitions and statuses, required
-- reasons, uses per entity, going back to the previous status, quotas, and
-- counting entries into a status.
\set SHOW_CONTEXT never

SELECT statusflow.create_workflow('guarded',
	ARRAY['new', 'pending', 'active', 'inactive', 'sms_only', 'email_only', 'suspended', 'capped'],
	ARRAY['new']);
SELECT statusflow.set_status_info('guarded', 'sms_only', condition => $$channel = 'sms'$$);
SELECT statusflow.set_status_info('guarded', 'email_only', condition => $$channel = 'email'$$);
-- roles: the business may only disconnect and re-invite; customers connect
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'pending', event => 'invite',
								 roles => ARRAY['regress_sf_business']);
SELECT statusflow.add_transition('guarded', ARRAY['pending', 'inactive'], 'active', event => 'connect',
								 roles => ARRAY['regress_sf_customer']);
SELECT statusflow.add_transition('guarded', ARRAY['active'], 'inactive', event => 'disconnect',
								 roles => ARRAY['regress_sf_business']);
SELECT statusflow.add_transition('guarded', ARRAY['active'], 'inactive', event => 'opt_out',
								 roles => ARRAY['regress_sf_customer']);
SELECT statusflow.add_transition('guarded', ARRAY['inactive'], 'pending', event => 'reinvite',
								 roles => ARRAY['regress_sf_business'], require_reason => true,
								 max_uses => 1);
-- one event, two targets told apart by the targets' conditions
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'sms_only', event => 'send');
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'email_only', event => 'send');
-- a transition condition
SELECT statusflow.add_transition('guarded', ARRAY['sms_only', 'email_only'], 'active',
								 event => 'activate', condition => 'score >= 10');
-- suspension from anywhere, and back to where the row was
SELECT statusflow.add_transition('guarded', ARRAY['pending', 'active', 'inactive', 'sms_only'],
								 'suspended', event => 'suspend');
SELECT statusflow.add_transition('guarded', ARRAY['suspended'], NULL, event => 'unsuspend',
								 restore_previous => true);
SELECT from_status, to_status, event, roles, condition, require_reason, max_uses, restores_previous
FROM statusflow.transitions WHERE workflow = 'guarded';

CREATE TABLE members (
	id int PRIMARY KEY,
	channel text NOT NULL DEFAULT 'sms',
	score int NOT NULL DEFAULT 0,
	account int NOT NULL DEFAULT 1,
	status guarded_status NOT NULL DEFAULT 'new'
);
SELECT statusflow.attach('members', 'status', 'guarded');
GRANT SELECT, INSERT, UPDATE ON members TO regress_sf_business, regress_sf_customer, regress_sf_other;
INSERT INTO members (id, channel) VALUES (1, 'sms'), (2, 'email'), (3, 'sms'), (4, 'sms'), (5, 'sms');

-- roles: checked for plain UPDATEs and for the API, refused with 42501
SET ROLE regress_sf_other;
UPDATE members SET status = 'pending' WHERE id = 1;
SELECT statusflow.can_transition('guarded', 'new', 'pending') AS other_can_invite;
RESET ROLE;
SET ROLE regress_sf_business;
SELECT statusflow.can_transition('guarded', 'new', 'pending') AS business_can_invite,
	   statusflow.can_transition('guarded', 'pending', 'active') AS business_can_connect;
UPDATE members SET status = 'pending' WHERE id = 1;
UPDATE members SET status = 'active' WHERE id = 1;
RESET ROLE;
SET ROLE regress_sf_customer;
SELECT statusflow.fire('members', 1, 'connect');
-- the pair active -> inactive has two transitions; the role picks the event
UPDATE members SET status = 'inactive' WHERE id = 1;
RESET ROLE;
SELECT from_status, to_status, event, db_role FROM members_status_history
WHERE id = 1 ORDER BY history_id;

-- a required reason, and at most one use per row
SET ROLE regress_sf_business;
UPDATE members SET status = 'pending' WHERE id = 1;
BEGIN;
SET LOCAL statusflow.reason = 'customer asked again';
UPDATE members SET status = 'pending' WHERE id = 1;
COMMIT;
RESET ROLE;
SET ROLE regress_sf_customer;
SELECT statusflow.fire('members', 1, 'connect');
SELECT statusflow.fire('members', 1, 'opt_out');
RESET ROLE;
SET ROLE regress_sf_business;
SELECT statusflow.fire('members', 1, 'reinvite', reason => 'one more time');
RESET ROLE;
SELECT statusflow.entries('members', 1, 'pending') AS times_pending,
	   statusflow.entries('members', 1, 'active') AS times_active,
	   statusflow.entries('members', 1, 'suspended') AS times_suspended;

-- status conditions: the event "send" goes where the row's channel allows
SELECT statusflow.fire('members', 2, 'send') AS email_row, statusflow.fire('members', 3, 'send') AS sms_row;
UPDATE members SET status = 'email_only' WHERE id = 4;
UPDATE members SET channel = 'email' WHERE id = 5;
UPDATE members SET status = 'sms_only' WHERE id = 5;
-- a transition condition
SELECT statusflow.fire('members', 3, 'activate');
UPDATE members SET score = 12 WHERE id = 3;
SELECT statusflow.fire('members', 3, 'activate');

-- back to the previous status, by event or by a plain UPDATE
SELECT statusflow.fire('members', 3, 'suspend');
SELECT statusflow.fire('members', 3, 'unsuspend');
INSERT INTO members (id) VALUES (6);
SELECT statusflow.fire('members', 6, 'send');
SELECT statusflow.fire('members', 6, 'suspend');
UPDATE members SET status = 'active' WHERE id = 6;
UPDATE members SET status = 'sms_only' WHERE id = 6;
SELECT from_status, to_status, event FROM members_status_history WHERE id IN (3, 6)
ORDER BY id, history_id;
SELECT statusflow.can_transition('guarded', 'suspended', 'sms_only') AS back_to_sms_only,
	   statusflow.can_transition('guarded', 'suspended', 'new') AS back_to_new;
SELECT * FROM statusflow.allowed_transitions('guarded', 'suspended');

-- quotas: two sends per account and month, then diverted to "capped"
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'capped', event => 'cap');
SELECT statusflow.set_quota('guarded', ARRAY['sms_only', 'email_only'], 'account', 2,
							'month', overflow_status => 'capped');
SELECT workflow, statuses, per_column, max_entries, period, overflow_status FROM statusflow.quotas;
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS trigger FROM pg_trigger
WHERE tgrelid = 'members'::regclass AND NOT tgisinternal ORDER BY 1;
INSERT INTO members (id, account) VALUES (10, 7), (11, 7), (12, 7), (13, 8);
UPDATE members SET status = 'sms_only' WHERE id IN (10, 11, 12, 13);
SELECT id, status FROM members WHERE id >= 10 ORDER BY id;
SELECT scope, used FROM statusflow.quota_usage ORDER BY scope;
SELECT from_status, to_status, event FROM members_status_history WHERE id = 12 ORDER BY history_id;
-- a rolled-back change gives its entry back
INSERT INTO members (id, account) VALUES (14, 8);
BEGIN;
UPDATE members SET status = 'sms_only' WHERE id = 14;
ROLLBACK;
SELECT used FROM statusflow.quota_usage WHERE scope = '8';
-- without an overflow status the change is refused
SELECT statusflow.set_quota('guarded', ARRAY['sms_only', 'email_only'], 'account', 1, 'month');
INSERT INTO members (id, account) VALUES (15, 9), (16, 9);
UPDATE members SET status = 'sms_only' WHERE id = 15;
UPDATE members SET status = 'sms_only' WHERE id = 16;
-- removing the quota removes the BEFORE trigger
SELECT statusflow.remove_quota('guarded', ARRAY['sms_only', 'email_only']);
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS trigger FROM pg_trigger
WHERE tgrelid = 'members'::regclass AND NOT tgisinternal ORDER BY 1;
UPDATE members SET status = 'sms_only' WHERE id = 16;

-- definition errors
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', roles => ARRAY['nosuchrole']);
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', roles => ARRAY[]::text[]);
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', condition => 'nosuchcolumn > 1');
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', condition => 'score > (SELECT 1)');
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', condition => 'true; DROP TABLE members');
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', condition => '1 FROM pg_class');
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', condition => 'score');
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', condition => 'score >');
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', max_uses => 0);
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'active', restore_previous => true);
SELECT statusflow.add_transition('guarded', ARRAY['new'], NULL, event => 'undo', restore_previous => true);
SELECT statusflow.add_transition('guarded', ARRAY['new'], 'suspended', event => 'send');
SELECT statusflow.set_status_info('guarded', 'active', condition => 'nosuchcolumn');
SELECT statusflow.set_quota('guarded', ARRAY['active'], 'nosuchcolumn', 1);
SELECT statusflow.set_quota('guarded', ARRAY['active'], 'account', 1, 'fortnight');
SELECT statusflow.set_quota('guarded', ARRAY['active'], 'account', -1);
SELECT statusflow.set_quota('guarded', ARRAY['active'], 'account', 1, overflow_status => 'active');
SELECT statusflow.remove_quota('guarded', ARRAY['active']);
-- a workflow whose condition does not fit a table cannot be attached to it
CREATE TABLE no_channel (id int PRIMARY KEY, status guarded_status NOT NULL DEFAULT 'new');
SELECT statusflow.attach('no_channel', 'status', 'guarded');
SELECT to_regclass('no_channel_status_history') AS no_history_left;
-- nor can another role change the guards
SET ROLE regress_sf_other;
SELECT statusflow.set_quota('guarded', ARRAY['active'], 'account', 1);
RESET ROLE;

-- Defining workflows: create_workflow, add_transition, remove_transition,
-- add_status, set_status_info, drop_workflow, the views and the
-- introspection functions, with their error paths.
\set SHOW_CONTEXT never

SELECT statusflow.create_workflow(
	'invitation',
	statuses => ARRAY['invited', 'sent', 'bounced', 'opened', 'accepted', 'declined'],
	initial => ARRAY['invited'],
	terminal => ARRAY['accepted'],
	description => 'Invitations sent by email');

-- a real enum type, labels in rank order, in the current schema
SELECT 'invitation_status'::regtype;
SELECT enum_range(NULL::invitation_status);

SELECT statusflow.add_transition('invitation', ARRAY['invited'], 'sent', event => 'send');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'bounced', event => 'bounce',
								 kind => 'automatic');
SELECT statusflow.add_transition('invitation', ARRAY['bounced'], 'sent', event => 'resend',
								 description => 'after the address was corrected');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'opened', event => 'open',
								 kind => 'automatic');
SELECT statusflow.add_transition('invitation', ARRAY['sent', 'opened'], 'accepted', event => 'accept');
SELECT statusflow.add_transition('invitation', ARRAY['sent', 'opened'], 'declined', event => 'decline');
-- a transition without an event
SELECT statusflow.add_transition('invitation', ARRAY['declined'], 'invited');

SELECT * FROM statusflow.workflows;
SELECT * FROM statusflow.statuses WHERE workflow = 'invitation';
SELECT workflow, from_status, to_status, event, kind, description
FROM statusflow.transitions WHERE workflow = 'invitation';

SELECT * FROM statusflow.allowed_transitions('invitation', 'sent');
SELECT * FROM statusflow.allowed_transitions('invitation', 'accepted');

SELECT statusflow.can_transition('invitation', 'sent', 'opened') AS sent_opened,
	   statusflow.can_transition('invitation', 'invited', 'accepted') AS invited_accepted,
	   statusflow.can_transition('invitation', 'accepted', 'invited') AS from_terminal,
	   statusflow.can_transition('invitation', 'opened', 'opened') AS same_status;

SELECT * FROM statusflow.check_workflow('invitation');

-- add_status places the new label by rank
SELECT statusflow.add_status('invitation', 'received', after => 'sent',
							 description => 'delivered to the mailbox', group_name => 'invited');
SELECT statusflow.add_status('invitation', 'draft', before => 'invited', initial => true);
SELECT statusflow.add_status('invitation', 'expired', terminal => true);
SELECT status, rank, group_name, description, is_initial, is_terminal
FROM statusflow.statuses WHERE workflow = 'invitation' ORDER BY rank;
-- new statuses nothing leads to are reported
SELECT * FROM statusflow.check_workflow('invitation');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'received', event => 'deliver');
SELECT statusflow.add_transition('invitation', ARRAY['received'], 'opened', event => 'open');
SELECT statusflow.add_transition('invitation', ARRAY['received'], 'expired', event => 'expire');
SELECT statusflow.add_transition('invitation', ARRAY['draft'], 'invited');
SELECT * FROM statusflow.check_workflow('invitation');

-- set_status_info: NULL leaves a field alone, '' clears it
SELECT statusflow.set_status_info('invitation', 'declined', description => 'said no',
								  group_name => 'declined');
SELECT statusflow.set_status_info('invitation', 'received', group_name => '');
SELECT statusflow.set_status_info('invitation', 'draft', initial => false);
SELECT status, group_name, description, is_initial, is_terminal
FROM statusflow.statuses WHERE workflow = 'invitation' AND status IN ('declined', 'received', 'draft')
ORDER BY rank;

-- remove_transition
SELECT statusflow.remove_transition('invitation', ARRAY['draft'], 'invited');
SELECT count(*) FROM statusflow.transitions WHERE workflow = 'invitation' AND from_status = 'draft';

-- names that need quoting: spaces, quotes, mixed case, another schema
CREATE SCHEMA "Flow Types";
SELECT statusflow.create_workflow('Beta "list"', ARRAY['Waiting List', 'it''s in', 'Out'],
								  ARRAY['Waiting List'], ARRAY['Out'],
								  type_name => '"Flow Types"."Beta Status"');
SELECT enum_range(NULL::"Flow Types"."Beta Status");
SELECT statusflow.add_transition('Beta "list"', ARRAY['Waiting List'], 'it''s in', event => 'let in');
SELECT statusflow.add_status('Beta "list"', 'On "hold"', after => 'Waiting List');
SELECT * FROM statusflow.allowed_transitions('Beta "list"', 'Waiting List');

-- errors: nothing is created or changed
SELECT statusflow.create_workflow('invitation', ARRAY['a'], ARRAY['a']);
SELECT statusflow.create_workflow('', ARRAY['a'], ARRAY['a']);
SELECT statusflow.create_workflow(repeat('w', 64), ARRAY['a'], ARRAY['a']);
SELECT statusflow.create_workflow('empty', ARRAY[]::text[], ARRAY['a']);
SELECT statusflow.create_workflow('dup', ARRAY['a', 'b', 'a'], ARRAY['a']);
SELECT statusflow.create_workflow('nulls', ARRAY['a', NULL], ARRAY['a']);
SELECT statusflow.create_workflow('long', ARRAY[repeat('x', 64)], ARRAY[repeat('x', 64)]);
SELECT statusflow.create_workflow('noinit', ARRAY['a', 'b'], ARRAY[]::text[]);
SELECT statusflow.create_workflow('badinit', ARRAY['a', 'b'], ARRAY['c']);
SELECT statusflow.create_workflow('badterm', ARRAY['a', 'b'], ARRAY['a'], ARRAY['z']);
SELECT statusflow.create_workflow('taken', ARRAY['a'], ARRAY['a'], type_name => 'invitation_status');
SELECT statusflow.create_workflow('bad name', ARRAY['a'], ARRAY['a'], type_name => 'a.b.c');
SELECT statusflow.create_workflow('noschema', ARRAY['a'], ARRAY['a'], type_name => 'nosuchschema.t');
SELECT count(*) AS workflows FROM statusflow.workflow;

SELECT statusflow.add_transition('nosuch', ARRAY['a'], 'b');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'nosuch');
SELECT statusflow.add_transition('invitation', ARRAY['nosuch'], 'sent');
SELECT statusflow.add_transition('invitation', ARRAY[]::text[], 'sent');
SELECT statusflow.add_transition('invitation', ARRAY[NULL], 'sent');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'opened', event => 'open');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'declined', event => 'open');
SELECT statusflow.add_transition('invitation', ARRAY['declined'], 'invited');
SELECT statusflow.add_transition('invitation', ARRAY['accepted'], 'sent');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'opened', kind => 'magic');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'opened', event => '');
-- a status of another workflow
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'Waiting List');

SELECT statusflow.remove_transition('invitation', ARRAY['sent'], 'opened');
SELECT statusflow.remove_transition('invitation', ARRAY['sent'], 'opened', event => 'nope');

SELECT statusflow.add_status('invitation', 'sent');
SELECT statusflow.add_status('invitation', '');
SELECT statusflow.add_status('invitation', 'x', before => 'sent', after => 'opened');
SELECT statusflow.add_status('invitation', 'x', before => 'nosuch');

SELECT statusflow.set_status_info('invitation', 'nosuch', description => 'x');
SELECT statusflow.set_status_info('invitation', 'sent', terminal => true);
SELECT statusflow.set_status_info('invitation', 'invited', initial => false);

SELECT statusflow.allowed_transitions('nosuch', 'a');
SELECT statusflow.allowed_transitions('invitation', 'nosuch');
SELECT statusflow.can_transition('nosuch', 'a', 'b');
SELECT statusflow.can_transition('invitation', 'sent', 'nosuch');
SELECT statusflow.check_workflow('nosuch');

-- only the owner of the enum type may change a workflow
SET ROLE regress_sf_other;
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'expired');
SELECT statusflow.add_status('invitation', 'hacked');
SELECT statusflow.set_status_info('invitation', 'sent', description => 'hacked');
SELECT statusflow.drop_workflow('invitation');
-- nor write the catalog directly
INSERT INTO statusflow.transition (workflow, from_status, to_status)
VALUES ('invitation', 'sent', 'expired');
UPDATE statusflow.status SET description = 'hacked' WHERE workflow = 'invitation';
DELETE FROM statusflow.transition WHERE workflow = 'invitation';
-- but anyone may read it, and create a workflow of their own
SELECT count(*) > 0 AS can_read FROM statusflow.transitions;
SELECT statusflow.create_workflow('other', ARRAY['a', 'b'], ARRAY['a']);
SELECT statusflow.add_transition('other', ARRAY['a'], 'b');
RESET ROLE;
SELECT count(*) AS unchanged FROM statusflow.transition WHERE workflow = 'invitation';
SELECT description FROM statusflow.status WHERE workflow = 'invitation' AND status = 'sent';

-- drop_workflow drops the type too, unless told not to
SELECT statusflow.drop_workflow('other');
SELECT to_regtype('other_status');
SELECT statusflow.create_workflow('keep', ARRAY['a'], ARRAY['a']);
SELECT statusflow.drop_workflow('keep', drop_type => false);
SELECT to_regtype('keep_status') IS NOT NULL AS type_kept,
	   (SELECT count(*) FROM statusflow.workflow WHERE name = 'keep') AS catalog_rows;
DROP TYPE keep_status;
SELECT statusflow.drop_workflow('nosuch');

-- dropping the enum type directly takes the workflow along
SELECT statusflow.create_workflow('direct', ARRAY['a', 'b'], ARRAY['a']);
SELECT statusflow.add_transition('direct', ARRAY['a'], 'b');
DROP TYPE direct_status;
SELECT count(*) FROM statusflow.workflow WHERE name = 'direct';
SELECT count(*) FROM statusflow.status WHERE workflow = 'direct';
SELECT count(*) FROM statusflow.transition WHERE workflow = 'direct';

-- What a row may do next (next_transitions), what one change would do
-- (explain_transition), and compare-and-set (expect).
\set SHOW_CONTEXT never
\set VERBOSITY terse

SELECT statusflow.create_workflow('ticket', ARRAY['open', 'assigned', 'escalated', 'on_hold', 'closed'],
								  ARRAY['open'], ARRAY['closed']);
SELECT statusflow.add_transition('ticket', ARRAY['open'], 'assigned', event => 'assign');
SELECT statusflow.add_transition('ticket', ARRAY['open'], 'escalated', event => 'escalate',
								 roles => ARRAY['regress_sf_business']);
SELECT statusflow.add_transition('ticket', ARRAY['open', 'assigned'], 'closed', event => 'close',
								 require_reason => true);
SELECT statusflow.add_transition('ticket', ARRAY['open'], 'open', event => 'nudge', max_uses => 1);
SELECT statusflow.add_transition('ticket', ARRAY['open', 'assigned'], 'on_hold', event => 'hold',
								 condition => 'priority < 3');
SELECT statusflow.add_transition('ticket', ARRAY['on_hold'], NULL, event => 'resume',
								 restore_previous => true);
SELECT statusflow.set_status_info('ticket', 'assigned', condition => 'assignee IS NOT NULL');

CREATE TABLE support_tickets (id int PRIMARY KEY, priority int NOT NULL DEFAULT 1, assignee text,
					  owner_role text, status ticket_status NOT NULL DEFAULT 'open');
SELECT statusflow.attach('support_tickets', 'status', 'ticket');
INSERT INTO support_tickets (id, priority) VALUES (1, 1), (2, 5), (3, 1);
GRANT SELECT, UPDATE ON support_tickets TO regress_sf_business, regress_sf_customer;

-- every transition from the row's status, open to this role or not, and why
SELECT * FROM statusflow.next_transitions('support_tickets', 1);
SELECT statusflow.fire('support_tickets', 1, 'nudge');
SELECT event, to_status, allowed, refusal FROM statusflow.next_transitions('support_tickets', 2)
WHERE NOT allowed OR event = 'nudge';
SET ROLE regress_sf_business;
SELECT event, allowed FROM statusflow.next_transitions('support_tickets', '1') WHERE event = 'escalate';
RESET ROLE;
SET ROLE regress_sf_customer;
SELECT event, allowed, refusal FROM statusflow.next_transitions('support_tickets', '1') WHERE event = 'escalate';
RESET ROLE;
-- back to the status held before: resolved from the history
UPDATE support_tickets SET assignee = 'ann', status = 'assigned' WHERE id = 3;
SELECT statusflow.fire('support_tickets', 3, 'hold');
SELECT * FROM statusflow.next_transitions('support_tickets', 3);
SELECT * FROM statusflow.next_transitions('support_tickets', 404);

-- what one change would do, tried and rolled back
SELECT count(*) AS history_rows FROM support_tickets_status_history \gset
SELECT * FROM statusflow.explain_transition('support_tickets', '1', event => 'assign');
SELECT * FROM statusflow.explain_transition('support_tickets', '1', event => 'close');
SELECT * FROM statusflow.explain_transition('support_tickets', '1', event => 'close', reason => 'duplicate');
SELECT * FROM statusflow.explain_transition('support_tickets', '2', to_status => 'closed', reason => 'x');
SELECT * FROM statusflow.explain_transition('support_tickets', '404', event => 'assign');
SELECT * FROM statusflow.explain_transition('support_tickets', '1');
SELECT (SELECT count(*) FROM support_tickets_status_history) - :history_rows AS rows_written,
	   (SELECT status FROM support_tickets WHERE id = 1) AS status_of_1;

-- compare and set: the change applies only to the status the user saw
SELECT statusflow.fire('support_tickets', 2, 'close', reason => 'stale form', expect => 'assigned');
SELECT statusflow.fire('support_tickets', 2, 'close', reason => 'fresh form', expect => 'open');
SELECT statusflow.transition('support_tickets', 1, 'assigned', expect => 'closed');
SELECT statusflow.transition('support_tickets', 1, 'assigned', expect => 'nosuch');
SELECT statusflow.transition('support_tickets', 404, 'assigned', expect => 'open');
SELECT id, status FROM support_tickets ORDER BY id;

-- keys as drivers send an untyped array parameter: an array literal
PREPARE many_keys(unknown, unknown, unknown, unknown) AS
SELECT statusflow.fire_many($1, $2, $3, reason => $4);
EXECUTE many_keys('support_tickets', '{1, 404}', 'close', 'batch');
SELECT statusflow.transition_many('support_tickets', '{3}'::text, 'closed');
SELECT statusflow.transition_many('support_tickets', 'not an array', 'closed');
SELECT statusflow.transition_many('support_tickets', '{1.5}', 'closed');
SELECT id, status FROM support_tickets ORDER BY id;

SELECT statusflow.detach('support_tickets');
DROP TABLE support_tickets, support_tickets_status_history;
SELECT statusflow.drop_workflow('ticket');

-- Repeated events: a transition from a status to itself, declared for an
-- event, records each firing without changing the status.
\set SHOW_CONTEXT never
\set VERBOSITY terse

SELECT statusflow.create_workflow('reminder', ARRAY['pending', 'paused', 'converted'],
								  ARRAY['pending'], ARRAY['converted']);
-- sparingly: twice per customer, with a reason
SELECT statusflow.add_transition('reminder', ARRAY['pending'], 'pending', event => 'remind',
								 max_uses => 2, require_reason => true);
-- only the business may re-invite, as often as it likes
SELECT statusflow.add_transition('reminder', ARRAY['pending'], 'pending', event => 'reinvite',
								 roles => ARRAY['regress_sf_business']);
SELECT statusflow.add_transition('reminder', ARRAY['paused'], 'pending', event => 'reinvite');
SELECT statusflow.add_transition('reminder', ARRAY['pending'], 'paused', event => 'pause');
SELECT statusflow.add_transition('reminder', ARRAY['paused'], NULL, event => 'resume',
								 restore_previous => true);
SELECT statusflow.add_transition('reminder', ARRAY['pending'], 'converted', event => 'convert');
SELECT statusflow.can_transition('reminder', 'pending', 'pending');

CREATE TABLE customers (id int PRIMARY KEY, status reminder_status NOT NULL DEFAULT 'pending',
						since timestamptz);
GRANT SELECT, UPDATE ON customers TO regress_sf_business, regress_sf_customer;
SELECT statusflow.attach('customers', 'status', 'reminder', entered_at_column => 'since');
INSERT INTO customers (id) SELECT generate_series(1, 4);
UPDATE customers SET since = '2024-01-01' WHERE id = 1;

-- each firing is recorded; the row, its entered-at time included, stays
SELECT statusflow.fire('customers', 1, 'remind', reason => 'first nudge', actor => 'mailer');
SELECT statusflow.fire('customers', 1, 'remind', reason => 'second nudge');
SELECT id, status, since FROM customers WHERE id = 1;
SELECT id, from_status, to_status, event, reason, actor FROM customers_status_history
WHERE id = 1 ORDER BY history_id;
-- the guards apply: uses, reasons, roles
\set VERBOSITY default
SELECT statusflow.fire('customers', 1, 'remind', reason => 'third');
SELECT statusflow.fire('customers', 2, 'remind');
SET ROLE regress_sf_customer;
SELECT statusflow.fire('customers', 2, 'reinvite');
RESET ROLE;
\set VERBOSITY terse
SET ROLE regress_sf_business;
SELECT statusflow.fire('customers', 2, 'reinvite');
RESET ROLE;
-- a plain UPDATE to the same status records nothing
UPDATE customers SET status = 'pending' WHERE id = 3;
SELECT count(*) AS rows_of_3 FROM customers_status_history WHERE id = 3;
-- fire_many: repeats and moves in one call
UPDATE customers SET status = 'paused' WHERE id = 4;
SET ROLE regress_sf_business;
SELECT statusflow.fire_many('customers', ARRAY[2, 3, 4], 'reinvite');
RESET ROLE;
SELECT id, from_status, to_status, event FROM customers_status_history
WHERE id IN (2, 3, 4) AND event = 'reinvite' ORDER BY history_id;

-- a repeat is no entry: entries(), the previous status, time in status
SELECT statusflow.entries('customers', 1, 'pending') AS entries_of_1,
	   statusflow.entries('customers', 2, 'pending') AS entries_of_2;
SELECT statusflow.fire('customers', 2, 'pause');
SELECT statusflow.fire('customers', 2, 'resume');
SELECT stays, open_stays FROM statusflow.time_in_status('customers')
WHERE status = 'pending';
SELECT status, sum(entries) AS entries FROM statusflow.entry_series('customers', 'month')
GROUP BY status ORDER BY status;
SELECT from_status, to_status, transitions FROM statusflow.transition_matrix('customers', '-infinity')
WHERE from_status = 'pending' ORDER BY to_status;
-- the waiting list keeps its order: a reminder does not move anyone back
SELECT key, current_status, last_event FROM statusflow.stale('customers', 'pending', '0 seconds')
ORDER BY entered_at, key::text;
SELECT "position" FROM statusflow.queue_position('customers', 1);

SELECT statusflow.detach('customers');
DROP TABLE customers, customers_status_history;
SELECT statusflow.drop_workflow('reminder');

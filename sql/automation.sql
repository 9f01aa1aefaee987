-- Timers and tick(): rows that stay in a status, or reach the time in one of
-- their columns, move on by themselves; the entered-at column; event rules.
\set SHOW_CONTEXT never

SELECT statusflow.create_workflow('lifecycle',
	ARRAY['scheduled', 'sent', 'active', 'idle', 'happy', 'retargeted', 'closed'],
	ARRAY['scheduled', 'active', 'happy'], ARRAY['closed']);
SELECT statusflow.add_transition('lifecycle', ARRAY['scheduled'], 'sent', event => 'send');
SELECT statusflow.add_transition('lifecycle', ARRAY['active'], 'idle', event => 'go_idle',
								 kind => 'automatic');
SELECT statusflow.add_transition('lifecycle', ARRAY['idle'], 'active', event => 'check_in');
SELECT statusflow.add_transition('lifecycle', ARRAY['happy'], 'retargeted', event => 'retarget',
								 kind => 'automatic', condition => 'opted_in');
SELECT statusflow.add_transition('lifecycle', ARRAY['sent', 'idle', 'retargeted'], 'closed');

CREATE TABLE contacts (
	id int PRIMARY KEY,
	status lifecycle_status NOT NULL,
	send_at timestamptz,
	last_seen timestamptz,
	opted_in boolean NOT NULL DEFAULT true,
	status_since timestamptz
);
-- a timer that counts time in a status needs an entered-at column
SELECT statusflow.add_timer('lifecycle', 'happy', after => '7 days', event => 'retarget');
SELECT statusflow.attach('contacts', 'status', 'lifecycle');
SELECT statusflow.attach('contacts', 'status', 'lifecycle', entered_at_column => 'nosuch');
SELECT statusflow.attach('contacts', 'status', 'lifecycle', entered_at_column => 'opted_in');
SELECT statusflow.attach('contacts', 'status', 'lifecycle', entered_at_column => 'status_since');
-- the scheduled send: when the time in send_at is reached
SELECT statusflow.add_timer('lifecycle', 'scheduled', at_column => 'send_at', event => 'send');
-- idle after 14 days without a check-in
SELECT statusflow.add_timer('lifecycle', 'active', after => '14 days', at_column => 'last_seen',
							to_status => 'idle');
SELECT workflow, status, after, at_column, to_status, event FROM statusflow.timers
WHERE workflow = 'lifecycle';
-- tick() finds due rows through (status, time) indexes attach and add_timer made
SELECT indexdef FROM pg_indexes WHERE tablename = 'contacts' ORDER BY 1;

-- the entered-at column is kept by statusflow, from the change's time
INSERT INTO contacts (id, status, send_at) VALUES
	(1, 'scheduled', now() - interval '1 hour'),
	(2, 'scheduled', now() - interval '1 minute'),
	(3, 'scheduled', now() + interval '1 hour');
INSERT INTO contacts (id, status, last_seen) VALUES
	(4, 'active', now() - interval '15 days'),
	(5, 'active', now() - interval '13 days');
INSERT INTO contacts (id, status) VALUES (6, 'happy'), (7, 'happy'), (8, 'happy');
SELECT id, status_since > now() - interval '1 minute' AS entered_just_now
FROM contacts ORDER BY id;
UPDATE contacts SET status_since = now() - interval '8 days', opted_in = (id <> 7)
WHERE id IN (6, 7);
-- changing the status moves the column; changing anything else does not
BEGIN;
UPDATE contacts SET status_since = '2026-01-01 00:00+00' WHERE id = 4;
UPDATE contacts SET last_seen = last_seen WHERE id = 4;
SELECT status_since FROM contacts WHERE id = 4;
ROLLBACK;
SELECT statusflow.transition('contacts', 8, 'retargeted', occurred_at => '2026-01-01 10:00+00');
SELECT status_since FROM contacts WHERE id = 8;

-- tick(): what is due moves, with an event or to a status; the rest waits.
-- Row 7 is refused by the retarget transition's condition: the batch falls
-- back to one row at a time and reports it.
SELECT table_name, key, from_status, to_status, event, outcome
FROM statusflow.tick() ORDER BY key->>'id';
SELECT id, status FROM contacts ORDER BY id;
SELECT id, from_status, to_status, event, actor, reason FROM contacts_status_history
WHERE actor = 'statusflow.tick' ORDER BY id;
-- idempotent: nothing is due any more, except the refused row
SELECT key, outcome FROM statusflow.tick();
UPDATE contacts SET opted_in = true WHERE id = 7;
SELECT key, outcome FROM statusflow.tick();
SELECT key, outcome FROM statusflow.tick();
-- max_rows caps one run
INSERT INTO contacts (id, status, send_at)
SELECT g, 'scheduled', now() - interval '1 day' FROM generate_series(20, 24) g;
SELECT count(*) AS first_run FROM statusflow.tick(3) WHERE outcome = 'applied';
SELECT count(*) AS second_run FROM statusflow.tick(3) WHERE outcome = 'applied';
SELECT count(*) AS still_scheduled FROM contacts WHERE status = 'scheduled' AND send_at < now();
SELECT statusflow.tick(0);

-- event rules: an event leads from each status to its own target, and one
-- that does not apply gets a clear error
SELECT statusflow.fire('contacts', 4, 'check_in');
SELECT statusflow.fire('contacts', 4, 'check_in');

-- timer definition errors
SELECT statusflow.add_timer('lifecycle', 'happy');
SELECT statusflow.add_timer('lifecycle', 'happy', after => '1 day');
SELECT statusflow.add_timer('lifecycle', 'happy', after => '1 day', event => 'x', to_status => 'closed');
SELECT statusflow.add_timer('lifecycle', 'happy', after => '-1 day', to_status => 'retargeted');
SELECT statusflow.add_timer('lifecycle', 'happy', after => '1 day', to_status => 'closed');
SELECT statusflow.add_timer('lifecycle', 'happy', after => '1 day', event => 'send');
SELECT statusflow.add_timer('lifecycle', 'nosuch', after => '1 day', event => 'send');
SELECT statusflow.add_timer('lifecycle', 'scheduled', at_column => 'opted_in', event => 'send');
SELECT statusflow.remove_timer(-1);
SET ROLE regress_sf_other;
SELECT statusflow.add_timer('lifecycle', 'happy', after => '1 day', event => 'retarget');
RESET ROLE;
SELECT statusflow.remove_timer(id) FROM statusflow.timers
WHERE workflow = 'lifecycle' AND status = 'happy';
SELECT count(*) AS timers_left FROM statusflow.timers WHERE workflow = 'lifecycle';

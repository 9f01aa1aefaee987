-- The end of the demo: more invitations, last week's activity imported with
-- the times it happened, and the dashboard of the invitations table.
-- Runs after the invitations demo, which creates the table.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;

\echo
\echo '== 8. Twelve more invitations; last week''s activity imported from the mail provider'
INSERT INTO invitations (id, email)
SELECT g, format('guest%s@example.com', g) FROM generate_series(4, 15) g;
SELECT statusflow.transition_many('invitations', ARRAY(SELECT generate_series(4, 15)::bigint),
								  'sent', actor => 'mail-import',
								  occurred_at => now() - interval '6 days') AS sent;
SELECT statusflow.fire_many('invitations', ARRAY[4, 5, 6, 7, 8, 9]::bigint[], 'open',
							actor => 'mail-import', occurred_at => now() - interval '4 days') AS opened;
SELECT statusflow.fire_many('invitations', ARRAY[10, 11]::bigint[], 'bounce',
							actor => 'mail-import', occurred_at => now() - interval '5 days') AS bounced;
SELECT statusflow.fire_many('invitations', ARRAY[4, 5, 6]::bigint[], 'accept',
							occurred_at => now() - interval '2 days') AS accepted;
SELECT statusflow.fire('invitations', 7, 'decline', reason => 'not interested',
					   occurred_at => now() - interval '1 day');
SELECT statusflow.fire('invitations', 10, 'resend', reason => 'address fixed',
					   actor => 'ana', occurred_at => now() - interval '1 day');

\echo '== 9. Reports in SQL: who has not answered for 3 days, how long invitations wait'
SELECT key, current_status, date_trunc('minute', time_in_status) AS waiting, last_event, last_actor
FROM statusflow.stale('invitations', 'sent', '3 days');
SELECT status, stays, open_stays, date_trunc('minute', mean) AS mean,
	   date_trunc('minute', median) AS median
FROM statusflow.time_in_status('invitations') WHERE stays > 0;

\echo '== 10. The dashboard'
SELECT * FROM statusflow.dashboard('invitations');

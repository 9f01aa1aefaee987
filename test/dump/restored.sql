-- pgTAP, in a database restored by pg_restore from a dump of
-- test/dump/source.sql: workflows, bindings, quotas, timers and history
-- survive, and the restored binding enforces and records as before.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(11);

SELECT is((SELECT count(*)::int FROM statusflow.transitions WHERE workflow = 'review_request'),
		  22, 'the workflow''s transitions are restored');
SELECT is((SELECT string_agg(status::text, ',' ORDER BY id) FROM rr),
		  'sms_sent,email_sent,limit_reached', 'the rows are restored');
SELECT is((SELECT count(*)::int FROM rr_status_history WHERE actor = 'before dump'), 3,
		  'the history is restored');
SELECT is((SELECT entered_at_column::text || ' ' || notify_channel FROM statusflow.bindings
		   WHERE table_name = 'rr'::regclass), 'since rr_changes', 'the binding is restored');
SELECT is((SELECT used FROM statusflow.quota_usage), 2, 'the quota usage is restored');
SELECT is((SELECT count(*)::int FROM statusflow.timers), 1, 'the timer is restored');
SELECT set_eq($$SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'rr'::regclass$$,
			  $$SELECT trigger_name FROM statusflow_internal.binding_triggers(
					(SELECT b FROM statusflow.binding b WHERE table_name = 'rr'::regclass))$$,
			  'the triggers are restored');
INSERT INTO rr (id, account_id, channel) VALUES (4, 1, 'sms');
SELECT is(statusflow.fire('rr', 4, 'send'), 'limit_reached', 'the quota still diverts');
SELECT throws_ok($$UPDATE rr SET status = 'clicked_review_site' WHERE id = 1$$, '23514', NULL,
				 'the trigger still refuses');
SELECT throws_ok($$DELETE FROM rr_status_history$$, '42501', NULL,
				 'the history is still append-only');
SELECT is((SELECT count(*)::int FROM rr_status_history WHERE id = 4), 2,
		  'the history still records');

SELECT * FROM finish();
ROLLBACK;

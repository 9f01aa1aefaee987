-- pgTAP, after ALTER EXTENSION statusflow UPDATE from 1.0 (before.sql):
-- every workflow, guard, quota, timer, binding and history row is kept, and
-- enforcement, the API, guards that read history and timers still work.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(17);

SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'statusflow'), '1.1',
		  'the extension is at 1.1');
SELECT is((SELECT count(*) FROM statusflow.workflow), (SELECT workflows FROM before_update), 'workflows kept');
SELECT is((SELECT count(*) FROM statusflow.status), (SELECT statuses FROM before_update), 'statuses kept');
SELECT is((SELECT count(*) FROM statusflow.transition), (SELECT transitions FROM before_update),
		  'transitions and their guards kept');
SELECT is((SELECT count(*) FROM statusflow.quota) + (SELECT count(*) FROM statusflow.quota_usage),
		  (SELECT quotas + quota_usage FROM before_update), 'quotas and their usage kept');
SELECT is((SELECT count(*) FROM statusflow.timer), (SELECT timers FROM before_update), 'timers kept');
SELECT is((SELECT count(*) FROM statusflow.binding), (SELECT bindings FROM before_update), 'bindings kept');
SELECT is((SELECT count(*) FROM jobs_status_history) + (SELECT count(*) FROM shop_orders_status_history)
		  + (SELECT count(*) FROM regional_status_history),
		  (SELECT jobs_history + shop_history + regional_history FROM before_update), 'history kept');
SELECT is((SELECT string_agg(format('%s:%s', id, status), ',' ORDER BY id) FROM jobs),
		  (SELECT job_statuses FROM before_update), 'statuses of rows kept');

-- enforcement, the API and guards reading history written by 1.0
SELECT throws_ok($$UPDATE jobs SET status = 'done' WHERE id = 6$$, '23514', NULL,
				 'an undeclared transition is refused');
SELECT is(statusflow.fire('jobs', 1, 'release'), 'running',
		  'back to the status held before, from 1.0 history');
SELECT lives_ok($$SELECT statusflow.fire('jobs', 2, 'requeue', reason => 'again')$$,
				'a guard requiring a reason');
SELECT throws_ok($$SELECT statusflow.fire('jobs', 2, 'start')$$, '23514', NULL,
				 'max_uses counts the uses 1.0 recorded');
SELECT is(statusflow.transition('shop_orders', '(north,1)', 'held'), 'held', 'a composite key');
SELECT lives_ok($$UPDATE regional SET status = 'running' WHERE region = 'us'$$, 'a partitioned table');
SELECT is((SELECT count(*) FROM jobs_status_history WHERE id = 1), 4::bigint,
		  'history keeps being written');
SELECT ok((SELECT count(*) FROM statusflow.tick()) >= 0, 'tick() runs');

SELECT * FROM finish();
ROLLBACK;

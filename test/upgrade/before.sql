-- Data made with statusflow 1.0, before ALTER EXTENSION statusflow UPDATE:
-- workflows with every kind of guard, a quota, timers, bindings of a plain,
-- a composite-key and a partitioned table, history.  upgraded.sql checks
-- what the update kept.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_agent') THEN
		CREATE ROLE upgrade_agent;
	END IF;
END $$;

SELECT statusflow.create_workflow('job', ARRAY['queued', 'running', 'held', 'done', 'failed'],
								  ARRAY['queued'], ARRAY['done']);
SELECT statusflow.add_transition('job', ARRAY['queued'], 'running', event => 'start', max_uses => 2);
SELECT statusflow.add_transition('job', ARRAY['running'], 'held', event => 'hold');
SELECT statusflow.add_transition('job', ARRAY['held'], NULL, event => 'release', restore_previous => true);
SELECT statusflow.add_transition('job', ARRAY['running'], 'queued', event => 'requeue', require_reason => true);
SELECT statusflow.add_transition('job', ARRAY['running'], 'done', event => 'finish', condition => 'attempts < 5');
SELECT statusflow.add_transition('job', ARRAY['running'], 'failed', event => 'fail', roles => ARRAY['upgrade_agent']);
SELECT statusflow.set_status_info('job', 'failed', condition => 'attempts >= 0', group_name => 'over');
SELECT statusflow.set_quota('job', ARRAY['running'], 'account', 100, 'day');
SELECT statusflow.add_timer('job', 'held', after => '1 hour', event => 'release');

CREATE TABLE jobs (id int PRIMARY KEY, account int NOT NULL, attempts int NOT NULL DEFAULT 0,
				   status job_status NOT NULL DEFAULT 'queued', entered timestamptz);
SELECT statusflow.attach('jobs', 'status', 'job', entered_at_column => 'entered');
SELECT statusflow.set_notify('jobs', 'jobs_changed');
INSERT INTO jobs (id, account) SELECT g, g % 3 FROM generate_series(1, 20) g;
SELECT statusflow.fire('jobs', 1, 'start');
SELECT statusflow.fire('jobs', 1, 'hold');
SELECT statusflow.fire('jobs', 2, 'start');
SELECT statusflow.fire('jobs', 2, 'requeue', reason => 'retry');
SELECT statusflow.fire('jobs', 2, 'start');
SELECT statusflow.transition_many('jobs', ARRAY[3, 4, 5], 'running');
SELECT statusflow.fire('jobs', 3, 'finish', actor => 'worker-1');

CREATE TABLE shop_orders (shop text, code int, status job_status NOT NULL DEFAULT 'queued',
						  account int NOT NULL DEFAULT 1, attempts int NOT NULL DEFAULT 0,
						  entered timestamptz, PRIMARY KEY (shop, code));
SELECT statusflow.attach('shop_orders', 'status', 'job', entered_at_column => 'entered');
INSERT INTO shop_orders (shop, code) VALUES ('north', 1), ('south', 2);
SELECT statusflow.transition('shop_orders', ROW('north', 1), 'running');

CREATE TABLE regional (region text, id int, status job_status NOT NULL DEFAULT 'queued',
					   account int NOT NULL DEFAULT 1, attempts int NOT NULL DEFAULT 0,
					   entered timestamptz, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE regional_eu PARTITION OF regional FOR VALUES IN ('eu');
CREATE TABLE regional_us PARTITION OF regional FOR VALUES IN ('us');
SELECT statusflow.attach('regional', 'status', 'job', entered_at_column => 'entered');
INSERT INTO regional (region, id) VALUES ('eu', 1), ('us', 1);
UPDATE regional SET status = 'running' WHERE region = 'eu';

-- what upgraded.sql compares with
CREATE TABLE before_update AS
SELECT (SELECT count(*) FROM statusflow.workflow) AS workflows,
	   (SELECT count(*) FROM statusflow.status) AS statuses,
	   (SELECT count(*) FROM statusflow.transition) AS transitions,
	   (SELECT count(*) FROM statusflow.quota) AS quotas,
	   (SELECT count(*) FROM statusflow.quota_usage) AS quota_usage,
	   (SELECT count(*) FROM statusflow.timer) AS timers,
	   (SELECT count(*) FROM statusflow.binding) AS bindings,
	   (SELECT count(*) FROM jobs_status_history) AS jobs_history,
	   (SELECT count(*) FROM shop_orders_status_history) AS shop_history,
	   (SELECT count(*) FROM regional_status_history) AS regional_history,
	   (SELECT string_agg(format('%s:%s', id, status), ',' ORDER BY id) FROM jobs) AS job_statuses;

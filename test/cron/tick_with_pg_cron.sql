-- pgTAP, run in the database pg_cron uses (cron.database_name): a real
-- pg_cron job runs statusflow.tick() and the due row moves.  pg_cron 1.4
-- schedules by the minute, so this waits up to 90 seconds.  Nothing is
-- wrapped in a transaction: the job's own session must see the data.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS statusflow;
SELECT plan(4);

SELECT statusflow.create_workflow('cron_flow', ARRAY['waiting', 'due'], ARRAY['waiting']);
SELECT statusflow.add_transition('cron_flow', ARRAY['waiting'], 'due', event => 'wake');
CREATE TABLE cron_items (id int PRIMARY KEY, wake_at timestamptz NOT NULL,
						 status cron_flow_status NOT NULL DEFAULT 'waiting');
SELECT statusflow.attach('cron_items', 'status', 'cron_flow');
SELECT statusflow.add_timer('cron_flow', 'waiting', at_column => 'wake_at', event => 'wake');
INSERT INTO cron_items VALUES (1, now() - interval '1 minute'), (2, now() + interval '1 day');

SELECT cron.schedule('statusflow-tick', '* * * * *',
					 'SELECT count(*) FROM statusflow.tick(1000)') AS job \gset
SELECT ok(:job > 0, 'tick() is scheduled with pg_cron');

-- wait for the job's next run (every minute, on the minute)
DO $$
BEGIN
	FOR i IN 1 .. 90 LOOP
		EXIT WHEN (SELECT status FROM cron_items WHERE id = 1) = 'due';
		PERFORM pg_sleep(1);
	END LOOP;
END
$$;

SELECT is((SELECT status::text FROM cron_items WHERE id = 1), 'due',
		  'the pg_cron job moved the due row');
SELECT is((SELECT status::text FROM cron_items WHERE id = 2), 'waiting',
		  'and left the row that is not due');
SELECT is((SELECT actor FROM cron_items_status_history WHERE id = 1 AND to_status = 'due'),
		  'statusflow.tick', 'the history says who moved it');

SELECT cron.unschedule('statusflow-tick');
SELECT statusflow.detach('cron_items');
DROP TABLE cron_items, cron_items_status_history;
SELECT statusflow.drop_workflow('cron_flow');
SELECT * FROM finish();

-- DROP EXTENSION statusflow CASCADE and back, in a database of its own:
-- the warning before the drop, what stays (tables, rows, history, enum
-- types), and taking it all back (create_workflow() takes the existing
-- enum types, attach() takes the history tables over), in one session.
\set regress_db :DBNAME
CREATE DATABASE statusflow_roundtrip;
\c statusflow_roundtrip
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION statusflow;

SELECT statusflow.create_workflow('job', ARRAY['new', 'running', 'done'], ARRAY['new'],
								  ARRAY['done']);
SELECT statusflow.add_transition('job', ARRAY['new'], 'running', event => 'start');
SELECT statusflow.add_transition('job', ARRAY['running'], 'done', event => 'finish');
CREATE TABLE jobs (id int PRIMARY KEY, status job_status NOT NULL DEFAULT 'new');
SELECT statusflow.attach('jobs', 'status', 'job');
INSERT INTO jobs VALUES (1), (2);
SELECT statusflow.fire('jobs', 1, 'start');
SELECT statusflow.install_preset('review_request');

-- without CASCADE the bound tables' triggers keep it
DROP EXTENSION statusflow;
DROP EXTENSION statusflow CASCADE;

-- what stays: the tables, their rows and history, the enum types; no
-- trigger, so nothing is enforced or append-only any more
SELECT id, status FROM jobs ORDER BY id;
SELECT history_id, id, from_status, to_status, event FROM jobs_status_history
ORDER BY history_id;
SELECT count(*) AS statusflow_triggers FROM pg_trigger
WHERE tgrelid IN ('jobs'::regclass, 'jobs_status_history'::regclass);
SELECT 'review_request_status'::regtype, 'job_status'::regtype;
UPDATE jobs SET status = 'done' WHERE id = 2;
UPDATE jobs SET status = 'new' WHERE id = 2;

-- back: the same definitions take the existing types and history table
CREATE EXTENSION statusflow;
SELECT statusflow.create_workflow('job', NULL, ARRAY['new'], ARRAY['done']);
SELECT status, rank, is_initial, is_terminal FROM statusflow.statuses
WHERE workflow = 'job' ORDER BY rank;
SELECT statusflow.add_transition('job', ARRAY['new'], 'running', event => 'start');
SELECT statusflow.add_transition('job', ARRAY['running'], 'done', event => 'finish');
SELECT statusflow.install_preset('review_request');
SELECT statusflow.attach('jobs', 'status', 'job');
-- the history is kept, not backfilled again, and goes on
SELECT statusflow.fire('jobs', 1, 'finish');
SELECT history_id, id, from_status, to_status, event FROM jobs_status_history
ORDER BY history_id;
-- enforced and append-only again
UPDATE jobs SET status = 'new' WHERE id = 1;
DELETE FROM jobs_status_history;
SELECT statusflow.check_workflow('job');

-- what cannot be taken
CREATE TYPE not_enum AS (a int);
SELECT statusflow.create_workflow('composite', NULL, ARRAY['a'], type_name => 'not_enum');
SELECT statusflow.create_workflow('job_again', NULL, ARRAY['new'], type_name => 'job_status');
CREATE TYPE colors AS ENUM ('red', 'green');
CREATE TABLE text_jobs (id text PRIMARY KEY, status job_status NOT NULL DEFAULT 'new');
SELECT statusflow.create_workflow('colors', ARRAY['green', 'red'], ARRAY['red'],
								  type_name => 'colors');
SELECT statusflow.create_workflow('colors', NULL, ARRAY['red'], type_name => 'no_such_type');
CREATE ROLE regress_sf_roundtrip;
GRANT CREATE ON SCHEMA public TO regress_sf_roundtrip;
SET ROLE regress_sf_roundtrip;
SELECT statusflow.create_workflow('colors', NULL, ARRAY['red'], type_name => 'colors');
CREATE TABLE mallory_jobs (id int PRIMARY KEY, status job_status);
SELECT statusflow.attach('mallory_jobs', 'status', 'job', history_table => 'jobs_status_history');
SELECT statusflow.attach('mallory_jobs', 'status', 'job', history_table => 'not_enum');
SELECT statusflow.attach('mallory_jobs', 'status', 'job', history_table => 'text_jobs');
RESET ROLE;
SELECT statusflow.create_workflow('colors', NULL, ARRAY['red'], type_name => 'colors');
CREATE TABLE other_jobs (id int PRIMARY KEY, status job_status NOT NULL DEFAULT 'new');
SELECT statusflow.attach('other_jobs', 'status', 'job', history_table => 'jobs_status_history');
CREATE TABLE text_jobs_status_history (LIKE jobs_status_history INCLUDING ALL);
SELECT statusflow.attach('text_jobs', 'status', 'job');

\c :regress_db
DROP DATABASE statusflow_roundtrip;
DROP ROLE regress_sf_roundtrip;

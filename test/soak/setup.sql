-- Data for test/soak/crash_soak.sh: 200 entities in a cycle of statuses,
-- every fire('next') is allowed, so every committed transaction is one
-- history row.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION statusflow;
SELECT statusflow.create_workflow('soak', ARRAY['a', 'b', 'c', 'd'], ARRAY['a']);
SELECT statusflow.add_transition('soak', ARRAY[f], t, event => 'next')
FROM (VALUES ('a', 'b'), ('b', 'c'), ('c', 'd'), ('d', 'a')) AS p(f, t);
CREATE TABLE soak_items (id int PRIMARY KEY, status soak_status NOT NULL DEFAULT 'a');
SELECT statusflow.attach('soak_items', 'status', 'soak');
INSERT INTO soak_items SELECT g FROM generate_series(1, 200) g;

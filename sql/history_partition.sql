-- A history table made a partition of another table: the history writer
-- checks the partition's bounds as an INSERT would.  PostgreSQL 17 and
-- later refuse such a partition (its history_id is an identity column), so
-- expected/history_partition_1.out holds their output.
\set SHOW_CONTEXT never
\set VERBOSITY terse

SELECT statusflow.create_workflow('hp_flow', ARRAY['a', 'b'], ARRAY['a']);
CREATE TABLE hp_items (id bigint PRIMARY KEY, status hp_flow_status NOT NULL DEFAULT 'a');
SELECT statusflow.attach('hp_items', 'status', 'hp_flow');
INSERT INTO hp_items SELECT g FROM generate_series(1, 3) g;
CREATE TABLE hp_history_by_id (LIKE hp_items_status_history)
	PARTITION BY RANGE (history_id);
ALTER TABLE hp_history_by_id
	ATTACH PARTITION hp_items_status_history FOR VALUES FROM (1) TO (5);
-- history_id 4 is inside the bounds, 5 outside
INSERT INTO hp_items VALUES (4);
INSERT INTO hp_items VALUES (5);
ALTER TABLE hp_history_by_id DETACH PARTITION hp_items_status_history;
INSERT INTO hp_items VALUES (5);
SELECT id, to_status FROM hp_items_status_history ORDER BY history_id;

SELECT statusflow.detach('hp_items');
DROP TABLE hp_items, hp_items_status_history, hp_history_by_id;
SELECT statusflow.drop_workflow('hp_flow');

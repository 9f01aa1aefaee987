-- History rows written in batches (writer.c): a statement's rows wait and
-- go in with multi-inserts, and are in the table before anything can read
-- them, under the command that wrote them, with the subtransaction that
-- made the change.
\set SHOW_CONTEXT never

SELECT statusflow.create_workflow('batch_flow', ARRAY['a', 'b', 'c'], ARRAY['a']);
SELECT statusflow.add_transition('batch_flow', ARRAY['a'], 'b');
SELECT statusflow.add_transition('batch_flow', ARRAY['b'], 'c');
SELECT statusflow.add_transition('batch_flow', ARRAY['c'], 'a');
CREATE TABLE batch_items (id int PRIMARY KEY, status batch_flow_status NOT NULL DEFAULT 'a',
						  note text);
SELECT statusflow.attach('batch_items', 'status', 'batch_flow');

-- more rows than one batch holds (1000), each recorded once, in order
INSERT INTO batch_items (id) SELECT g FROM generate_series(1, 2500) g;
UPDATE batch_items SET status = 'b';
SELECT count(*) AS rows, count(DISTINCT history_id) AS ids,
	   count(*) FILTER (WHERE from_status = 'a' AND to_status = 'b') AS a_to_b
FROM batch_items_status_history;
-- wide rows fill a batch by size before its row count
SELECT repeat('x', 900) AS big_reason \gset
BEGIN;
SET LOCAL statusflow.reason = :'big_reason';
UPDATE batch_items SET status = 'c' WHERE id <= 300;
COMMIT;
SELECT count(*) FILTER (WHERE to_status = 'c') AS to_c,
	   count(*) FILTER (WHERE to_status = 'c' AND length(reason) = 900) AS with_reason
FROM batch_items_status_history;

-- COPY fires the triggers itself; its rows are there for the next query
BEGIN;
COPY batch_items (id) FROM stdin;
5001
5002
5003
\.
SELECT count(*) FROM batch_items_status_history WHERE id > 5000;
COMMIT;

-- a trigger of the bound table reads the history in the same statement: it
-- sees the change whose trigger fired before it, and every earlier one
CREATE TABLE batch_seen (id int, rows_for_id bigint, rows_in_all bigint);
CREATE FUNCTION batch_reader() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO batch_seen
	SELECT NEW.id, count(*) FILTER (WHERE h.id = NEW.id), count(*)
	FROM batch_items_status_history h WHERE h.to_status = 'c' AND h.from_status = 'b';
	RETURN NULL;
END $$;
-- named to fire after statusflow's triggers
CREATE TRIGGER zz_reader AFTER UPDATE ON batch_items FOR EACH ROW
	EXECUTE FUNCTION batch_reader();
UPDATE batch_items SET status = 'c' WHERE id BETWEEN 301 AND 310;
SELECT bool_and(rows_for_id = 1) AS own_row_seen,
	   array_agg(rows_in_all ORDER BY rows_in_all) AS growing
FROM batch_seen;
DROP TRIGGER zz_reader ON batch_items;

-- a query run inside a trigger's exception block inserts the waiting rows
-- in that subtransaction; when the block is rolled back they are inserted
-- again, so no change loses its history
CREATE FUNCTION batch_peek_and_fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		PERFORM count(*) FROM batch_items_status_history;
		RAISE EXCEPTION 'undo the block';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
	RETURN NULL;
END $$;
CREATE TRIGGER zz_peek AFTER UPDATE ON batch_items FOR EACH ROW
	EXECUTE FUNCTION batch_peek_and_fail();
UPDATE batch_items SET status = 'c' WHERE id BETWEEN 311 AND 330;
SELECT count(*) AS recorded, count(DISTINCT history_id) AS distinct_ids
FROM batch_items_status_history WHERE id BETWEEN 311 AND 330 AND to_status = 'c';
DROP TRIGGER zz_peek ON batch_items;
-- the same block committing keeps them once
CREATE FUNCTION batch_peek() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		PERFORM count(*) FROM batch_items_status_history;
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
	RETURN NULL;
END $$;
CREATE TRIGGER zz_peek AFTER UPDATE ON batch_items FOR EACH ROW
	EXECUTE FUNCTION batch_peek();
UPDATE batch_items SET status = 'c' WHERE id BETWEEN 331 AND 350;
SELECT count(*) AS recorded, count(DISTINCT history_id) AS distinct_ids
FROM batch_items_status_history WHERE id BETWEEN 331 AND 350 AND to_status = 'c';
DROP TRIGGER zz_peek ON batch_items;

-- a change rolled back with its subtransaction leaves no history, even
-- when its rows were still waiting: here the 11th row is refused
CREATE FUNCTION batch_try() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		UPDATE batch_items SET status = CASE WHEN id = 361 THEN 'a'::batch_flow_status
											 ELSE 'c'::batch_flow_status END
		WHERE id BETWEEN 351 AND 361;
	EXCEPTION WHEN check_violation THEN
		RETURN 'refused';
	END;
	RETURN 'applied';
END $$;
SELECT batch_try();
SELECT count(*) FROM batch_items_status_history WHERE id BETWEEN 351 AND 361 AND to_status = 'c';
SELECT DISTINCT status FROM batch_items WHERE id BETWEEN 351 AND 361;
-- the same through a savepoint
BEGIN;
UPDATE batch_items SET status = 'c' WHERE id = 362;
SAVEPOINT s;
UPDATE batch_items SET status = 'c' WHERE id BETWEEN 363 AND 370;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT id, to_status FROM batch_items_status_history
WHERE id BETWEEN 362 AND 370 AND to_status = 'c' ORDER BY id;

-- a function's later statement sees the rows of its earlier one
CREATE FUNCTION batch_move_and_count() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
	UPDATE batch_items SET status = 'c' WHERE id BETWEEN 371 AND 380;
	SELECT count(*) INTO n FROM batch_items_status_history
	WHERE id BETWEEN 371 AND 380 AND to_status = 'c';
	RETURN n;
END $$;
SELECT batch_move_and_count();

-- an index expression of the history table that runs a query runs while
-- rows are inserted: the query neither flushes again nor closes the writer
CREATE FUNCTION batch_history_size(t text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN (SELECT count(*) FROM public.batch_seen) * 0 + length(t);
END $$;
CREATE INDEX batch_reason_size ON batch_items_status_history (batch_history_size(reason));
UPDATE batch_items SET status = 'c' WHERE id BETWEEN 381 AND 400;
SELECT count(*) FROM batch_items_status_history WHERE id BETWEEN 381 AND 400 AND to_status = 'c';
DROP INDEX batch_reason_size;

-- a CHECK constraint of the history table is checked as each row is
-- written, before it waits for its batch
ALTER TABLE batch_items_status_history ADD CONSTRAINT short_reason
	CHECK (length(reason) < 1000);
SELECT repeat('y', 1500) AS long_reason \gset
\set VERBOSITY terse
BEGIN;
SET LOCAL statusflow.reason = :'long_reason';
UPDATE batch_items SET status = 'c' WHERE id = 401;
ROLLBACK;
\set VERBOSITY default
UPDATE batch_items SET status = 'c' WHERE id BETWEEN 402 AND 1500;
SELECT count(*) FROM batch_items_status_history WHERE id BETWEEN 401 AND 1500 AND to_status = 'c';
ALTER TABLE batch_items_status_history DROP CONSTRAINT short_reason;

-- a partitioned history table: rows wait per partition, except those of a
-- partition whose columns are laid out differently (a dropped column),
-- converted and stored at once
CREATE TABLE batch_parts (id int PRIMARY KEY, status batch_flow_status NOT NULL DEFAULT 'a');
CREATE TABLE batch_parts_history
	(LIKE batch_items_status_history INCLUDING DEFAULTS INCLUDING IDENTITY)
	PARTITION BY RANGE (id);
CREATE TABLE batch_parts_low PARTITION OF batch_parts_history FOR VALUES FROM (1) TO (1001);
CREATE TABLE batch_parts_high (dropped int, LIKE batch_parts_history INCLUDING DEFAULTS);
ALTER TABLE batch_parts_high DROP COLUMN dropped;
ALTER TABLE batch_parts_history ATTACH PARTITION batch_parts_high FOR VALUES FROM (1001) TO (3001);
SELECT statusflow.attach('batch_parts', 'status', 'batch_flow',
						 history_table => 'batch_parts_history');
INSERT INTO batch_parts SELECT g FROM generate_series(1, 3000) g;
UPDATE batch_parts SET status = 'b';
SELECT tableoid::regclass AS partition, count(*), count(DISTINCT history_id) AS ids,
	   count(*) FILTER (WHERE to_status = 'b') AS to_b
FROM batch_parts_history GROUP BY 1 ORDER BY 1;
SELECT statusflow.detach('batch_parts');
DROP TABLE batch_parts, batch_parts_history;

-- every change of the table has its history row, once
SELECT count(*) AS changes_without_history
FROM batch_items i
WHERE (SELECT h.to_status FROM batch_items_status_history h
	   WHERE h.id = i.id ORDER BY h.history_id DESC LIMIT 1) IS DISTINCT FROM i.status;
SELECT count(*) - count(DISTINCT history_id) AS duplicates FROM batch_items_status_history;

SELECT statusflow.detach('batch_items');
DROP TABLE batch_items, batch_items_status_history, batch_seen;
DROP FUNCTION batch_reader(), batch_peek_and_fail(), batch_peek(), batch_try(),
	batch_move_and_count(), batch_history_size(text);
SELECT statusflow.drop_workflow('batch_flow');

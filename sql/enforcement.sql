-- Every write path is checked: INSERT, single and multi-row UPDATE, COPY,
-- INSERT ... ON CONFLICT, MERGE, other triggers; a refused change writes
-- nothing and says which table, key, from and to.
\set SHOW_CONTEXT never

CREATE TABLE tickets (
	id int PRIMARY KEY,
	title text,
	status invitation_status NOT NULL DEFAULT 'invited'
);
SELECT statusflow.attach('tickets', 'status', 'invitation') AS history;

-- The error's fields, as an application catching it sees them.
CREATE FUNCTION show_error(statement text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	state text; msg text; detail text; hint text;
	sch text; tab text; col text;
BEGIN
	EXECUTE statement;
	RAISE NOTICE 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT,
		sch = SCHEMA_NAME, tab = TABLE_NAME, col = COLUMN_NAME;
	RAISE NOTICE 'sqlstate %: %', state, msg;
	RAISE NOTICE 'detail: %', detail;
	RAISE NOTICE 'hint: %', hint;
	RAISE NOTICE 'schema %, table %, column %', sch, tab, col;
END
$$;

-- INSERT: only initial statuses
INSERT INTO tickets (id, title) VALUES (1, 'default status');
INSERT INTO tickets VALUES (2, 'explicit', 'invited');
INSERT INTO tickets VALUES (3, 'skips ahead', 'sent');
SELECT show_error($$INSERT INTO tickets VALUES (3, 'skips ahead', 'accepted')$$);
-- a multi-row INSERT with one bad row inserts nothing
INSERT INTO tickets VALUES (10, 'a', 'invited'), (11, 'b', 'opened'), (12, 'c', 'invited');
SELECT id FROM tickets ORDER BY id;

-- UPDATE: declared transitions only
UPDATE tickets SET status = 'sent' WHERE id = 1;
UPDATE tickets SET status = 'accepted' WHERE id = 2;
SELECT show_error($$UPDATE tickets SET status = 'accepted' WHERE id = 2$$);
-- from a terminal status
UPDATE tickets SET status = 'accepted' WHERE id = 1;
SELECT show_error($$UPDATE tickets SET status = 'sent' WHERE id = 1$$);
-- a multi-row UPDATE with one bad row changes nothing
INSERT INTO tickets (id) SELECT g FROM generate_series(20, 24) g;
UPDATE tickets SET status = 'sent' WHERE id = 22;
UPDATE tickets SET status = 'sent' WHERE id BETWEEN 20 AND 24;
SELECT id, status FROM tickets WHERE id BETWEEN 20 AND 24 ORDER BY id;
UPDATE tickets SET status = 'declined' WHERE id = 23;
UPDATE tickets SET status = 'opened' WHERE id BETWEEN 20 AND 24;
SELECT id, status FROM tickets WHERE id BETWEEN 20 AND 24 ORDER BY id;
UPDATE tickets SET status = CASE WHEN id = 23 THEN 'invited'::invitation_status ELSE 'opened' END
WHERE id BETWEEN 20 AND 24;
SELECT id, status FROM tickets WHERE id BETWEEN 20 AND 24 ORDER BY id;

-- an UPDATE that leaves the status alone is no transition: no history row
SELECT count(*) AS history_before FROM tickets_status_history \gset
UPDATE tickets SET title = 'renamed' WHERE id = 20;
UPDATE tickets SET status = 'sent' WHERE id = 20;
UPDATE tickets SET status = status;
SELECT count(*) - :history_before AS new_history_rows FROM tickets_status_history;

-- NULL is refused by a workflow that does not allow it
ALTER TABLE tickets ALTER COLUMN status DROP NOT NULL;
SELECT show_error($$UPDATE tickets SET status = NULL WHERE id = 20$$);
SELECT show_error($$INSERT INTO tickets VALUES (30, 'no status', NULL)$$);

-- COPY is checked row by row; one bad row loads nothing
COPY tickets (id, title, status) FROM stdin;
40	copied	invited
41	copied	invited
\.
COPY tickets (id, title, status) FROM stdin;
42	copied	invited
43	copied	declined
\.
SELECT id, status FROM tickets WHERE id >= 40 ORDER BY id;

-- INSERT ... ON CONFLICT: a new row starts initial, an existing one moves
INSERT INTO tickets VALUES (40, 'upsert', 'sent')
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status;
INSERT INTO tickets VALUES (44, 'upsert', 'invited')
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status;
INSERT INTO tickets VALUES (41, 'upsert', 'accepted')
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status;
INSERT INTO tickets VALUES (45, 'upsert', 'sent')
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status;
SELECT id, status FROM tickets WHERE id >= 40 ORDER BY id;

-- MERGE
MERGE INTO tickets t
USING (VALUES (41, 'sent'::invitation_status), (46, 'invited')) AS s(id, status)
ON t.id = s.id
WHEN MATCHED THEN UPDATE SET status = s.status
WHEN NOT MATCHED THEN INSERT (id, status) VALUES (s.id, s.status);
MERGE INTO tickets t
USING (VALUES (46, 'accepted'::invitation_status)) AS s(id, status)
ON t.id = s.id
WHEN MATCHED THEN UPDATE SET status = s.status;
SELECT id, status FROM tickets WHERE id >= 40 ORDER BY id;

-- another BEFORE trigger that changes the status is checked too
CREATE FUNCTION sneak() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.title = 'sneak' THEN
		NEW.status := 'accepted';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER zz_sneak BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION sneak();
UPDATE tickets SET title = 'sneak' WHERE id = 44;
SELECT id, title, status FROM tickets WHERE id = 44;
UPDATE tickets SET title = 'sneak' WHERE id = 40;
SELECT id, title, status FROM tickets WHERE id = 40;
DROP TRIGGER zz_sneak ON tickets;

-- a row dropped by another BEFORE trigger leaves no history
CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RETURN NULL;
END $$;
CREATE TRIGGER aa_drop BEFORE INSERT OR UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION drop_row();
INSERT INTO tickets VALUES (50, 'dropped', 'invited');
UPDATE tickets SET status = 'sent' WHERE id = 44;
DROP TRIGGER aa_drop ON tickets;
SELECT count(*) AS history_of_dropped FROM tickets_status_history WHERE id IN (44, 50) AND history_id > 0
  AND (id = 50 OR to_status = 'sent');

-- an enum label added behind statusflow's back is refused
SELECT statusflow.create_workflow('rogue', ARRAY['a', 'b'], ARRAY['a']);
SELECT statusflow.add_transition('rogue', ARRAY['a'], 'b');
CREATE TABLE rogues (id int PRIMARY KEY, status rogue_status NOT NULL);
SELECT statusflow.attach('rogues', 'status', 'rogue');
ALTER TYPE rogue_status ADD VALUE 'c';
INSERT INTO rogues VALUES (1, 'a');
SELECT show_error($$INSERT INTO rogues VALUES (2, 'c')$$);
SELECT show_error($$UPDATE rogues SET status = 'c'$$);

-- the history of this file's changes is a chain per ticket
SELECT id, string_agg(coalesce(from_status::text, '-') || '>' || to_status, ' ' ORDER BY history_id)
FROM tickets_status_history GROUP BY id ORDER BY id;

-- a workflow that allows a null status: no status yet, or none any more
SELECT statusflow.create_workflow('optional', ARRAY['draft', 'live'], ARRAY['draft'],
								  allow_null => true);
SELECT statusflow.add_transition('optional', ARRAY['draft'], 'live');
CREATE TABLE pages (id int PRIMARY KEY, status optional_status);
SELECT statusflow.attach('pages', 'status', 'optional');
INSERT INTO pages VALUES (1, NULL), (2, 'draft');
UPDATE pages SET status = 'live' WHERE id = 1;
UPDATE pages SET status = 'draft' WHERE id = 1;
UPDATE pages SET status = 'live' WHERE id = 2;
UPDATE pages SET status = NULL WHERE id = 2;
SELECT id, from_status, to_status FROM pages_status_history ORDER BY history_id;

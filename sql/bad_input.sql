-- A corpus of awkward and bad input: every case gets a clear error or works,
-- and nothing is left half-written.
\set SHOW_CONTEXT never

-- names needing quotes, end to end
SELECT statusflow.create_workflow('Odd "flow"', ARRAY['New Lead', 'it''s "hot"', 'Done;DROP'],
								  ARRAY['New Lead'], ARRAY['Done;DROP'],
								  type_name => '"Odd Schema"."Odd ""Type"""');
CREATE SCHEMA "Odd Schema";
SELECT statusflow.create_workflow('Odd "flow"', ARRAY['New Lead', 'it''s "hot"', 'Done;DROP'],
								  ARRAY['New Lead'], ARRAY['Done;DROP'],
								  type_name => '"Odd Schema"."Odd ""Type"""');
SELECT statusflow.add_transition('Odd "flow"', ARRAY['New Lead'], 'it''s "hot"', event => 'heat "up"');
SELECT statusflow.add_transition('Odd "flow"', ARRAY['it''s "hot"'], 'Done;DROP');
CREATE TABLE "Odd Schema"."Lead ""List""" (
	"Lead Id" int PRIMARY KEY,
	"Stage;x" "Odd Schema"."Odd ""Type""" NOT NULL DEFAULT 'New Lead'
);
SELECT statusflow.attach('"Odd Schema"."Lead ""List"""', 'Stage;x', 'Odd "flow"');
INSERT INTO "Odd Schema"."Lead ""List""" VALUES (1), (2);
SELECT statusflow.fire('"Odd Schema"."Lead ""List"""', 1, 'heat "up"');
SELECT statusflow.transition('"Odd Schema"."Lead ""List"""', 1, 'Done;DROP');
UPDATE "Odd Schema"."Lead ""List""" SET "Stage;x" = 'Done;DROP' WHERE "Lead Id" = 2;
SELECT "Lead Id", from_status, to_status, event
FROM "Odd Schema"."Lead ""List""_Stage;x_history" ORDER BY history_id;
SELECT statusflow.detach('"Odd Schema"."Lead ""List"""');

-- null arguments
SELECT statusflow.create_workflow(NULL, ARRAY['a'], ARRAY['a']);
SELECT statusflow.create_workflow('n', NULL, ARRAY['a']);
SELECT statusflow.create_workflow('n', ARRAY['a'], NULL);
SELECT statusflow.add_transition(NULL, ARRAY['a'], 'b');
SELECT statusflow.add_transition('invitation', NULL, 'sent');
SELECT statusflow.add_transition('invitation', ARRAY['invited'], NULL);
SELECT statusflow.add_status('invitation', NULL);
SELECT statusflow.set_status_info('invitation', NULL);
SELECT statusflow.attach(NULL, 'status', 'invitation');
SELECT statusflow.attach('tickets', NULL, 'invitation');
SELECT statusflow.attach('tickets', 'status', NULL);
SELECT statusflow.detach(NULL);
SELECT statusflow.can_transition(NULL, 'a', 'b');
SELECT statusflow.fire('tickets', 1, NULL);
SELECT statusflow.fire_many('tickets', NULL::int[], 'send');
SELECT statusflow.transition_many(NULL, ARRAY[1], 'sent');

-- very long values
INSERT INTO tickets VALUES (70, 'long values');
SELECT statusflow.create_workflow(repeat('é', 32), ARRAY['a'], ARRAY['a']);
SELECT statusflow.add_status('invitation', repeat('s', 64));
SELECT statusflow.fire('tickets', 70, 'send', reason => repeat('why ', 1000));
SELECT statusflow.fire('tickets', 70, 'send',
					   metadata => (SELECT jsonb_object_agg(g, repeat('x', 1000))
									FROM generate_series(1, 100) g));
SELECT statusflow.fire('tickets', 70, 'send', metadata => 'null');
SELECT statusflow.fire('tickets', 70, 'send', metadata => '[]');
SELECT status FROM tickets WHERE id = 70;
-- a long but allowed reason and a nested metadata object are kept whole
SELECT statusflow.fire('tickets', 70, 'send', reason => repeat('r', 2000),
					   metadata => '{"a": {"b": [1, 2, {"c": null}]}}');
SELECT length(reason), metadata FROM tickets_status_history
WHERE id = 70 ORDER BY history_id DESC LIMIT 1;

-- wrong types
SELECT statusflow.transition('tickets', '2026-01-01 00:00+00'::timestamptz, 'sent');
SELECT statusflow.transition('tickets', '{1}'::int[], 'sent');
SELECT statusflow.transition_many('tickets', ARRAY[true], 'sent');
SELECT statusflow.transition('tickets', 'x1', 'sent');
SELECT statusflow.transition('tickets', 1, 'sent', occurred_at => 'yesterday noonish');
CREATE TABLE fresh (id int PRIMARY KEY, status invitation_status);
SELECT statusflow.attach('fresh', 'status', 'invitation', history_table => '');
SELECT statusflow.attach('fresh', 'status', 'invitation', history_table => 'a.b.c.d');
SELECT statusflow.attach('fresh', 'status', 'invitation', history_table => '"unterminated');

-- nothing above left a workflow, a binding or a table behind
SELECT count(*) AS workflows FROM statusflow.workflow WHERE name NOT IN
	('invitation', 'Beta "list"', 'rogue', 'review', 'cache', 'Odd "flow"', 'optional');
SELECT table_name FROM statusflow.bindings ORDER BY table_name::text;

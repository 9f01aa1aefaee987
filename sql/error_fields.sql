-- Every refusal an application can meet carries the fields it routes on:
-- a SQLSTATE, a DETAIL saying why, a HINT saying what is allowed, and the
-- schema, table, column and constraint names (<table>_<column>_workflow).
\set SHOW_CONTEXT never
\set VERBOSITY terse

SELECT statusflow.create_workflow('routed', ARRAY['new', 'sent', 'opened', 'locked', 'paused', 'done'],
								  ARRAY['new'], ARRAY['done']);
SELECT statusflow.add_transition('routed', ARRAY['new'], 'sent', event => 'send');
SELECT statusflow.add_transition('routed', ARRAY['sent'], 'opened', event => 'open');
SELECT statusflow.add_transition('routed', ARRAY['sent'], 'new', event => 'recall',
								 roles => ARRAY['regress_sf_business']);
SELECT statusflow.add_transition('routed', ARRAY['opened'], 'locked', event => 'lock',
								 condition => 'amount > 0');
SELECT statusflow.add_transition('routed', ARRAY['opened'], 'done', event => 'finish',
								 require_reason => true);
SELECT statusflow.add_transition('routed', ARRAY['opened'], 'opened', event => 'remind',
								 max_uses => 1);
SELECT statusflow.add_transition('routed', ARRAY['opened', 'locked'], 'paused', event => 'pause');
SELECT statusflow.add_transition('routed', ARRAY['paused'], NULL, event => 'resume',
								 restore_previous => true);
SELECT statusflow.set_status_info('routed', 'opened', condition => 'channel = ''email''');
SELECT statusflow.set_quota('routed', ARRAY['sent'], 'account', 1, 'month');

CREATE TABLE routed_rows (id int PRIMARY KEY, account int NOT NULL DEFAULT 1,
						  channel text NOT NULL DEFAULT 'email', amount int NOT NULL DEFAULT 0,
						  status routed_status DEFAULT 'new');
SELECT statusflow.attach('routed_rows', 'status', 'routed');
GRANT SELECT, UPDATE ON routed_rows TO regress_sf_customer;
INSERT INTO routed_rows (id, account) SELECT g, g FROM generate_series(1, 9) g;
UPDATE routed_rows SET account = 1 WHERE id = 4;
-- 1, 2: opened; 4: new, its account's quota used by 1; 5: sent, by SMS;
-- 6: done; 3: paused without a history that says where it was
UPDATE routed_rows SET status = 'sent' WHERE id IN (1, 2, 6);
UPDATE routed_rows SET status = 'opened' WHERE id IN (1, 2, 6);
UPDATE routed_rows SET channel = 'sms', status = 'sent' WHERE id = 5;
SELECT statusflow.fire('routed_rows', 6, 'finish', reason => 'done early');
SELECT statusflow.fire('routed_rows', 2, 'remind');
ALTER TABLE routed_rows DISABLE TRIGGER USER;
UPDATE routed_rows SET status = 'paused' WHERE id = 3;
ALTER TABLE routed_rows ENABLE TRIGGER USER;

-- what an application sees of an error
CREATE FUNCTION pg_temp.fields(path text, statement text)
RETURNS TABLE (refusal text, sqlstate text, has_detail boolean, has_hint boolean,
			   schema_name text, table_name text, column_name text, constraint_name text)
LANGUAGE plpgsql AS $$
DECLARE
	st text; det text; hin text; sch text; tab text; col text; con text;
BEGIN
	BEGIN
		EXECUTE statement;
		RETURN QUERY SELECT path, 'no error'::text, NULL::boolean, NULL::boolean,
							NULL::text, NULL::text, NULL::text, NULL::text;
		RETURN;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL,
			hin = PG_EXCEPTION_HINT, sch = SCHEMA_NAME, tab = TABLE_NAME,
			col = COLUMN_NAME, con = CONSTRAINT_NAME;
	END;
	RETURN QUERY SELECT path, st, det <> '', hin <> '', sch, tab, col, con;
END $$;

SELECT * FROM pg_temp.fields('undeclared transition', $$UPDATE routed_rows SET status = 'done' WHERE id = 4$$)
UNION ALL SELECT * FROM pg_temp.fields('new row not initial', $$INSERT INTO routed_rows (id, status) VALUES (50, 'opened')$$)
UNION ALL SELECT * FROM pg_temp.fields('null status, update', $$UPDATE routed_rows SET status = NULL WHERE id = 4$$)
UNION ALL SELECT * FROM pg_temp.fields('null status, insert', $$INSERT INTO routed_rows (id, status) VALUES (51, NULL)$$)
UNION ALL SELECT * FROM pg_temp.fields('transition condition', $$UPDATE routed_rows SET status = 'locked' WHERE id = 1$$)
UNION ALL SELECT * FROM pg_temp.fields('status condition, entering', $$UPDATE routed_rows SET status = 'opened' WHERE id = 5$$)
UNION ALL SELECT * FROM pg_temp.fields('status condition, staying', $$UPDATE routed_rows SET channel = 'sms' WHERE id = 1$$)
UNION ALL SELECT * FROM pg_temp.fields('reason required', $$UPDATE routed_rows SET status = 'done' WHERE id = 1$$)
UNION ALL SELECT * FROM pg_temp.fields('uses exhausted (repeated event)', $$SELECT statusflow.fire('routed_rows', 2, 'remind')$$)
UNION ALL SELECT * FROM pg_temp.fields('previous status unknown', $$SELECT statusflow.fire('routed_rows', 3, 'resume')$$)
UNION ALL SELECT * FROM pg_temp.fields('quota used up', $$UPDATE routed_rows SET status = 'sent' WHERE id = 4$$)
UNION ALL SELECT * FROM pg_temp.fields('terminal status', $$UPDATE routed_rows SET status = 'new' WHERE id = 6$$)
UNION ALL SELECT * FROM pg_temp.fields('event does not apply', $$SELECT statusflow.fire('routed_rows', 4, 'lock')$$)
UNION ALL SELECT * FROM pg_temp.fields('no row, transition()', $$SELECT statusflow.transition('routed_rows', 404, 'sent')$$)
UNION ALL SELECT * FROM pg_temp.fields('no row, fire()', $$SELECT statusflow.fire('routed_rows', 404, 'send')$$)
UNION ALL SELECT * FROM pg_temp.fields('no row, ingest()', $$SELECT statusflow.ingest('routed_rows', 404, 'send')$$)
UNION ALL SELECT * FROM pg_temp.fields('changed since read (expect)', $$SELECT statusflow.fire('routed_rows', 4, 'send', expect => 'opened')$$);

-- a role guard, as a role of the application
SET ROLE regress_sf_customer;
SELECT * FROM pg_temp.fields('role guard', $$UPDATE routed_rows SET status = 'new' WHERE id = 5$$);
RESET ROLE;

-- a label added to the type behind statusflow's back
ALTER TYPE routed_status ADD VALUE 'rogue';
SELECT * FROM pg_temp.fields('unregistered label', $$UPDATE routed_rows SET status = 'rogue' WHERE id = 4$$);

SELECT statusflow.detach('routed_rows');
DROP TABLE routed_rows, routed_rows_status_history;
SELECT statusflow.drop_workflow('routed');

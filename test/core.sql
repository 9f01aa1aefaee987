-- pgTAP: the core engine's API surface, error codes, and that the trigger
-- and can_transition() agree on every pair of statuses.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;
BEGIN;
SELECT plan(74);

-- the API
SELECT has_schema('statusflow');
SELECT has_function('statusflow', 'create_workflow', ARRAY['text', 'text[]', 'text[]', 'text[]', 'text', 'boolean', 'text', 'boolean', 'name']);
SELECT has_function('statusflow', 'add_transition', ARRAY['text', 'text[]', 'text', 'text', 'text', 'text', 'text[]', 'text', 'boolean', 'integer', 'boolean']);
SELECT has_function('statusflow', 'remove_transition', ARRAY['text', 'text[]', 'text', 'text']);
SELECT has_function('statusflow', 'add_status', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'boolean', 'boolean']);
SELECT has_function('statusflow', 'set_status_info', ARRAY['text', 'text', 'text', 'text', 'boolean', 'boolean', 'text', 'boolean', 'jsonb']);
SELECT has_function('statusflow', 'drop_workflow', ARRAY['text', 'boolean']);
SELECT has_function('statusflow', 'allowed_transitions', ARRAY['text', 'text']);
SELECT has_function('statusflow', 'can_transition', ARRAY['text', 'text', 'text']);
SELECT has_function('statusflow', 'check_workflow', ARRAY['text']);
SELECT has_function('statusflow', 'attach', ARRAY['regclass', 'name', 'text', 'text', 'boolean', 'name']);
SELECT has_function('statusflow', 'detach', ARRAY['regclass', 'name']);
SELECT has_function('statusflow', 'transition', ARRAY['regclass', 'anyelement', 'text', 'text', 'jsonb', 'text', 'timestamp with time zone', 'name', 'text']);
SELECT has_function('statusflow', 'transition', ARRAY['regclass', 'text', 'text', 'text', 'jsonb', 'text', 'timestamp with time zone', 'name', 'text']);
SELECT has_function('statusflow', 'fire', ARRAY['regclass', 'anyelement', 'text', 'text', 'jsonb', 'text', 'timestamp with time zone', 'name', 'text']);
SELECT has_function('statusflow', 'transition_many', ARRAY['regclass', 'anyarray', 'text', 'text', 'jsonb', 'text', 'timestamp with time zone', 'name']);
SELECT has_function('statusflow', 'fire_many', ARRAY['regclass', 'anyarray', 'text', 'text', 'jsonb', 'text', 'timestamp with time zone', 'name']);
SELECT has_function('statusflow', 'prune_history', ARRAY['regclass', 'timestamp with time zone', 'boolean', 'name']);
SELECT has_view('statusflow', 'workflows', 'view workflows');
SELECT has_view('statusflow', 'statuses', 'view statuses');
SELECT has_view('statusflow', 'transitions', 'view transitions');
SELECT has_view('statusflow', 'bindings', 'view bindings');

-- pg_dump keeps the catalog: every table and sequence is a config table
SELECT set_eq(
	$$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'statusflow'$$,
	ARRAY['statusflow.workflow', 'statusflow.status', 'statusflow.transition',
		  'statusflow.transition_id_seq', 'statusflow.binding', 'statusflow.binding_id_seq',
		  'statusflow.quota', 'statusflow.quota_id_seq', 'statusflow.quota_usage',
		  'statusflow.timer', 'statusflow.timer_id_seq', 'statusflow.action',
		  'statusflow.action_id_seq', 'statusflow.summary'],
	'every catalog table and sequence is dumped with its data');

-- security: trigger functions are not PUBLIC, definer functions pin search_path
SELECT ok(NOT has_function_privilege('public', 'statusflow_internal.enforce()', 'EXECUTE'),
		  'enforce() is not executable by PUBLIC');
SELECT ok(NOT has_function_privilege('public', 'statusflow_internal.history_append_only()', 'EXECUTE'),
		  'history_append_only() is not executable by PUBLIC');
SELECT is_empty(
	$$SELECT p.oid::regprocedure FROM pg_proc p
	  WHERE p.pronamespace = 'statusflow'::regnamespace AND p.prosecdef
		AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
	'every SECURITY DEFINER function pins search_path');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'statusflow.binding'::regclass),
		  'the binding catalog is protected by row-level security');

-- a workflow and a bound table
SELECT lives_ok($$SELECT statusflow.create_workflow('tap', ARRAY['new', 'sent', 'opened', 'won', 'lost'],
											 ARRAY['new'], ARRAY['won', 'lost'])$$,
				'create_workflow');
SELECT has_type('public', 'tap_status', 'the workflow is an enum type');
SELECT enum_has_labels('public', 'tap_status', ARRAY['new', 'sent', 'opened', 'won', 'lost'],
					   'labels in rank order');
SELECT lives_ok($$SELECT statusflow.add_transition('tap', ARRAY['new'], 'sent', event => 'send');
				  SELECT statusflow.add_transition('tap', ARRAY['sent'], 'opened', event => 'open');
				  SELECT statusflow.add_transition('tap', ARRAY['sent', 'opened'], 'won', event => 'win');
				  SELECT statusflow.add_transition('tap', ARRAY['new', 'sent', 'opened'], 'lost', event => 'lose')$$,
				'add_transition');
SELECT is_empty($$SELECT * FROM statusflow.check_workflow('tap')$$, 'the workflow is sound');
CREATE TABLE tap_rows (id int PRIMARY KEY, status tap_status NOT NULL DEFAULT 'new');
SELECT is(statusflow.attach('tap_rows', 'status', 'tap')::text, 'tap_rows_status_history',
		  'attach returns the history table');
SELECT has_trigger('tap_rows', 'statusflow_' || (SELECT id FROM statusflow.binding
												 WHERE table_name = 'tap_rows'::regclass) || '_update',
				   'attach installs the update trigger');
SELECT col_type_is('tap_rows_status_history', 'id', 'integer', 'history key typed like the primary key');
SELECT col_type_is('tap_rows_status_history', 'to_status', 'tap_status', 'history statuses typed by the workflow');

-- documented SQLSTATEs
INSERT INTO tap_rows VALUES (1);
SELECT throws_ok($$INSERT INTO tap_rows VALUES (2, 'won')$$, '23514', NULL,
				 'a non-initial INSERT is a check violation (23514)');
SELECT throws_ok($$UPDATE tap_rows SET status = 'opened' WHERE id = 1$$, '23514', NULL,
				 'an undeclared transition is a check violation (23514)');
SELECT throws_ok($$UPDATE tap_rows SET status = NULL WHERE id = 1$$, '23502', NULL,
				 'a null status is a not-null violation (23502)');
SELECT throws_ok($$SELECT statusflow.fire('tap_rows', 1, 'win')$$, '23514', NULL,
				 'an event that does not apply is a check violation (23514)');
SELECT throws_ok($$SELECT statusflow.transition('tap_rows', 99, 'sent')$$, 'P0002', NULL,
				 'a missing key is no_data_found (P0002)');
SELECT throws_ok($$SELECT statusflow.transition('tap_rows', 1, 'nosuch')$$, '22023', NULL,
				 'an unknown status is invalid_parameter_value (22023)');
SELECT throws_ok($$SELECT statusflow.can_transition('nosuch', 'a', 'b')$$, '42704', NULL,
				 'an unknown workflow is undefined_object (42704)');
SELECT throws_ok($$UPDATE tap_rows_status_history SET reason = 'x'$$, '42501', NULL,
				 'history is append-only (42501)');
SELECT throws_ok($$TRUNCATE tap_rows_status_history$$, '42501', NULL,
				 'history cannot be truncated (42501)');
SELECT throws_ok($$SELECT statusflow.attach('tap_rows', 'status', 'tap')$$, '42710', NULL,
				 'attaching twice is duplicate_object (42710)');
SELECT throws_ok($$SELECT statusflow.drop_workflow('tap')$$, '2BP01', NULL,
				 'dropping a bound workflow is dependent_objects_still_exist (2BP01)');
SELECT throws_ok($$SELECT statusflow.fire('tap_rows', 1, 'send', reason => repeat('x', 5000))$$,
				 '22001', NULL, 'a too long reason is string_data_right_truncation (22001)');

-- the trigger and can_transition() agree on every pair of statuses
CREATE FUNCTION tap_trigger_allows(from_status tap_status, to_status tap_status)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM tap_rows WHERE id = 100;
	-- put the row in from_status without going through the checks
	ALTER TABLE tap_rows DISABLE TRIGGER USER;
	INSERT INTO tap_rows VALUES (100, from_status);
	ALTER TABLE tap_rows ENABLE TRIGGER USER;
	BEGIN
		UPDATE tap_rows SET status = to_status WHERE id = 100;
		RETURN true;
	EXCEPTION WHEN check_violation THEN
		RETURN false;
	END;
END $$;
SELECT is(tap_trigger_allows(f, t), statusflow.can_transition('tap', f::text, t::text),
		  format('%s -> %s: trigger and can_transition() agree', f, t))
FROM unnest(enum_range(NULL::tap_status)) f, unnest(enum_range(NULL::tap_status)) t
ORDER BY f, t;
SELECT is((SELECT count(*)::int FROM unnest(enum_range(NULL::tap_status)) f,
								unnest(enum_range(NULL::tap_status)) t
		   WHERE tap_trigger_allows(f, t)),
		  12, 'seven transitions and five stays are allowed, nothing else');

SELECT * FROM finish();
ROLLBACK;

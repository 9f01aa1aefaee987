-- pgTAP: ingest_batch() gives what ingest() gives, receipt by receipt.
-- Random streams of receipts (fixed seeds) are ingested into two copies of
-- a table: one receipt at a time with ingest() into the first, in batches
-- of random sizes with ingest_batch() into the second.  The outcomes, the
-- rows and their histories (every column but history_id, each entity's
-- rows in order) must be the same.  The streams name statuses and events,
-- repeat event ids within a batch, across batches and across rows, leave
-- ids out, and arrive late.  The workflows: monotonic without guards
-- (sticky and terminal statuses, a repeated event, an event with several
-- targets, a composite key); monotonic with guards that refuse (a status
-- condition that sms rows fail, halfway along implied paths too, uses of a
-- repeated event, a reason), with an entered-at column; not monotonic
-- (moves back, a transition without event); and one whose condition is
-- not immutable, which a batch applies one receipt at a time.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;
BEGIN;
SELECT plan(92);

-- monotonic, no guards
SELECT statusflow.create_workflow('eq_plain',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'],
	ARRAY['queued'], ARRAY['unsubscribed'], monotonic => true);
SELECT statusflow.set_status_info('eq_plain', 'bounced', sticky => true);
SELECT statusflow.add_transition('eq_plain', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('eq_plain', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('eq_plain', ARRAY['delivered'], 'opened', event => 'open');
SELECT statusflow.add_transition('eq_plain', ARRAY['opened'], 'opened', event => 'open');
SELECT statusflow.add_transition('eq_plain', ARRAY['opened'], 'clicked', event => 'click');
SELECT statusflow.add_transition('eq_plain', ARRAY['sent', 'delivered'], 'bounced', event => 'bounce');
SELECT statusflow.add_transition('eq_plain', ARRAY['delivered'], 'clicked', event => 'skip');
SELECT statusflow.add_transition('eq_plain', ARRAY['sent'], 'opened', event => 'skip');
SELECT statusflow.add_transition('eq_plain',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced'], 'unsubscribed',
	event => 'unsubscribe');

-- monotonic, guards that refuse
SELECT statusflow.create_workflow('eq_guarded',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'],
	ARRAY['queued'], ARRAY['unsubscribed'], monotonic => true);
SELECT statusflow.set_status_info('eq_guarded', 'bounced', sticky => true);
SELECT statusflow.set_status_info('eq_guarded', 'opened', condition => 'channel = ''email''');
SELECT statusflow.add_transition('eq_guarded', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('eq_guarded', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('eq_guarded', ARRAY['delivered'], 'opened', event => 'open');
SELECT statusflow.add_transition('eq_guarded', ARRAY['opened'], 'opened', event => 'open',
								 max_uses => 2);
SELECT statusflow.add_transition('eq_guarded', ARRAY['opened'], 'clicked', event => 'click',
								 require_reason => true);
SELECT statusflow.add_transition('eq_guarded', ARRAY['sent', 'delivered'], 'bounced', event => 'bounce');
SELECT statusflow.add_transition('eq_guarded',
	ARRAY['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced'], 'unsubscribed',
	event => 'unsubscribe');

-- not monotonic, no guards
SELECT statusflow.create_workflow('eq_free', ARRAY['draft', 'sent', 'delivered', 'failed', 'done'],
								  ARRAY['draft'], ARRAY['done']);
SELECT statusflow.add_transition('eq_free', ARRAY['draft'], 'sent', event => 'send');
SELECT statusflow.add_transition('eq_free', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('eq_free', ARRAY['sent', 'delivered'], 'failed', event => 'fail');
SELECT statusflow.add_transition('eq_free', ARRAY['failed'], 'sent', event => 'retry');
SELECT statusflow.add_transition('eq_free', ARRAY['delivered'], 'delivered', event => 'ping');
SELECT statusflow.add_transition('eq_free', ARRAY['delivered'], 'done', event => 'finish');
SELECT statusflow.add_transition('eq_free', ARRAY['sent'], 'draft');

-- a condition that calls a stable function: one receipt at a time
SELECT statusflow.create_workflow('eq_stable',
	ARRAY['queued', 'sent', 'delivered', 'opened'], ARRAY['queued'], monotonic => true);
SELECT statusflow.set_status_info('eq_stable', 'delivered',
								  condition => 'created_at <= pg_catalog.now()');
SELECT statusflow.add_transition('eq_stable', ARRAY['queued'], 'sent', event => 'send');
SELECT statusflow.add_transition('eq_stable', ARRAY['sent'], 'delivered', event => 'deliver');
SELECT statusflow.add_transition('eq_stable', ARRAY['delivered'], 'opened', event => 'open',
								 max_uses => 1);
SELECT statusflow.add_transition('eq_stable', ARRAY['opened'], 'opened', event => 'open',
								 max_uses => 1);

-- the receipts of one run
CREATE TABLE eq_stream (i int PRIMARY KEY, k int, what text, ev text, at timestamptz,
						payload jsonb, batch int);

-- a random stream of n receipts for rows 1..rows, naming names, in random batches
CREATE FUNCTION eq_generate(seed float8, n int, rows int, names text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	batch int := 1;
	left_in_batch int := 0;
	ev text;
	r float8;
BEGIN
	TRUNCATE eq_stream;
	PERFORM setseed(seed);
	FOR i IN 1..n LOOP
		IF left_in_batch = 0 THEN
			batch := batch + 1;
			left_in_batch := 1 + floor(random() * 60)::int;
		END IF;
		left_in_batch := left_in_batch - 1;
		r := random();
		IF r < 0.15 THEN
			ev := NULL;
		ELSIF r < 0.40 AND i > 1 THEN
			-- an id seen before: in this batch, an earlier one, for this row or another
			ev := (SELECT s.ev FROM eq_stream s WHERE s.ev IS NOT NULL
				   ORDER BY s.i DESC OFFSET floor(random() * 8)::int LIMIT 1);
		ELSE
			ev := 'ev-' || i;
		END IF;
		INSERT INTO eq_stream VALUES (
			i, 1 + floor(random() * rows)::int,
			names[1 + floor(random() * cardinality(names))::int], ev,
			CASE WHEN random() < 0.5 THEN '2026-01-01 00:00+00'::timestamptz
				 + random() * interval '30 days' END,
			CASE WHEN random() < 0.5 THEN jsonb_build_object('n', i) END,
			batch);
	END LOOP;
END $$;

-- a table bound to a workflow, with rows 1..rows; key: int, or (shop, n)
CREATE FUNCTION eq_table(name text, workflow text, rows int, composite boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('CREATE TABLE %I (shop text NOT NULL DEFAULT ''north'', n int NOT NULL, '
				   'channel text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), '
				   'entered timestamptz, status %I NOT NULL DEFAULT %L, PRIMARY KEY (%s))',
				   name, workflow || '_status',
				   (SELECT status FROM statusflow.statuses s
					WHERE s.workflow = eq_table.workflow AND s.is_initial),
				   CASE WHEN composite THEN 'shop, n' ELSE 'n' END);
	IF NOT composite THEN
		EXECUTE format('ALTER TABLE %I ALTER shop DROP NOT NULL', name);
	END IF;
	PERFORM statusflow.attach(name::regclass, 'status', workflow, entered_at_column => 'entered');
	EXECUTE format('INSERT INTO %I (n, channel) SELECT g, CASE WHEN g %% 3 = 0 THEN ''sms'' '
				   'ELSE ''email'' END FROM generate_series(1, %s) g', name, rows);
END $$;

-- the key of row k of a table as ingest() takes it
CREATE FUNCTION eq_key(composite boolean, k int) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN composite THEN format('(north,%s)', k) ELSE k::text END
$$;

-- ingest the stream one receipt at a time; the outcomes, in order
CREATE FUNCTION eq_one_by_one(tab regclass, composite boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	s record;
	outcomes text[] := '{}';
BEGIN
	FOR s IN SELECT * FROM eq_stream ORDER BY i LOOP
		outcomes := outcomes || statusflow.ingest(tab, eq_key(composite, s.k), s.what,
												  s.at, s.ev, s.payload);
	END LOOP;
	RETURN array_to_string(outcomes, ' ');
END $$;

-- ingest the stream in its batches; the outcomes, in order
CREATE FUNCTION eq_batches(tab regclass, composite boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	b record;
	outcomes text[] := '{}';
BEGIN
	FOR b IN SELECT array_agg(s.k ORDER BY s.i) AS ks,
					array_agg(ROW('north', s.k) ORDER BY s.i) AS rows,
					array_agg(s.what ORDER BY s.i) AS whats, array_agg(s.at ORDER BY s.i) AS ats,
					array_agg(s.ev ORDER BY s.i) AS evs, array_agg(s.payload ORDER BY s.i) AS payloads
			 FROM eq_stream s GROUP BY s.batch ORDER BY s.batch LOOP
		IF composite THEN
			outcomes := outcomes || ARRAY(SELECT o.outcome FROM statusflow.ingest_batch(
										tab, b.rows, b.whats, b.ats, b.evs, b.payloads) o
										ORDER BY o.n);
		ELSE
			outcomes := outcomes || ARRAY(SELECT o.outcome FROM statusflow.ingest_batch(
										tab, b.ks, b.whats, b.ats, b.evs, b.payloads) o
										ORDER BY o.n);
		END IF;
	END LOOP;
	RETURN array_to_string(outcomes, ' ');
END $$;

-- a table's rows, and its history without history_id, each entity in order
-- (the table's name, which refusals give, as "the table")
CREATE FUNCTION eq_rows(tab text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	EXECUTE format('SELECT string_agg(concat_ws('' '', shop, n, status, entered), %L '
				   'ORDER BY shop, n) FROM %I', '; ', tab) INTO result;
	RETURN result;
END $$;
CREATE FUNCTION eq_history(tab text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	EXECUTE format('SELECT string_agg((to_jsonb(h) - ''history_id'')::text, E''\n'' '
				   'ORDER BY h.n, h.history_id) FROM %I h', tab || '_status_history')
	INTO result;
	-- refusals name the table
	RETURN replace(result, tab, 'the table');
END $$;

-- one run: a stream into two fresh copies; three tests
CREATE FUNCTION eq_run(workflow text, seed float8, n int, rows int, composite boolean)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	names text[] := ARRAY(SELECT s.status FROM statusflow.statuses s WHERE s.workflow = eq_run.workflow
						  UNION SELECT DISTINCT t.event FROM statusflow.transitions t
						  WHERE t.workflow = eq_run.workflow AND t.event IS NOT NULL ORDER BY 1);
	label text := format('%s, seed %s', workflow, seed);
	one text;
	many text;
BEGIN
	PERFORM eq_generate(seed, n, rows, names);
	PERFORM eq_table('eq_one', workflow, rows, composite);
	PERFORM eq_table('eq_many', workflow, rows, composite);
	one := eq_one_by_one('eq_one', composite);
	many := eq_batches('eq_many', composite);
	RETURN NEXT is(many, one, label || ': the same outcomes');
	RETURN NEXT is(eq_rows('eq_many'), eq_rows('eq_one'), label || ': the same rows');
	RETURN NEXT is(eq_history('eq_many'), eq_history('eq_one'), label || ': the same history');
	PERFORM statusflow.detach('eq_one');
	PERFORM statusflow.detach('eq_many');
	DROP TABLE eq_one, eq_one_status_history, eq_many, eq_many_status_history;
END $$;

SELECT eq_run('eq_plain', seed / 100.0, 150, 12, seed % 2 = 0)
FROM generate_series(1, 9) seed;
SELECT eq_run('eq_guarded', seed / 100.0, 150, 12, false) FROM generate_series(11, 19) seed;
SELECT eq_run('eq_free', seed / 100.0, 150, 12, false) FROM generate_series(21, 29) seed;
SELECT eq_run('eq_stable', seed / 100.0, 60, 6, false) FROM generate_series(31, 33) seed;

-- the streams did what they were meant to: every outcome, several steps taken at once
SELECT eq_generate(0.5, 400, 12, ARRAY(SELECT s.status FROM statusflow.statuses s
									   WHERE s.workflow = 'eq_guarded'
									   UNION SELECT DISTINCT t.event FROM statusflow.transitions t
									   WHERE t.workflow = 'eq_guarded' AND t.event IS NOT NULL));
SELECT eq_table('eq_many', 'eq_guarded', 12, false);
SELECT set_eq($$SELECT DISTINCT unnest(string_to_array(eq_batches('eq_many', false), ' '))$$,
			  ARRAY['applied', 'duplicate', 'late', 'unchanged', 'ignored', 'not_applicable',
					'refused'],
			  'a long guarded stream has every outcome');
SELECT cmp_ok((SELECT count(*)::int FROM eq_many_status_history WHERE reason LIKE 'implied by%'),
			  '>', 0, 'and implied steps');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: the reports' and diagrams' API, their SQLSTATEs, and every report
-- that folds history rows checked against a plain SQL computation of the
-- same figures on random histories (single and composite keys).
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;
BEGIN;
SELECT plan(54);

-- the API
SELECT has_function('statusflow', 'status_counts', ARRAY['regclass', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'name']);
SELECT has_function('statusflow', 'group_counts', ARRAY['regclass', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'name']);
SELECT has_function('statusflow', 'funnel', ARRAY['regclass', 'text[]', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'boolean', 'name']);
SELECT has_function('statusflow', 'funnel_cohorts', ARRAY['regclass', 'text[]', 'text', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'boolean', 'name']);
SELECT has_function('statusflow', 'time_in_status', ARRAY['regclass', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'boolean', 'name']);
SELECT has_function('statusflow', 'transition_matrix', ARRAY['regclass', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'name']);
SELECT has_function('statusflow', 'stale', ARRAY['regclass', 'text', 'interval', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'name']);
SELECT has_function('statusflow', 'status_at', ARRAY['regclass', 'anyelement', 'timestamp with time zone', 'name']);
SELECT has_function('statusflow', 'status_at', ARRAY['regclass', 'text', 'timestamp with time zone', 'name']);
SELECT has_function('statusflow', 'timeline', ARRAY['regclass', 'anyelement', 'timestamp with time zone', 'timestamp with time zone', 'name']);
SELECT has_function('statusflow', 'timeline', ARRAY['regclass', 'text', 'timestamp with time zone', 'timestamp with time zone', 'name']);
SELECT has_function('statusflow', 'queue_position', ARRAY['regclass', 'anyelement', 'jsonb', 'name']);
SELECT has_function('statusflow', 'queue_position', ARRAY['regclass', 'text', 'jsonb', 'name']);
SELECT has_function('statusflow', 'entry_series', ARRAY['regclass', 'text', 'timestamp with time zone', 'timestamp with time zone', 'jsonb', 'name']);
SELECT has_function('statusflow', 'dashboard', ARRAY['regclass', 'text[]', 'interval', 'integer', 'jsonb', 'name']);
SELECT has_function('statusflow', 'to_dot', ARRAY['text']);
SELECT has_function('statusflow', 'to_mermaid', ARRAY['text']);
SELECT is_empty(
	$$SELECT p.oid::regprocedure FROM pg_proc p
	  WHERE p.pronamespace = 'statusflow'::regnamespace AND p.prolang <> 13
		AND p.proname IN ('status_counts', 'group_counts', 'funnel', 'funnel_cohorts',
						  'time_in_status', 'transition_matrix', 'stale', 'status_at',
						  'timeline', 'queue_position', 'entry_series', 'dashboard',
						  'to_dot', 'to_mermaid')
		AND (p.prosecdef OR NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false))$$,
	'reports run with the caller''s rights and pin search_path');

-- a workflow, and random histories on a single and a composite key
SELECT statusflow.create_workflow('tap_rep', ARRAY['a', 'b', 'c', 'd', 'e'],
								  ARRAY['a'], ARRAY['e']);
SELECT statusflow.set_status_info('tap_rep', 'b', group_name => 'middle');
SELECT statusflow.set_status_info('tap_rep', 'c', group_name => 'middle');
SELECT statusflow.add_transition('tap_rep', ARRAY['a'], 'b', event => 'go');
SELECT statusflow.add_transition('tap_rep', ARRAY['b'], 'c', event => 'go');
SELECT statusflow.add_transition('tap_rep', ARRAY['c'], 'd', event => 'go');
SELECT statusflow.add_transition('tap_rep', ARRAY['d'], 'e', event => 'go');
SELECT statusflow.add_transition('tap_rep', ARRAY['b', 'c', 'd'], 'a', event => 'back');

CREATE TABLE tap_rep_one (id bigint PRIMARY KEY, grp int NOT NULL, status tap_rep_status NOT NULL);
CREATE TABLE tap_rep_two (shop text, code int, status tap_rep_status NOT NULL,
						  PRIMARY KEY (shop, code));
SELECT setseed(0.42);
-- per entity: 1 to 12 rows, random statuses, 1 to 100 hours apart, one row
-- in ten recorded but not applied; all rows inserted in time order
CREATE TEMP TABLE tap_rows AS
SELECT e, row_number() OVER (PARTITION BY e ORDER BY j) AS j,
	   (ARRAY['a', 'b', 'c', 'd', 'e'])[1 + floor(random() * 5)::int] AS status,
	   timestamptz '2024-01-01 00:00+00' + e * interval '7 hours'
		   + sum(1 + floor(random() * 100)::int) OVER (PARTITION BY e ORDER BY j)
			 * interval '1 hour' AS at,
	   random() >= 0.1 OR j = 1 AS applied
FROM generate_series(1, 300) e, generate_series(1, 12) j
WHERE j <= 1 + e % 12;
INSERT INTO tap_rep_one
SELECT e, e % 4, (SELECT r.status FROM tap_rows r WHERE r.e = x.e AND r.applied
				  ORDER BY r.j DESC LIMIT 1)::tap_rep_status
FROM (SELECT DISTINCT e FROM tap_rows) x;
INSERT INTO tap_rep_two SELECT 'shop ' || (id % 7) || ', "q"', id, status FROM tap_rep_one;
SELECT statusflow.attach('tap_rep_one', 'status', 'tap_rep', backfill => false);
SELECT statusflow.attach('tap_rep_two', 'status', 'tap_rep', backfill => false);
INSERT INTO tap_rep_one_status_history (id, to_status, occurred_at, applied)
SELECT e, status::tap_rep_status, at, applied FROM tap_rows ORDER BY at, e;
INSERT INTO tap_rep_two_status_history (shop, code, to_status, occurred_at, applied)
SELECT 'shop ' || (e % 7) || ', "q"', e, status::tap_rep_status, at, applied
FROM tap_rows ORDER BY at, e;

-- the reference: stays by a window function, per entity
CREATE FUNCTION pg_temp.ref_stays(hist regclass, keys text, since timestamptz,
								  until timestamptz, include_open boolean)
RETURNS TABLE (status text, stays bigint, open_stays bigint, mean numeric,
			   median numeric, p90 numeric)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		WITH s AS (
			SELECT to_status::text AS status, occurred_at AS entered,
				   lead(occurred_at) OVER (PARTITION BY %s ORDER BY history_id) AS left_at
			FROM %s WHERE applied AND occurred_at < coalesce($2, 'infinity')),
		c AS (
			SELECT s.status, s.left_at IS NULL AS open,
				   greatest(0, extract(epoch FROM least(coalesce(s.left_at, now()), $2)
											  - greatest(s.entered, $1))) AS secs
			FROM s
			WHERE ($3 OR s.left_at IS NOT NULL)
			  AND ($1 IS NULL OR least(coalesce(s.left_at, now()), $2) > $1))
		SELECT c.status, count(*), count(*) FILTER (WHERE c.open),
			   round(avg(c.secs), 3),
			   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY c.secs)::numeric, 3),
			   round(percentile_cont(0.9) WITHIN GROUP (ORDER BY c.secs)::numeric, 3)
		FROM c GROUP BY 1$q$, keys, hist)
	USING since, until, include_open;
END $$;
CREATE FUNCTION pg_temp.tis(tbl regclass, since timestamptz, until timestamptz,
							include_open boolean)
RETURNS TABLE (status text, stays bigint, open_stays bigint, mean numeric,
			   median numeric, p90 numeric)
LANGUAGE sql AS $$
	SELECT t.status, t.stays, t.open_stays, round(extract(epoch FROM t.mean), 3),
		   round(extract(epoch FROM t.median), 3), round(extract(epoch FROM t.p90), 3)
	FROM statusflow.time_in_status(tbl, since, until, filter => NULL,
								   include_open => include_open) t
	WHERE t.stays > 0
$$;

-- the statuses whose stays differ between two queries of that shape: counts
-- exactly, seconds to the millisecond (a mean is computed in floating point,
-- so its third decimal may round the other way)
CREATE FUNCTION pg_temp.stays_differ(a text, b text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT status FROM (%s) x FULL JOIN (%s) y USING (status)
		WHERE x.stays IS DISTINCT FROM y.stays
		   OR x.open_stays IS DISTINCT FROM y.open_stays
		   OR NOT (abs(x.mean - y.mean) <= 0.001 AND abs(x.median - y.median) <= 0.001
				   AND abs(x.p90 - y.p90) <= 0.001)$q$, a, b);
END $$;

SELECT is_empty($q$SELECT * FROM pg_temp.stays_differ($$SELECT * FROM pg_temp.tis('tap_rep_one', NULL, NULL, true)$$,
			  $$SELECT * FROM pg_temp.ref_stays('tap_rep_one_status_history', 'id', NULL, NULL, true)$$)$q$,
			  'time_in_status() = window-function reference, open stays until now');
SELECT is_empty($q$SELECT * FROM pg_temp.stays_differ($$SELECT * FROM pg_temp.tis('tap_rep_one', '2024-01-20', '2024-02-10', true)$$,
			  $$SELECT * FROM pg_temp.ref_stays('tap_rep_one_status_history', 'id', '2024-01-20', '2024-02-10', true)$$)$q$,
			  'time_in_status() = reference, stays cut by a window');
SELECT is_empty($q$SELECT * FROM pg_temp.stays_differ($$SELECT * FROM pg_temp.tis('tap_rep_one', '2024-01-20', NULL, false)$$,
			  $$SELECT * FROM pg_temp.ref_stays('tap_rep_one_status_history', 'id', '2024-01-20', NULL, false)$$)$q$,
			  'time_in_status() = reference, open stays left out');
SELECT is_empty($q$SELECT * FROM pg_temp.stays_differ($$SELECT * FROM pg_temp.tis('tap_rep_two', '2024-01-05', '2024-03-01', true)$$,
			  $$SELECT * FROM pg_temp.ref_stays('tap_rep_two_status_history', 'shop, code', '2024-01-05', '2024-03-01', true)$$)$q$,
			  'time_in_status() = reference on a composite text key');
SELECT is_empty($q$SELECT * FROM pg_temp.stays_differ($$SELECT * FROM pg_temp.tis('tap_rep_one', NULL, NULL, true)$$,
			  $$SELECT * FROM pg_temp.tis('tap_rep_two', NULL, NULL, true)$$)$q$,
			  'the same histories give the same stays whatever the key');

-- status counts at a past time: each entity's last applied row before it
SELECT set_eq(
	$$SELECT status, entities FROM statusflow.status_counts('tap_rep_one', until => '2024-02-01')
	  WHERE entities > 0$$,
	$$SELECT to_status::text, count(*) FROM (
		SELECT DISTINCT ON (id) id, to_status FROM tap_rep_one_status_history
		WHERE applied AND occurred_at < '2024-02-01' ORDER BY id, history_id DESC) x
	  GROUP BY 1$$,
	'status_counts(until) = the last applied row of each entity');
SELECT set_eq(
	$$SELECT status, entities FROM statusflow.status_counts('tap_rep_two', until => '2024-02-01')$$,
	$$SELECT status, entities FROM statusflow.status_counts('tap_rep_one', until => '2024-02-01')$$,
	'status_counts(until) the same on a composite key');
SELECT set_eq(
	$$SELECT status, entities FROM statusflow.status_counts('tap_rep_one', until => 'infinity')$$,
	$$SELECT status, entities FROM statusflow.status_counts('tap_rep_one')$$,
	'counts from the whole history = counts from the table');
SELECT results_eq(
	$$SELECT sum(entries)::bigint FROM statusflow.status_counts('tap_rep_one', since => '2024-01-15')$$,
	$$SELECT count(*) FROM tap_rep_one_status_history WHERE applied AND occurred_at >= '2024-01-15'$$,
	'entries in a window = applied rows in it');
SELECT results_eq(
	$$SELECT entities FROM statusflow.group_counts('tap_rep_one') WHERE group_name = 'middle'$$,
	$$SELECT count(*) FROM tap_rep_one WHERE status IN ('b', 'c')$$,
	'a group counts the entities of its statuses');

-- funnels: a bit per step an entity reached
CREATE TEMP VIEW tap_masks AS
SELECT id, min(occurred_at) AS entered,
	   bit_or(CASE to_status WHEN 'a' THEN 1 WHEN 'b' THEN 2 WHEN 'c' THEN 4
						   WHEN 'd' THEN 8 WHEN 'e' THEN 16 ELSE 0 END) AS mask
FROM tap_rep_one_status_history WHERE applied GROUP BY id;
SELECT results_eq(
	$$SELECT entities FROM statusflow.funnel('tap_rep_one') ORDER BY step_no$$,
	$$SELECT count(*) FILTER (WHERE mask >> (n - 1) <> 0)
	  FROM tap_masks, generate_series(1, 5) n GROUP BY n ORDER BY n$$,
	'funnel() = per-entity reference, later steps implying earlier ones');
SELECT results_eq(
	$$SELECT entities FROM statusflow.funnel('tap_rep_one', later_implies_earlier => false,
											 since => '2024-01-10', until => '2024-02-10')
	  ORDER BY step_no$$,
	$$SELECT count(*) FILTER (WHERE mask >> (n - 1) & 1 = 1)
	  FROM tap_masks, generate_series(1, 5) n
	  WHERE entered >= '2024-01-10' AND entered < '2024-02-10' GROUP BY n ORDER BY n$$,
	'funnel() = reference, steps entered, entities entered in a window');
SELECT results_eq(
	$$SELECT entities FROM statusflow.funnel('tap_rep_two', ARRAY['a', 'middle', 'e'])
	  ORDER BY step_no$$,
	$$SELECT count(*) FILTER (WHERE (CASE WHEN mask & 1 = 1 THEN 1 ELSE 0 END
									  | CASE WHEN mask & 6 <> 0 THEN 2 ELSE 0 END
									  | CASE WHEN mask & 16 <> 0 THEN 4 ELSE 0 END) >> (n - 1) <> 0)
	  FROM tap_masks, generate_series(1, 3) n GROUP BY n ORDER BY n$$,
	'funnel() on groups and a composite key = reference');
SELECT results_eq(
	$$SELECT cohort, cohort_size FROM statusflow.funnel_cohorts('tap_rep_one', ARRAY['a'], 'week')$$,
	$$SELECT date_trunc('week', entered)::date, count(*) FROM tap_masks GROUP BY 1 ORDER BY 1$$,
	'funnel_cohorts() groups entities by the week they entered');
SELECT results_eq(
	$$SELECT statusflow_internal.main_path('tap_rep')$$,
	$$SELECT ARRAY['a', 'b', 'c', 'd', 'e']$$,
	'the default funnel follows the main path');

-- the other reports
SELECT set_eq(
	$$SELECT from_status, to_status, transitions FROM statusflow.transition_matrix('tap_rep_one')
	  WHERE transitions > 0$$,
	$$SELECT from_status::text, to_status::text, count(*) FROM tap_rep_one_status_history
	  WHERE applied GROUP BY 1, 2$$,
	'transition_matrix() counts applied rows by pair');
SELECT results_eq(
	$$SELECT sum(entries)::bigint FROM statusflow.entry_series('tap_rep_one', 'week', '2024-01-08', '2024-03-04')$$,
	$$SELECT count(*) FROM tap_rep_one_status_history
	  WHERE applied AND occurred_at >= '2024-01-08' AND occurred_at < '2024-03-04'$$,
	'entry_series() accounts for every applied row of its window');
SELECT results_eq(
	$$SELECT count(DISTINCT period_start)::int FROM statusflow.entry_series('tap_rep_one', 'week', '2024-01-08', '2024-03-04')$$,
	$$SELECT 8$$,
	'entry_series() has every period of its window');
SELECT results_eq(
	$$SELECT statusflow.status_at('tap_rep_two', ROW('shop 3, "q"', 10), '2024-03-01')$$,
	$$SELECT to_status::text FROM tap_rep_one_status_history
	  WHERE id = 10 AND applied AND occurred_at <= '2024-03-01' ORDER BY history_id DESC LIMIT 1$$,
	'status_at() on a composite key');
SELECT results_eq(
	$$SELECT count(*) FROM statusflow.timeline('tap_rep_one', 12)$$,
	$$SELECT count(*) FROM tap_rep_one_status_history WHERE id = 12$$,
	'timeline() has every row of the entity');
SELECT results_eq(
	$$SELECT count(*) FROM statusflow.stale('tap_rep_one', 'b', '0')$$,
	$$SELECT count(*) FROM tap_rep_one WHERE status = 'b'$$,
	'stale(status, 0) lists every entity in the status');
SELECT results_eq(
	$$SELECT q.position FROM statusflow.queue_position('tap_rep_one', 7) q$$,
	$$SELECT p FROM (SELECT s.key, row_number() OVER () AS p
					 FROM statusflow.stale('tap_rep_one',
										   (SELECT status::text FROM tap_rep_one WHERE id = 7),
										   '-1 day') s) x
	  WHERE key = '{"id": 7}'$$,
	'queue_position() is the rank in the oldest-first list of the status');
SELECT ok((SELECT count(*) > 10 FROM statusflow.dashboard('tap_rep_one')),
		  'the dashboard prints its sections');

-- diagrams
SELECT matches(statusflow.to_dot('tap_rep'), '^digraph "tap_rep" \{.*subgraph "cluster_2".*label="middle".*s4 -> s5 \[label="go"\];.*\}$',
			   'to_dot() draws groups as clusters and labels edges');
SELECT matches(statusflow.to_mermaid('tap_rep'), '^flowchart LR.*subgraph g2 \["middle"\].*s4 -->\|"go"\| s5.*class s5 terminal$',
			   'to_mermaid() draws a flowchart with subgraphs');

-- documented SQLSTATEs
SELECT throws_ok($$SELECT * FROM statusflow.status_counts('tap_rep_one', filter => '{"nosuch": 1}')$$,
				 '42703', NULL, 'an unknown filter column is undefined_column (42703)');
SELECT throws_ok($$SELECT * FROM statusflow.status_counts('tap_rep_one', filter => '[]')$$,
				 '22023', NULL, 'a filter that is not an object is invalid_parameter_value (22023)');
SELECT throws_ok($$SELECT * FROM statusflow.funnel('tap_rep_one', filter => '{"grp": "x"}')$$,
				 '22P02', NULL, 'a filter value of the wrong type keeps its own SQLSTATE (22P02)');
SELECT throws_ok($$SELECT * FROM statusflow.funnel('tap_rep_one', ARRAY['nosuch'])$$,
				 '22023', NULL, 'an unknown step is invalid_parameter_value (22023)');
SELECT throws_ok($$SELECT * FROM statusflow.entry_series('tap_rep_one', 'year')$$,
				 '22023', NULL, 'an unknown period is invalid_parameter_value (22023)');
SELECT throws_ok($$SELECT * FROM statusflow.time_in_status('tap_rep_one', now(), now())$$,
				 '22023', NULL, 'an empty window is invalid_parameter_value (22023)');
SELECT throws_ok($$SELECT * FROM statusflow.stale('tap_rep_one', 'a', NULL)$$,
				 '22004', NULL, 'a missing older_than is null_value_not_allowed (22004)');
SELECT throws_ok($$SELECT statusflow.status_at('tap_rep_two', 'x', now())$$,
				 '42804', NULL, 'a key of the wrong arity is datatype_mismatch (42804)');
SELECT throws_ok($$SELECT statusflow.status_at('tap_rep_one', 'x', now())$$,
				 '22P02', NULL, 'a key that does not convert is invalid_text_representation (22P02)');
SELECT throws_ok($$SELECT * FROM statusflow.funnel('pg_class')$$,
				 '42704', NULL, 'a table without binding is undefined_object (42704)');
SELECT throws_ok($$SELECT statusflow.to_dot('nosuch')$$,
				 '42704', NULL, 'an unknown workflow is undefined_object (42704)');

SELECT * FROM finish();
ROLLBACK;

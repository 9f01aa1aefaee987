-- pgTAP: a history table partitioned by occurred_at and kept by pg_partman
-- (README, "A history partitioned by time"): attach() takes it over, rows
-- go to their month's partition (the default partition when none fits),
-- every report gives what it gives on an ordinary history table fed the
-- same changes, and retention drops old partitions while the binding goes
-- on.  pg_partman 4 (PostgreSQL 15) and 5 (17, 18) differ in create_parent's
-- partition type only.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;
BEGIN;
SELECT plan(28);
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
SELECT CASE WHEN extversion LIKE '4.%' THEN 'native' ELSE 'range' END AS ptype
FROM pg_extension WHERE extname = 'pg_partman' \gset

SELECT statusflow.create_workflow('pm_flow', ARRAY['sent', 'opened', 'accepted', 'declined'],
								  ARRAY['sent']);
SELECT statusflow.add_transition('pm_flow', ARRAY['sent'], 'opened');
SELECT statusflow.add_transition('pm_flow', ARRAY['opened'], 'accepted');
SELECT statusflow.add_transition('pm_flow', ARRAY['sent', 'opened'], 'declined');

-- pm_parts keeps its history by month; pm_plain, its twin, as attach() makes it
CREATE TABLE pm_parts (id bigint PRIMARY KEY, status pm_flow_status NOT NULL DEFAULT 'sent');
CREATE TABLE pm_plain (id bigint PRIMARY KEY, status pm_flow_status NOT NULL DEFAULT 'sent');
SELECT statusflow.attach('pm_plain', 'status', 'pm_flow');
CREATE TABLE pm_parts_history (
	history_id bigint GENERATED ALWAYS AS IDENTITY,
	id bigint NOT NULL,
	from_status pm_flow_status,
	to_status pm_flow_status NOT NULL,
	event text,
	actor text,
	db_role text NOT NULL DEFAULT current_user,
	reason text,
	metadata jsonb,
	occurred_at timestamptz NOT NULL DEFAULT now(),
	recorded_at timestamptz NOT NULL DEFAULT now(),
	txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
	applied boolean NOT NULL DEFAULT true,
	event_id text
) PARTITION BY RANGE (occurred_at);
CREATE INDEX ON pm_parts_history (id, history_id);
CREATE INDEX ON pm_parts_history (event_id) WHERE event_id IS NOT NULL;
SELECT partman.create_parent('public.pm_parts_history', 'occurred_at',
							 p_type => :'ptype', p_interval => '1 month',
							 p_premake => 2, p_start_partition => '2026-01-01');

SELECT is(statusflow.attach('pm_parts', 'status', 'pm_flow', history_table => 'pm_parts_history'),
		  'pm_parts_history'::regclass, 'attach() takes the partitioned history table over');
SELECT cmp_ok((SELECT count(*) FROM pg_inherits WHERE inhparent = 'pm_parts_history'::regclass),
			  '>=', 13::bigint, 'pg_partman made a partition per month and a default one');

-- the same changes for both tables: 400 entities, moves spread over 2025-12
-- to 2026-11, some before any month partition
SELECT setseed(0.42);
CREATE TEMP TABLE pm_entities AS
SELECT g AS id, random() AS r1, random() AS r2,
	   timestamptz '2025-12-01' + random() * interval '330 days' AS t0
FROM generate_series(1, 400) g;
CREATE TEMP TABLE pm_ops AS
SELECT row_number() OVER (ORDER BY id, step) AS n, id, to_status, at
FROM pm_entities e,
	 LATERAL (VALUES (1, 'opened', e.t0),
					 (2, CASE WHEN e.r2 < 0.5 THEN 'accepted' ELSE 'declined' END,
					  e.t0 + e.r1 * interval '20 days')) s(step, to_status, at)
WHERE e.r1 < 0.8 OR s.step = 1;
INSERT INTO pm_parts SELECT g FROM generate_series(1, 400) g;
INSERT INTO pm_plain SELECT g FROM generate_series(1, 400) g;
SELECT count(*) FROM (
	SELECT statusflow.transition(t, id, to_status, occurred_at => at)
	FROM pm_ops, (VALUES ('pm_parts'::regclass), ('pm_plain'::regclass)) v(t)
	ORDER BY n, t) s;
-- a bulk change: its rows wait and go to the current month's partition
UPDATE pm_parts SET status = 'declined' WHERE status = 'sent';
UPDATE pm_plain SET status = 'declined' WHERE status = 'sent';

SELECT is((SELECT count(*) FROM pm_parts_history), (SELECT count(*) FROM pm_plain_status_history),
		  'every change has its history row');
SELECT cmp_ok((SELECT count(DISTINCT tableoid) FROM pm_parts_history), '>=', 12::bigint,
			  'the rows are spread over the month partitions');
SELECT is((SELECT count(*) FROM pm_parts_history_default),
		  (SELECT count(*) FROM pm_parts_history WHERE occurred_at < '2026-01-01'),
		  'moves dated before the first month went to the default partition');

-- the reports read the partitioned history as they read the plain one
SELECT results_eq($$SELECT * FROM statusflow.status_counts('pm_parts')$$,
				  $$SELECT * FROM statusflow.status_counts('pm_plain')$$, 'status_counts');
SELECT results_eq($$SELECT * FROM statusflow.status_counts('pm_parts', since => '2026-03-01', until => '2026-06-01')$$,
				  $$SELECT * FROM statusflow.status_counts('pm_plain', since => '2026-03-01', until => '2026-06-01')$$,
				  'status_counts over a window in the past');
SELECT results_eq($$SELECT * FROM statusflow.funnel('pm_parts', ARRAY['sent', 'opened', 'accepted'])$$,
				  $$SELECT * FROM statusflow.funnel('pm_plain', ARRAY['sent', 'opened', 'accepted'])$$, 'funnel');
SELECT results_eq($$SELECT * FROM statusflow.funnel_cohorts('pm_parts', ARRAY['sent', 'opened', 'accepted'], 'month')$$,
				  $$SELECT * FROM statusflow.funnel_cohorts('pm_plain', ARRAY['sent', 'opened', 'accepted'], 'month')$$,
				  'funnel_cohorts');
SELECT results_eq($$SELECT * FROM statusflow.time_in_status('pm_parts')$$,
				  $$SELECT * FROM statusflow.time_in_status('pm_plain')$$, 'time_in_status');
SELECT results_eq($$SELECT * FROM statusflow.transition_matrix('pm_parts')$$,
				  $$SELECT * FROM statusflow.transition_matrix('pm_plain')$$, 'transition_matrix');
SELECT results_eq($$SELECT * FROM statusflow.entry_series('pm_parts', 'month')$$,
				  $$SELECT * FROM statusflow.entry_series('pm_plain', 'month')$$, 'entry_series');
SELECT results_eq($$SELECT * FROM statusflow.stale('pm_parts', 'opened', interval '30 days')$$,
				  $$SELECT * FROM statusflow.stale('pm_plain', 'opened', interval '30 days')$$, 'stale');
SELECT results_eq($$SELECT g, statusflow.status_at('pm_parts', g, '2026-05-01') FROM generate_series(1, 400) g$$,
				  $$SELECT g, statusflow.status_at('pm_plain', g, '2026-05-01') FROM generate_series(1, 400) g$$,
				  'status_at');
SELECT results_eq($$SELECT t.from_status, t.to_status, t.occurred_at FROM generate_series(1, 400) g,
						 statusflow.timeline('pm_parts', g) t$$,
				  $$SELECT t.from_status, t.to_status, t.occurred_at FROM generate_series(1, 400) g,
						 statusflow.timeline('pm_plain', g) t$$, 'timeline');
SELECT is((SELECT sum(statusflow.entries('pm_parts', g, 'opened')) FROM generate_series(1, 400) g),
		  (SELECT sum(statusflow.entries('pm_plain', g, 'opened')) FROM generate_series(1, 400) g),
		  'entries');
SELECT results_eq($$SELECT * FROM statusflow.dashboard('pm_parts')$$,
				  $$SELECT replace(l, 'pm_plain', 'pm_parts') FROM statusflow.dashboard('pm_plain') l$$,
				  'dashboard');

-- ingestion finds a duplicate event id through the plain index
SELECT is(statusflow.ingest('pm_parts', (SELECT min(id) FROM pm_parts WHERE status = 'opened'),
							'accepted', event_id => 'evt-1'),
		  'applied', 'a receipt is applied');
SELECT is(statusflow.ingest('pm_parts', (SELECT min(id) FROM pm_parts WHERE status = 'opened'),
							'accepted', event_id => 'evt-1'),
		  'duplicate', 'the same receipt again is a duplicate');

-- prune_history() deletes through the partitioned table, keeping each
-- entity's latest row
SELECT count(*) - 400 AS prunable FROM pm_parts_history \gset
SELECT is(statusflow.prune_history('pm_parts', now() + interval '1 second'),
		  :prunable::bigint, 'prune_history deletes all but each entity''s latest row');
SELECT is((SELECT count(*) FROM pm_parts p WHERE NOT EXISTS (
			   SELECT FROM pm_parts_history h WHERE h.id = p.id)), 0::bigint,
		  'every entity keeps a history row');

-- retention: pg_partman drops the months older than six months
SELECT cmp_ok((SELECT count(*) FROM pm_parts_history WHERE occurred_at >= '2026-01-01'
											   AND occurred_at < now() - interval '7 months'),
			  '>', 0::bigint, 'before retention, the old months have rows');
UPDATE partman.part_config SET retention = '6 months', retention_keep_table = false
WHERE parent_table = 'public.pm_parts_history';
SELECT partman.run_maintenance('public.pm_parts_history');
SELECT is((SELECT count(*) FROM pm_parts_history WHERE occurred_at >= '2026-01-01'
											   AND occurred_at < now() - interval '7 months'),
		  0::bigint, 'retention dropped the old months');
SELECT is((SELECT count(*) FROM statusflow.bindings WHERE table_name = 'pm_parts'::regclass
		   AND history_table = 'pm_parts_history'::regclass), 1::bigint,
		  'the binding keeps its history table');
SELECT lives_ok($$UPDATE pm_parts SET status = 'accepted' WHERE id = (
					SELECT min(id) FROM pm_parts WHERE status = 'opened')$$,
				'changes go on after retention');
SELECT throws_ok($$UPDATE pm_parts SET status = 'sent' WHERE status = 'accepted'$$,
				 '23514', NULL, 'and are still checked');
SELECT is((SELECT to_status::text FROM pm_parts_history ORDER BY history_id DESC LIMIT 1),
		  'accepted', 'the new change is recorded');
SELECT results_eq($$SELECT status, entities FROM statusflow.status_counts('pm_parts')
					WHERE entities > 0 ORDER BY status$$,
				  $$SELECT status::text, count(*) FROM pm_parts GROUP BY 1 ORDER BY 1$$,
				  'status counts after retention');

SELECT * FROM finish();
ROLLBACK;

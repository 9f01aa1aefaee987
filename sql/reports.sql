\set SHOW_CONTEXT never
-- Reports: every report against figures computed by hand on small data (see
-- the comments), empty tables, one entity, entities that skipped steps,
-- windows that cut a stay in two, single and composite keys, errors.
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';

-- new -> sent -> opened -> clicked -> won, with bounces and losses
SELECT statusflow.create_workflow('rep_flow',
	ARRAY['new', 'sent', 'opened', 'clicked', 'won', 'lost', 'bounced'],
	initial => ARRAY['new'], terminal => ARRAY['won', 'lost']);
SELECT statusflow.set_status_info('rep_flow', s, group_name => g)
FROM (VALUES ('new', 'open'), ('sent', 'open'), ('opened', 'engaged'),
			 ('clicked', 'engaged'), ('won', 'closed'), ('lost', 'closed')) v(s, g);
SELECT statusflow.add_transition('rep_flow', ARRAY['new'], 'sent', event => 'send');
SELECT statusflow.add_transition('rep_flow', ARRAY['sent'], 'opened', event => 'open', kind => 'automatic');
SELECT statusflow.add_transition('rep_flow', ARRAY['sent'], 'bounced', event => 'bounce', kind => 'automatic');
SELECT statusflow.add_transition('rep_flow', ARRAY['bounced'], 'sent', event => 'resend');
SELECT statusflow.add_transition('rep_flow', ARRAY['opened'], 'clicked', event => 'click');
SELECT statusflow.add_transition('rep_flow', ARRAY['sent', 'opened', 'clicked'], 'won', event => 'win');
SELECT statusflow.add_transition('rep_flow', ARRAY['new', 'sent', 'opened', 'clicked'], 'lost', event => 'lose');

-- Seven leads of three accounts.  History is written by hand (as the owner
-- may) with fixed times, in hours after 2024-03-01 00:00 UTC:
--   1 (account 1)  new 0, sent 10, opened 20, clicked 30, won 40
--   2 (account 1)  new 0, sent 5, bounced 6, sent 30, opened 50, and at 52
--                  a provider event recorded but not applied
--   3 (account 2)  new 10, lost 12                  (skipped every step)
--   4 (account 2)  new 24, sent 26, won 48          (skipped opened, clicked)
--   5 (account 1)  new 48
--   6 (account 2)  new 30, sent 31, opened 33, clicked 34
--   7 (account 3)  new, no history (attached without backfill)
CREATE TABLE rep_leads (
	id int PRIMARY KEY,
	account int NOT NULL,
	status rep_flow_status NOT NULL
);
INSERT INTO rep_leads VALUES (1, 1, 'won'), (2, 1, 'opened'), (3, 2, 'lost'),
	(4, 2, 'won'), (5, 1, 'new'), (6, 2, 'clicked'), (7, 3, 'new');
SELECT statusflow.attach('rep_leads', 'status', 'rep_flow', backfill => false);
INSERT INTO rep_leads_status_history (id, from_status, to_status, event, actor, occurred_at, applied)
SELECT id, f::rep_flow_status, t::rep_flow_status, e, a,
	   '2024-03-01 00:00+00'::timestamptz + h * interval '1 hour', coalesce(ap, true)
FROM (VALUES
	(1, NULL, 'new', NULL, NULL, 0, NULL), (2, NULL, 'new', NULL, NULL, 0, NULL),
	(2, 'new', 'sent', 'send', 'mailer', 5, NULL),
	(2, 'sent', 'bounced', 'bounce', 'mailer', 6, NULL),
	(1, 'new', 'sent', 'send', 'mailer', 10, NULL),
	(3, NULL, 'new', NULL, NULL, 10, NULL),
	(3, 'new', 'lost', 'lose', 'ana', 12, NULL),
	(1, 'sent', 'opened', 'open', 'webhook', 20, NULL),
	(4, NULL, 'new', NULL, NULL, 24, NULL),
	(4, 'new', 'sent', 'send', 'mailer', 26, NULL),
	(1, 'opened', 'clicked', 'click', 'webhook', 30, NULL),
	(2, 'bounced', 'sent', 'resend', 'ana', 30, NULL),
	(6, NULL, 'new', NULL, NULL, 30, NULL),
	(6, 'new', 'sent', 'send', 'mailer', 31, NULL),
	(6, 'sent', 'opened', 'open', 'webhook', 33, NULL),
	(6, 'opened', 'clicked', 'click', 'webhook', 34, NULL),
	(1, 'clicked', 'won', 'win', 'bo', 40, NULL),
	(4, 'sent', 'won', 'win', 'bo', 48, NULL),
	(5, NULL, 'new', NULL, NULL, 48, NULL),
	(2, 'sent', 'opened', 'open', 'webhook', 50, NULL),
	(2, 'opened', 'sent', 'deliver', 'webhook', 52, false)
) v(id, f, t, e, a, h, ap);

--
-- status_counts, group_counts
--
-- now (the table): new 5,7; opened 2; clicked 6; won 1,4; lost 3.  Entries
-- since the beginning: every applied row by its status (the provider event
-- is not applied).
SELECT * FROM statusflow.status_counts('rep_leads', since => '-infinity');
-- without a start of the window, no entries: the table alone is read
SELECT * FROM statusflow.status_counts('rep_leads');
-- by group: moves inside a group are not entries into it (new -> sent)
SELECT * FROM statusflow.group_counts('rep_leads', since => '-infinity');
-- at 25 h (from history; 5 and 6 did not exist yet, 7 has no history):
-- 1 opened, 2 bounced, 3 lost, 4 new; entries before 25 h
SELECT * FROM statusflow.status_counts('rep_leads', '-infinity', '2024-03-02 01:00+00');
-- window [24 h, 49 h): statuses at 49 h, entries during the window
SELECT * FROM statusflow.status_counts('rep_leads', '2024-03-02 00:00+00', '2024-03-03 01:00+00');
-- account 1 only: leads 1, 2, 5
SELECT * FROM statusflow.status_counts('rep_leads', '-infinity', filter => '{"account": 1}',
									   column_name => 'status');
SELECT * FROM statusflow.group_counts('rep_leads', '-infinity', '2024-03-02 01:00+00',
									  filter => '{"account": 2}');

--
-- funnel, funnel_cohorts
--
-- default steps: the main path new, sent, opened, clicked, won.  Reached
-- (a later step implies the earlier ones): new 1-6; sent 1,2,4,6;
-- opened 1,2,4,6 (4 skipped it); clicked 1,4,6; won 1,4.
SELECT * FROM statusflow.funnel('rep_leads');
-- counting only the steps entered: opened 1,2,6; clicked 1,6; won 1,4
SELECT * FROM statusflow.funnel('rep_leads', later_implies_earlier => false);
-- groups as steps: open 1-6; engaged 1,2,3,4,6 (3 and 4 through closed);
-- closed 1,3,4
SELECT * FROM statusflow.funnel('rep_leads', ARRAY['open', 'engaged', 'closed']);
-- entities that entered from 24 h on: 4, 5, 6
SELECT step, entities, step_conversion, overall_conversion
FROM statusflow.funnel('rep_leads', since => '2024-03-02 00:00+00');
-- account 2: leads 3, 4, 6
SELECT step, entities FROM statusflow.funnel('rep_leads', filter => '{"account": 2}');
-- cohorts by day of entry: March 1st 1,2,3; March 2nd 4,6; March 3rd 5
SELECT * FROM statusflow.funnel_cohorts('rep_leads', ARRAY['new', 'sent', 'won'], 'day');
SELECT cohort, cohort_size, step, entities
FROM statusflow.funnel_cohorts('rep_leads', ARRAY['new', 'won'], 'month');
-- cohorts in another time zone: 1 and 2 entered on February 29th there
SET TIME ZONE 'America/Los_Angeles';
SELECT cohort, cohort_size FROM statusflow.funnel_cohorts('rep_leads', ARRAY['new'], 'day');
SET TIME ZONE 'UTC';

--
-- time_in_status
--
-- until 60 h, open stays end at 60 h.  Stays in hours:
--   new 10, 5, 2, 2, 1 and 12 (5, open)    sent 10, 1, 20, 22, 2
--   opened 10, 1 and 10 (2, open)           clicked 10 and 26 (6, open)
--   won 20, 12 (open)   lost 48 (open)      bounced 24
SELECT status, stays, open_stays, round(extract(epoch FROM mean) / 3600, 2) AS mean_h,
	   round(extract(epoch FROM median) / 3600, 2) AS median_h,
	   round(extract(epoch FROM p90) / 3600, 2) AS p90_h
FROM statusflow.time_in_status('rep_leads', until => '2024-03-03 12:00+00');
-- open stays left out
SELECT status, stays, open_stays, round(extract(epoch FROM mean) / 3600, 2) AS mean_h,
	   round(extract(epoch FROM median) / 3600, 2) AS median_h,
	   round(extract(epoch FROM p90) / 3600, 2) AS p90_h
FROM statusflow.time_in_status('rep_leads', until => '2024-03-03 12:00+00',
							   include_open => false);
-- window [25 h, 35 h) cuts stays: 2 bounced 6-30 counts 5 h, 3 lost 12-...
-- counts 10 h, 4 new 24-26 counts 1 h; stays running at 35 h are open
SELECT status, stays, open_stays, round(extract(epoch FROM mean) / 3600, 2) AS mean_h,
	   round(extract(epoch FROM median) / 3600, 2) AS median_h,
	   round(extract(epoch FROM p90) / 3600, 2) AS p90_h
FROM statusflow.time_in_status('rep_leads', '2024-03-02 01:00+00', '2024-03-02 11:00+00');
-- durations read as days and hours
SELECT status, mean FROM statusflow.time_in_status('rep_leads', until => '2024-03-03 12:00+00')
WHERE status IN ('lost', 'bounced');
-- open stays run until now without until
SELECT status, open_stays, mean > interval '365 days' AS to_now
FROM statusflow.time_in_status('rep_leads') WHERE status = 'lost';

--
-- transition_matrix
--
SELECT * FROM statusflow.transition_matrix('rep_leads');
SELECT * FROM statusflow.transition_matrix('rep_leads', '2024-03-02 00:00+00', '2024-03-03 01:00+00')
WHERE transitions > 0;
-- a pair used but no longer declared
SELECT statusflow.remove_transition('rep_flow', ARRAY['bounced'], 'sent', event => 'resend');
SELECT * FROM statusflow.transition_matrix('rep_leads') WHERE from_status = 'bounced';
SELECT statusflow.add_transition('rep_flow', ARRAY['bounced'], 'sent', event => 'resend');

--
-- stale
--
-- every non-terminal status, oldest entry first; 7 has no history; the last
-- event of 2 is the provider event that was not applied
SELECT key, current_status, entered_at, last_event, last_event_at, last_actor
FROM statusflow.stale('rep_leads', NULL, '3 days');
SELECT key, current_status, entered_at
FROM statusflow.stale('rep_leads', 'engaged', '1 day', filter => '{"account": 2}');
SELECT key FROM statusflow.stale('rep_leads', 'opened', '1 day',
								 since => '2024-03-03 00:00+00', until => '2024-03-04 00:00+00');
SELECT key FROM statusflow.stale('rep_leads', 'opened', '1 day',
								 since => '2024-03-02 00:00+00', until => '2024-03-03 00:00+00');
SELECT count(*) FROM statusflow.stale('rep_leads', 'sent', '0');

-- follow-ups relative to now, in one transaction so that now() is fixed
CREATE TABLE rep_follow (
	id int PRIMARY KEY,
	account int,
	status rep_flow_status NOT NULL
);
INSERT INTO rep_follow VALUES (1, 1, 'sent'), (2, 2, 'sent'), (3, 1, 'new'),
	(4, 1, 'won'), (5, 2, 'sent');
SELECT statusflow.attach('rep_follow', 'status', 'rep_flow', backfill => false);
BEGIN;
INSERT INTO rep_follow_status_history (id, from_status, to_status, event, actor, occurred_at)
VALUES (3, NULL, 'new', NULL, NULL, now() - interval '10 days'),
	   (1, 'new', 'sent', 'send', 'mailer', now() - interval '5 days'),
	   (4, 'clicked', 'won', 'win', 'bo', now() - interval '20 days'),
	   (2, 'new', 'sent', 'send', 'mailer', now() - interval '1 day'),
	   (5, 'new', 'sent', 'send', 'mailer', now() - interval '1 day');
-- no reply for 3 days: only 1
SELECT key, current_status, time_in_status, entered_at = now() - interval '5 days' AS entered
FROM statusflow.stale('rep_follow', 'sent', '3 days');
SELECT key, current_status, time_in_status FROM statusflow.stale('rep_follow', NULL, '1 day');
SELECT key, time_in_status FROM statusflow.stale('rep_follow', 'open', '0',
												 since => now() - interval '7 days');

--
-- queue_position
--
-- the "sent" queue: 1 (5 days), then 2 and 5 (1 day, 2 recorded first)
SELECT status, position, queue_length, entered_at = now() - interval '1 day' AS entered
FROM statusflow.queue_position('rep_follow', 5);
SELECT status, position, queue_length FROM statusflow.queue_position('rep_follow', '2');
SELECT status, position, queue_length
FROM statusflow.queue_position('rep_follow', 5, filter => '{"account": 2}');
SELECT status, position, queue_length FROM statusflow.queue_position('rep_follow', 4::bigint);
-- not in the filtered queue, no row, no history: nothing
SELECT count(*) FROM statusflow.queue_position('rep_follow', 1, filter => '{"account": 2}');
SELECT count(*) FROM statusflow.queue_position('rep_follow', 404);
SELECT count(*) FROM statusflow.queue_position('rep_leads', 7);
-- the dashboard's follow-up list (dates masked)
SELECT regexp_replace(line, '\d{4}-\d\d-\d\d \d\d:\d\d', 'YYYY-MM-DD HH:MI') AS line
FROM statusflow.dashboard('rep_follow', stale_after => '1 day', top => 3) line
WHERE line ~ '^(Stale|  \{)';
COMMIT;

--
-- status_at, timeline
--
SELECT statusflow.status_at('rep_leads', 2, '2024-03-01 05:30+00') AS at_5h30,
	   statusflow.status_at('rep_leads', 2, '2024-03-01 06:00+00') AS at_6h,
	   statusflow.status_at('rep_leads', '2', '2024-03-01 12:00+00') AS at_12h,
	   statusflow.status_at('rep_leads', 2.0, '2024-03-03 04:00+00') AS at_52h,
	   statusflow.status_at('rep_leads', 2::bigint, '2024-02-29 00:00+00') AS before,
	   statusflow.status_at('rep_leads', 404, '2024-03-03 00:00+00') AS no_such;
SELECT history_id, from_status, to_status, event, actor, occurred_at, applied,
	   CASE WHEN time_in_status > interval '365 days' THEN 'until now'
			ELSE round(extract(epoch FROM time_in_status) / 3600, 2)::text END AS hours
FROM statusflow.timeline('rep_leads', 2);
SELECT to_status, occurred_at
FROM statusflow.timeline('rep_leads', '2', '2024-03-01 06:00+00', '2024-03-02 02:00+00');
SELECT count(*) FROM statusflow.timeline('rep_leads', 7);

-- composite keys: a row or its text form, odd characters included
CREATE TABLE rep_shops (
	shop text,
	code int,
	status rep_flow_status NOT NULL,
	PRIMARY KEY (shop, code)
);
INSERT INTO rep_shops VALUES ('north', 1, 'sent'), ('it''s, "odd"', 2, 'new');
SELECT statusflow.attach('rep_shops', 'status', 'rep_flow', backfill => false);
INSERT INTO rep_shops_status_history (shop, code, from_status, to_status, event, occurred_at)
VALUES ('north', 1, NULL, 'new', NULL, '2024-03-01 00:00+00'),
	   ('it''s, "odd"', 2, NULL, 'new', NULL, '2024-03-01 01:00+00'),
	   ('north', 1, 'new', 'sent', 'send', '2024-03-01 10:00+00');
SELECT statusflow.status_at('rep_shops', ROW('north', 1), '2024-03-01 05:00+00') AS row_key,
	   statusflow.status_at('rep_shops', '(north,1)', '2024-03-01 11:00+00') AS text_key,
	   statusflow.status_at('rep_shops', ' (north,1) ', '2024-03-01 11:00+00') AS spaced,
	   statusflow.status_at('rep_shops', ROW('it''s, "odd"', 2), '2024-03-02') AS odd_row,
	   statusflow.status_at('rep_shops', '("it''s, ""odd""",2)', '2024-03-02') AS odd_text;
SELECT to_status, event FROM statusflow.timeline('rep_shops', ROW('north', 1));
SELECT status, position, queue_length FROM statusflow.queue_position('rep_shops', '(north,1)');
SELECT key, current_status FROM statusflow.stale('rep_shops', NULL, '1 day');
-- changes through the triggers and the API appear like any other
INSERT INTO rep_shops VALUES ('south', 3, 'new');
SELECT statusflow.transition('rep_shops', ROW('south', 3), 'sent');
SELECT from_status, to_status FROM statusflow.timeline('rep_shops', ROW('south', 3));
SELECT statusflow.status_at('rep_shops', ROW('south', 3), now()) AS south_now;

--
-- entry_series
--
-- by day (UTC): March 1st new 1,2,3 sent 1,2 opened 1 lost 3 bounced 2;
-- March 2nd new 4,6 sent 2,4,6 opened 6 clicked 1,6 won 1;
-- March 3rd new 5 opened 2 won 4
SELECT * FROM statusflow.entry_series('rep_leads', until => '2024-03-04');
SELECT * FROM statusflow.entry_series('rep_leads', 'week', until => '2024-03-04')
WHERE entries > 0;
SELECT period_start, sum(entries)
FROM statusflow.entry_series('rep_leads', 'day', '2024-03-02', '2024-03-06',
							 filter => '{"account": 2}')
GROUP BY 1 ORDER BY 1;

--
-- empty tables and a single entity
--
CREATE TABLE rep_empty (id int PRIMARY KEY, status rep_flow_status NOT NULL);
SELECT statusflow.attach('rep_empty', 'status', 'rep_flow');
SELECT * FROM statusflow.status_counts('rep_empty');
SELECT * FROM statusflow.status_counts('rep_empty', '-infinity', now());
SELECT * FROM statusflow.group_counts('rep_empty');
SELECT * FROM statusflow.funnel('rep_empty');
SELECT count(*) FROM statusflow.funnel_cohorts('rep_empty');
SELECT * FROM statusflow.time_in_status('rep_empty');
SELECT count(*), sum(transitions) FROM statusflow.transition_matrix('rep_empty');
SELECT count(*) FROM statusflow.stale('rep_empty', NULL, '0');
SELECT count(*) FROM statusflow.entry_series('rep_empty');
SELECT count(*) FROM statusflow.entry_series('rep_empty', 'day', '2024-03-01', '2024-03-03');
SELECT * FROM statusflow.dashboard('rep_empty');

CREATE TABLE rep_one (id int PRIMARY KEY, status rep_flow_status NOT NULL);
INSERT INTO rep_one VALUES (1, 'opened');
SELECT statusflow.attach('rep_one', 'status', 'rep_flow', backfill => false);
INSERT INTO rep_one_status_history (id, from_status, to_status, occurred_at)
VALUES (1, NULL, 'new', '2024-03-01 00:00+00'), (1, 'new', 'sent', '2024-03-01 02:00+00'),
	   (1, 'sent', 'opened', '2024-03-01 03:00+00');
SELECT status, entities, share, entries FROM statusflow.status_counts('rep_one', '-infinity')
WHERE entries > 0;
SELECT * FROM statusflow.funnel('rep_one');
SELECT status, stays, open_stays, round(extract(epoch FROM mean) / 3600, 2) AS mean_h
FROM statusflow.time_in_status('rep_one', until => '2024-03-01 04:00+00') WHERE stays > 0;

--
-- the dashboard
--
SELECT * FROM statusflow.dashboard('rep_leads', stale_after => '100 years');
SELECT * FROM statusflow.dashboard('rep_leads', ARRAY['new', 'won'], stale_after => '100 years',
								   filter => '{"account": 1}');

--
-- errors
--
SELECT * FROM statusflow.status_counts('rep_leads', filter => '{"nosuch": 1}');
SELECT * FROM statusflow.status_counts('rep_leads', filter => '[1]');
SELECT * FROM statusflow.status_counts('rep_leads', filter => '{"account": "x"}');
SELECT * FROM statusflow.status_counts('rep_leads', filter => '{"account": 1, "id": "1.5"}');
SELECT * FROM statusflow.status_counts('rep_leads', '2024-03-02', '2024-03-01');
SELECT * FROM statusflow.status_counts('rep_leads', '2024-03-02', '2024-03-02');
SELECT * FROM statusflow.status_counts('pg_class');
SELECT * FROM statusflow.status_counts('rep_leads', column_name => 'account');
SELECT * FROM statusflow.funnel('rep_leads', ARRAY['new', 'nosuch']);
SELECT * FROM statusflow.funnel('rep_leads', ARRAY['new', 'open']);
SELECT * FROM statusflow.funnel('rep_leads', ARRAY[]::text[]);
SELECT * FROM statusflow.funnel('rep_leads', ARRAY['new', NULL]);
SELECT * FROM statusflow.funnel('rep_leads', later_implies_earlier => NULL);
SELECT * FROM statusflow.funnel_cohorts('rep_leads', period => 'hour');
SELECT * FROM statusflow.entry_series('rep_leads', NULL);
SELECT * FROM statusflow.time_in_status('rep_leads', include_open => NULL);
SELECT * FROM statusflow.stale('rep_leads', 'nosuch', '1 day');
SELECT * FROM statusflow.stale('rep_leads', 'new', NULL);
SELECT statusflow.status_at('rep_leads', 2, NULL);
SELECT statusflow.status_at('rep_leads', NULL::int, now());
SELECT statusflow.status_at('rep_leads', 'abc', now());
SELECT statusflow.status_at('rep_leads', now(), now());
SELECT statusflow.status_at('rep_leads', true, now());
SELECT statusflow.status_at('rep_leads', ROW(1, 2), now());
SELECT statusflow.status_at('rep_shops', 'north', now());
SELECT statusflow.status_at('rep_shops', ROW('north'), now());
SELECT statusflow.status_at('rep_shops', '(north,1,2)', now());
SELECT statusflow.status_at('rep_shops', ROW('north', NULL), now());
SELECT statusflow.status_at('rep_shops', '(north,x)', now());
SELECT * FROM statusflow.timeline('rep_leads', 1, '2024-03-02', '2024-03-01');

-- reports run with the caller's rights: they read the table and its history
GRANT SELECT ON rep_leads TO regress_sf_other;
SET ROLE regress_sf_other;
SELECT * FROM statusflow.funnel('rep_leads');
RESET ROLE;
GRANT SELECT ON rep_leads_status_history TO regress_sf_other;
SET ROLE regress_sf_other;
SELECT step, entities FROM statusflow.funnel('rep_leads', filter => '{"account": 2}');
RESET ROLE;

-- Plans of the main reports on table :"tbl", as executed: auto_explain logs
-- every statement of the report functions that takes 100 ms or more (the
-- generated report queries; 1 ms for the last week's transition matrix) with
-- EXPLAIN ANALYZE, to this session.
\set ON_ERROR_STOP on
LOAD 'auto_explain';
SET auto_explain.log_min_duration = '100ms';
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = off;
SET client_min_messages = log;
\pset footer off
\echo '== status_counts (at a past time: from history)'
SELECT count(*) FROM statusflow.status_counts(:'tbl', until => '2024-07-01');
\echo '== funnel'
SELECT count(*) FROM statusflow.funnel(:'tbl');
\echo '== time_in_status'
SELECT count(*) FROM statusflow.time_in_status(:'tbl');
\echo '== transition_matrix (last week)'
SET auto_explain.log_min_duration = '1ms';
SELECT count(*) FROM statusflow.transition_matrix(:'tbl', since => '2025-01-25');
SET auto_explain.log_min_duration = '100ms';
\echo '== stale'
SELECT count(*) FROM statusflow.stale(:'tbl', 'no_sms_reply', '3 days');
\echo '== entry_series (December, by week)'
SELECT count(*) FROM statusflow.entry_series(:'tbl', 'week', '2024-12-01', '2025-01-01');

/*
 * Comments: \dx+ statusflow, \df+ statusflow.* and \d+ read as a reference.
 */

COMMENT ON SCHEMA statusflow IS
	'statusflow: status workflows enforced in the database (catalog, views, API)';
COMMENT ON SCHEMA statusflow_internal IS
	'statusflow internals: trigger functions and helpers of the statusflow API; not an API';

-- catalog
COMMENT ON TABLE statusflow.workflow IS
	'Workflows: a name and the enum type whose labels are its statuses; owned with that type';
COMMENT ON TABLE statusflow.status IS
	'Statuses of each workflow, one per label of its type, with their metadata and entry condition';
COMMENT ON TABLE statusflow.transition IS
	'Declared transitions of each workflow, with their events and guards';
COMMENT ON TABLE statusflow.quota IS
	'Quotas on entering statuses, per value of a column and calendar period';
COMMENT ON TABLE statusflow.quota_usage IS
	'How much of each quota each scope used in each period (readable by the bound table''s owner)';
COMMENT ON TABLE statusflow.timer IS
	'Timers: rows staying in a status move on by themselves when tick() runs';
COMMENT ON TABLE statusflow.action IS
	'Actions: functions called when a row enters or leaves a status or takes an event';
COMMENT ON TABLE statusflow.feed IS
	'Feeds: each consumer''s cursor over a binding''s history, as transaction snapshots';
COMMENT ON TABLE statusflow.summary IS
	'Summaries: the tables that keep counts of a binding''s history for reports, and the snapshot they count up to';
COMMENT ON TABLE statusflow.binding IS
	'Bindings: a workflow attached to a column of a table, with its history table';

-- views
COMMENT ON VIEW statusflow.workflows IS
	'Every workflow with its statuses, initial and terminal ones, and how many columns are bound to it';
COMMENT ON VIEW statusflow.statuses IS
	'Every status of every workflow, in rank order, with its metadata';
COMMENT ON VIEW statusflow.transitions IS
	'Every declared transition, with its event, kind and guards';
COMMENT ON VIEW statusflow.quotas IS
	'Every quota of every workflow';
COMMENT ON VIEW statusflow.timers IS
	'Every timer of every workflow';
COMMENT ON VIEW statusflow.actions IS
	'Every action of every workflow';
COMMENT ON VIEW statusflow.feeds IS
	'Every feed the current role may read, and whether a read is under way';
COMMENT ON VIEW statusflow.summaries IS
	'Every binding that keeps summaries of its history, their tables and how far they are folded';
COMMENT ON VIEW statusflow.bindings IS
	'Every bound column, with its workflow and history table';

-- defining workflows
COMMENT ON FUNCTION statusflow.create_workflow(text, text[], text[], text[], text, boolean, text, boolean, name) IS
	'Create a workflow: its statuses become an enum type the caller owns, or it takes an existing one';
COMMENT ON FUNCTION statusflow.add_transition(text, text[], text, text, text, text, text[], text, boolean, integer, boolean) IS
	'Declare a transition from each of some statuses, with its event and guards';
COMMENT ON FUNCTION statusflow.remove_transition(text, text[], text, text) IS
	'Remove declared transitions';
COMMENT ON FUNCTION statusflow.add_status(text, text, text, text, text, text, boolean, boolean) IS
	'Add a status to a workflow (a label to its enum type), placed by rank';
COMMENT ON FUNCTION statusflow.set_status_info(text, text, text, text, boolean, boolean, text, boolean, jsonb) IS
	'Change the metadata, condition, flags or attributes of a status';
COMMENT ON FUNCTION statusflow.drop_workflow(text, boolean) IS
	'Drop a workflow that no column is bound to, and its type';
COMMENT ON FUNCTION statusflow.set_workflow_info(text, text, boolean) IS
	'Change the description of a workflow, or whether ingestion may move rows back in rank';
COMMENT ON FUNCTION statusflow.set_quota(text, text[], name, integer, text, text) IS
	'Limit the entries into statuses per value of a column and calendar period';
COMMENT ON FUNCTION statusflow.remove_quota(text, text[]) IS
	'Remove a quota';
COMMENT ON FUNCTION statusflow.add_timer(text, text, interval, name, text, text) IS
	'Move rows that stay in a status for a while, or until a time, when tick() runs';
COMMENT ON FUNCTION statusflow.remove_timer(integer) IS
	'Remove a timer';
COMMENT ON FUNCTION statusflow.add_action(text, regprocedure, text, text, text) IS
	'Call a function f(change jsonb) when a row enters a status, leaves one, or takes an event';
COMMENT ON FUNCTION statusflow.remove_action(integer) IS
	'Remove an action';
COMMENT ON FUNCTION statusflow.presets() IS
	'The ready workflows install_preset() can create';
COMMENT ON FUNCTION statusflow.install_preset(text, name, text, jsonb) IS
	'Create one of the ready workflows, owned by the caller';

-- introspection
COMMENT ON FUNCTION statusflow.allowed_transitions(text, text) IS
	'The transitions leaving a status of a workflow';
COMMENT ON FUNCTION statusflow.can_transition(text, text, text) IS
	'Whether a workflow lets the current role take a row from one status to another';
COMMENT ON FUNCTION statusflow.check_workflow(text) IS
	'Problems of a workflow: unreachable statuses and dead ends';
COMMENT ON FUNCTION statusflow.to_dot(text) IS
	'A workflow as a Graphviz DOT diagram';
COMMENT ON FUNCTION statusflow.to_mermaid(text) IS
	'A workflow as a Mermaid diagram';

-- binding tables
COMMENT ON FUNCTION statusflow.attach(regclass, name, text, text, boolean, name) IS
	'Bind a column of a table to a workflow: install its triggers, create its history table';
COMMENT ON FUNCTION statusflow.detach(regclass, name) IS
	'Unbind a column: remove its triggers (its history table stays)';
COMMENT ON FUNCTION statusflow.distribute(regclass, name, text, integer) IS
	'On a Citus coordinator: distribute a bound table and its history tables, co-located, keeping enforcement';
COMMENT ON FUNCTION statusflow.set_notify(regclass, text, name) IS
	'NOTIFY a channel of every committed status change of a bound column';
COMMENT ON FUNCTION statusflow.prune_history(regclass, timestamp with time zone, boolean, name) IS
	'Delete history recorded before a time, keeping each entity''s latest row';

-- changing statuses
COMMENT ON FUNCTION statusflow.transition(regclass, anyelement, text, text, jsonb, text, timestamp with time zone, name, text) IS
	'Move one row to a status, with a reason, metadata, actor and time';
COMMENT ON FUNCTION statusflow.transition(regclass, text, text, text, jsonb, text, timestamp with time zone, name, text) IS
	'Move one row, its key given as text, to a status';
COMMENT ON FUNCTION statusflow.fire(regclass, anyelement, text, text, jsonb, text, timestamp with time zone, name, text) IS
	'Apply an event to one row, from whatever status it is in';
COMMENT ON FUNCTION statusflow.fire(regclass, text, text, text, jsonb, text, timestamp with time zone, name, text) IS
	'Apply an event to one row, its key given as text';
COMMENT ON FUNCTION statusflow.next_transitions(regclass, anyelement, name) IS
	'What a row may do next: every transition from its status, open to the current role or not, and why';
COMMENT ON FUNCTION statusflow.next_transitions(regclass, text, name) IS
	'What a row, its key given as text, may do next';
COMMENT ON FUNCTION statusflow.explain_transition(regclass, text, text, text, text, name) IS
	'What one change would do, tried and rolled back: the status it would end in, or its error';
COMMENT ON FUNCTION statusflow.create_feed(regclass, text, regrole, boolean, name) IS
	'Create a change feed of a bound table for a consumer, read by a role';
COMMENT ON FUNCTION statusflow.drop_feed(regclass, text, name) IS
	'Drop a change feed';
COMMENT ON FUNCTION statusflow.read_feed(regclass, text, integer, name) IS
	'The changes committed since the feed''s last read, in commit order; the cursor moves with the transaction';
COMMENT ON FUNCTION statusflow.transition_many(regclass, text, text, text, jsonb, text, timestamp with time zone, name) IS
	'Move many rows, their keys given as an array literal (''{1,2,3}''), to a status';
COMMENT ON FUNCTION statusflow.fire_many(regclass, text, text, text, jsonb, text, timestamp with time zone, name) IS
	'Apply an event to many rows, their keys given as an array literal';
COMMENT ON FUNCTION statusflow.transition_many(regclass, anyarray, text, text, jsonb, text, timestamp with time zone, name) IS
	'Move many rows to a status, all or nothing';
COMMENT ON FUNCTION statusflow.fire_many(regclass, anyarray, text, text, jsonb, text, timestamp with time zone, name) IS
	'Apply an event to many rows, all or nothing';
COMMENT ON FUNCTION statusflow.tick(integer) IS
	'Apply the timers that are due, to the tables the caller may update, as their owners';
COMMENT ON FUNCTION statusflow.ingest(regclass, anyelement, text, timestamp with time zone, text, jsonb, name) IS
	'Apply a provider''s receipt (a status or an event) at most once, never moving back in a monotonic workflow';
COMMENT ON FUNCTION statusflow.ingest(regclass, text, text, timestamp with time zone, text, jsonb, name) IS
	'Apply a provider''s receipt, the key given as text';
COMMENT ON FUNCTION statusflow.ingest_batch(regclass, anyarray, text[], timestamp with time zone[], text[], jsonb[], name) IS
	'Apply many provider receipts, one per array element, with the outcomes ingest() would give each in turn';
COMMENT ON FUNCTION statusflow.ingest_batch(regclass, text, text[], timestamp with time zone[], text[], jsonb[], name) IS
	'Apply many provider receipts, their keys given as an array literal (''{1,2,3}'')';

-- reports
COMMENT ON FUNCTION statusflow.entries(regclass, anyelement, text, name) IS
	'How many times a row entered a status';
COMMENT ON FUNCTION statusflow.entries(regclass, text, text, name) IS
	'How many times a row, its key given as text, entered a status';
COMMENT ON FUNCTION statusflow.status_counts(regclass, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entities per status now or at a time, and entries in a window';
COMMENT ON FUNCTION statusflow.group_counts(regclass, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entities per group of statuses now or at a time, and entries in a window';
COMMENT ON FUNCTION statusflow.funnel(regclass, text[], timestamp with time zone, timestamp with time zone, jsonb, boolean, name) IS
	'Entities that reached each step, with step and overall conversion';
COMMENT ON FUNCTION statusflow.funnel_cohorts(regclass, text[], text, timestamp with time zone, timestamp with time zone, jsonb, boolean, name) IS
	'The funnel per day, week or month of entry';
COMMENT ON FUNCTION statusflow.time_in_status(regclass, timestamp with time zone, timestamp with time zone, jsonb, boolean, name) IS
	'Stays in each status: how many, mean, median and 90th percentile';
COMMENT ON FUNCTION statusflow.transition_matrix(regclass, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Changes counted by from and to status, and whether each pair is declared';
COMMENT ON FUNCTION statusflow.stale(regclass, text, interval, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entities in a status for too long, oldest first, with their last event';
COMMENT ON FUNCTION statusflow.queue_position(regclass, anyelement, jsonb, name) IS
	'Where a row stands among those in its status, by entry time';
COMMENT ON FUNCTION statusflow.queue_position(regclass, text, jsonb, name) IS
	'Where a row, its key given as text, stands among those in its status';
COMMENT ON FUNCTION statusflow.status_at(regclass, anyelement, timestamp with time zone, name) IS
	'The status of a row at a time';
COMMENT ON FUNCTION statusflow.status_at(regclass, text, timestamp with time zone, name) IS
	'The status of a row, its key given as text, at a time';
COMMENT ON FUNCTION statusflow.timeline(regclass, anyelement, timestamp with time zone, timestamp with time zone, name) IS
	'The history of a row, with the time spent in each status';
COMMENT ON FUNCTION statusflow.timeline(regclass, text, timestamp with time zone, timestamp with time zone, name) IS
	'The history of a row, its key given as text';
COMMENT ON FUNCTION statusflow.entry_series(regclass, text, timestamp with time zone, timestamp with time zone, jsonb, name) IS
	'Entries into each status per day, week or month';
COMMENT ON FUNCTION statusflow.dashboard(regclass, text[], interval, integer, jsonb, name) IS
	'Counts, groups, the funnel and stale entities of a bound column, as text for psql';
COMMENT ON FUNCTION statusflow.enable_summaries(regclass, interval, name) IS
	'Keep summaries of a table''s history in buckets of a period, so that reports do not read all of it';
COMMENT ON FUNCTION statusflow.disable_summaries(regclass, name) IS
	'Stop keeping summaries of a table''s history, and drop them';
COMMENT ON FUNCTION statusflow.refresh_summaries(regclass, boolean, name) IS
	'Fold the history rows committed since the last time into summaries (tick() does it too)';

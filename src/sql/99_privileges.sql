/*
 * Privileges
 *
 * Every function in schema statusflow is the documented API, executable by
 * PUBLIC.  In statusflow_internal, nothing is executable by PUBLIC except
 * the helpers that the API's functions, running with the caller's rights,
 * call on the caller's behalf (and that row-level security policies call).
 * Each of those checks its arguments and can do nothing the caller could
 * not do by writing the same SQL.  Trigger functions, the event trigger
 * functions and what runs as the extension's owner stay private.
 */

GRANT USAGE ON SCHEMA statusflow TO PUBLIC;
GRANT USAGE ON SCHEMA statusflow_internal TO PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON statusflow.workflow, statusflow.status,
	statusflow.transition, statusflow.binding, statusflow.quota,
	statusflow.quota_usage, statusflow.timer, statusflow.action, statusflow.feed,
	statusflow.summary TO PUBLIC;
-- SELECT too: pg_dump of the schema, run by an application's role, reads them
GRANT USAGE, SELECT ON SEQUENCE statusflow.transition_id_seq,
	statusflow.binding_id_seq, statusflow.quota_id_seq,
	statusflow.timer_id_seq, statusflow.action_id_seq TO PUBLIC;
GRANT SELECT ON statusflow.statuses, statusflow.workflows,
	statusflow.transitions, statusflow.quotas, statusflow.timers,
	statusflow.bindings, statusflow.actions, statusflow.feeds, statusflow.summaries TO PUBLIC;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA statusflow_internal FROM PUBLIC;

DO $$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		-- row-level security policies of the catalog, catalog checks
		'owns_type', 'owns_workflow', 'owns_relation', 'owns_binding',
		'check_condition', 'is_temporary',
		-- the definition and binding API
		'workflow', 'check_owner', 'require', 'check_statuses', 'adopted_labels',
		'qualified_name', 'roles', 'check_condition_everywhere', 'check_fits',
		'check_timers', 'sync_binding', 'binding', 'trigger_names', 'create_history',
		'check_action',
		'adopt_history', 'owns_history',
		-- Citus
		'citus_present', 'citus_worker', 'citus_table', 'check_citus_table',
		'citus_allow_triggers', 'citus_setup', 'citus_context', 'citus_set_local', 'citus_history_id', 'citus_shard_of', 'check_citus_quota',
		'check_not_distributed', 'check_coordinator', 'check_quota_column', 'check_distribute',
		'is_event_id_index', 'distribute_history', 'citus_publish', 'citus_reload_catalog',
		-- presets
		'describe_statuses', 'option', 'preset_review_request',
		'preset_establishment_invitation', 'preset_beta', 'preset_beta_prelaunch',
		'preset_beta_general', 'preset_sms_outreach', 'preset_loyalty_connection',
		-- reports
		'check_window', 'window_sql', 'entry_sql', 'each_key', 'history_sql', 'key_json_sql', 'key_match_sql',
		'filter_sql', 'history_filter_sql', 'statuses_named', 'check_period',
		'rows_sql', 'entities', 'stay_stats', 'moves_sql', 'current_sql',
		'key_object', 'ranks', 'main_path', 'counts', 'funnel', 'seconds',
		'queue_position', 'status_at', 'timeline', 'bar', 'percent',
		'short_interval',
		-- summaries: the reports' (the caller's rights), the folds' (run as
		-- the history table's owner, who cannot fold anyone else's), the
		-- summary tables' policy
		'index_txid', 'bucket', 'block', 'system_id', 'fold', 'fold_columns', 'fold_keys',
		'may_read_summaries', 'summary_for', 'tail_sql', 'tail_moves_sql', 'counts_sql', 'summary_sql', 'on_bucket',
		'periods_on_buckets', 'summary_stays', 'fold_snapshot', 'fold_summaries',
		'fold_as_owner', 'entity_columns', 'create_summary_tables', 'drop_summaries',
		'tick_summaries', 'summary_status_at_sql', 'funnel_masks_sql', 'cohort_sql',
		'stale_top',
		-- diagrams
		'edge_label', 'action_names', 'dot_string', 'mermaid_string', 'diagram_nodes',
		'diagram_edges'] LOOP
		EXECUTE (SELECT pg_catalog.string_agg(
						 pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC',
										   p.oid::pg_catalog.regprocedure), '; ')
				 FROM pg_catalog.pg_proc p
				 WHERE p.pronamespace OPERATOR(pg_catalog.=)
					   'statusflow_internal'::pg_catalog.regnamespace
				   AND p.proname OPERATOR(pg_catalog.=) f);
	END LOOP;
END
$$;

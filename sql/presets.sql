-- The presets as installed: every status and transition, so that a change
-- to a preset shows here.  (test/presets.sql checks them against the seeds.)
\set SHOW_CONTEXT never

SELECT preset, title, seed, options FROM statusflow.presets();
CREATE SCHEMA preset_check;
SELECT p.preset, statusflow.install_preset(p.preset, 'preset_check', 'pc_' || p.preset,
	options => CASE WHEN p.preset = 'loyalty_connection'
					THEN '{"business_role": "regress_sf_business", "customer_role": "regress_sf_customer"}'
					ELSE '{}' END::jsonb) AS status_type
FROM statusflow.presets() p;
SELECT workflow, status, group_name, is_initial AS initial, is_terminal AS terminal, condition
FROM statusflow.statuses WHERE workflow LIKE 'pc\_%' ORDER BY workflow, rank;
SELECT workflow, from_status, coalesce(to_status, '(previous)') AS to_status, event, kind,
	   roles, condition, require_reason, max_uses
FROM statusflow.transitions WHERE workflow LIKE 'pc\_%'
  AND workflow <> 'pc_sms_outreach';
-- the outreach list: automatic flips, and any status to a manual one
SELECT from_status, to_status, event, condition FROM statusflow.transitions
WHERE workflow = 'pc_sms_outreach' AND (from_status = 'new_account' OR kind = 'automatic');
SELECT to_status, count(*) AS from_statuses FROM statusflow.transitions
WHERE workflow = 'pc_sms_outreach' AND kind = 'manual' GROUP BY to_status ORDER BY 1;
SELECT workflow, statuses, per_column, max_entries, period, overflow_status
FROM statusflow.quotas WHERE workflow LIKE 'pc\_%';
-- options
SELECT statusflow.install_preset('beta_general', 'preset_check', 'pc_no_optin',
								 options => '{"double_opt_in": false}');
SELECT status, is_initial FROM statusflow.statuses WHERE workflow = 'pc_no_optin' ORDER BY rank;
SELECT * FROM statusflow.check_workflow('pc_no_optin');
SELECT statusflow.install_preset('review_request', 'preset_check', 'pc_no_limit',
								 options => '{"monthly_limit": null}');
SELECT count(*) AS quotas FROM statusflow.quotas WHERE workflow = 'pc_no_limit';
-- errors
SELECT statusflow.install_preset('nosuch');
SELECT statusflow.install_preset(NULL);
SELECT statusflow.install_preset('loyalty_connection', 'preset_check', 'pc_loyalty_2');
SELECT statusflow.install_preset('review_request', 'preset_check', 'pc_review_request');
SELECT statusflow.install_preset('review_request', 'nosuchschema');
SELECT statusflow.install_preset('review_request', 'preset_check', 'pc_x', options => '[1]');

/*
 * Presets: the five seed systems as ready workflows.
 *
 * statusflow.install_preset() creates a preset's workflow with the ordinary
 * definition API, as the caller, who then owns it and may adapt it.  Status
 * meanings are written in our own words after the seed pages; docs/presets.md
 * lists every choice made where a page is silent.
 */

/* The presets, their seed page, and the options install_preset() takes. */
CREATE FUNCTION statusflow.presets()
RETURNS TABLE (preset text, title text, seed text, options text,
			   description text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	VALUES
	('review_request', 'Review request', '000_d3cf30be709d8f3d.txt',
	 'channel_column (channel), account_column (account_id), monthly_limit (100), send_at_column (send_at)',
	 'Invitations to review a business, sent by SMS or email, with channel-only statuses, a monthly limit per account, happy and unhappy answers.'),
	('establishment_invitation', 'Establishment invitation', '001_fdf066295581bf56.txt',
	 'regenerate_limit (1), email_column (email), on_accepted (none)',
	 'B2B onboarding invitations to establishments, with the export''s exact labels and the interface''s coarse statuses as groups.'),
	('beta_prelaunch', 'Beta campaign, pre-launch', '002_43b062ba0c51da41.txt',
	 'double_opt_in (true), idle_days (none), checkin_column (last_checkin_at)',
	 'A pre-launch waiting list: the page''s transition table, idle users, suspension on a hard bounce and unsuspension to the previous status.'),
	('beta_general', 'Beta campaign, general', '002_43b062ba0c51da41.txt',
	 'double_opt_in (true)',
	 'A general referral campaign: the page''s shorter transition table, with suspension and unsuspension.'),
	('sms_outreach', 'SMS outreach list', '003_69b179d6913b4961.txt',
	 'interaction_column (interaction)',
	 'Sales outreach by SMS: automatic statuses that follow the direction of the last message, manual statuses logged with an activity, call-only outcomes.'),
	('loyalty_connection', 'Loyalty connection', '004_4f48363088db7e56.txt',
	 'business_role, customer_role (both required)',
	 'Business-to-customer loyalty connections, with what the business and the customer may each do.')
$$;

/*
 * Set the group, description, condition and attributes of statuses from a
 * JSON array of {"status", "group", "description", "condition",
 * "attributes"} objects.
 */
CREATE FUNCTION statusflow_internal.describe_statuses(workflow text, info jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s jsonb;
BEGIN
	FOR s IN SELECT jsonb_array_elements(info) LOOP
		PERFORM statusflow.set_status_info(workflow, s->>'status',
										   description => s->>'description',
										   group_name => s->>'group',
										   condition => s->>'condition',
										   attributes => s->'attributes');
	END LOOP;
END
$$;

/* An option of a preset: its value, else the default. */
CREATE FUNCTION statusflow_internal.option(options jsonb, name text, fallback text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(options->>name, fallback)
$$;

/* Seed 000: review requests by SMS or email. */
CREATE FUNCTION statusflow_internal.preset_review_request(wf text, type_name text,
												  options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	channel text := quote_ident(statusflow_internal.option(options, 'channel_column', 'channel'));
	sms text := channel || ' = ''sms''';
	email text := channel || ' = ''email''';
	-- {"monthly_limit": null} installs no quota
	monthly_limit integer := CASE WHEN options ? 'monthly_limit'
								  THEN (options->>'monthly_limit')::integer ELSE 100 END;
	-- {"send_at_column": null} installs no timer
	send_at name := CASE WHEN options ? 'send_at_column' THEN options->>'send_at_column'
						 ELSE 'send_at' END;
	on_sms jsonb := '{"channel": "sms"}';
	on_email jsonb := '{"channel": "email"}';
	follow_up jsonb := '{"follow_up": true}';
BEGIN
	PERFORM statusflow.create_workflow(wf,
		ARRAY['scheduled', 'limit_reached', 'sms_sent', 'clicked_link', 'email_sent',
			  'opened', 'clicked_happy', 'promoter_retargeting', 'clicked_review_site',
			  'clicked_unhappy', 'provided_feedback', 'sms_failed', 'email_failed'],
		initial => ARRAY['scheduled'],
		terminal => ARRAY['clicked_review_site', 'provided_feedback'],
		type_name => type_name,
		description => 'Review requests sent to customers by SMS or email (seed 000).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'scheduled', 'group', 'scheduled',
			'description', 'Waits for its send time; shown as "Sending in X hours".'),
		jsonb_build_object('status', 'limit_reached', 'group', 'not sent',
			'description', 'Not sent: the account used up its monthly invitation limit.'),
		jsonb_build_object('status', 'sms_sent', 'group', 'sent', 'condition', sms, 'attributes', on_sms,
			'description', 'The SMS reached the contact''s phone.'),
		jsonb_build_object('status', 'clicked_link', 'group', 'engaged', 'condition', sms, 'attributes', on_sms,
			'description', 'The contact opened the link of the SMS but has not said yet whether they were happy. SMS only.'),
		jsonb_build_object('status', 'email_sent', 'group', 'sent', 'condition', email, 'attributes', on_email,
			'description', 'The email reached the inbox and has not been opened yet.'),
		jsonb_build_object('status', 'opened', 'group', 'engaged', 'condition', email, 'attributes', on_email,
			'description', 'The contact opened the email but has not said yet whether they were happy. Email only.'),
		jsonb_build_object('status', 'clicked_happy', 'group', 'happy',
			'description', 'The contact said they were happy and has not gone on to leave a review yet.'),
		jsonb_build_object('status', 'promoter_retargeting', 'group', 'happy',
			'description', 'A happy contact who had not reviewed got a promoter retargeting email.'),
		jsonb_build_object('status', 'clicked_review_site', 'group', 'happy',
			'description', 'A happy contact went on to the review site; they may still not have posted.'),
		jsonb_build_object('status', 'clicked_unhappy', 'group', 'unhappy', 'attributes', follow_up,
			'description', 'The contact said they were unhappy without saying why yet: a good moment to call.'),
		jsonb_build_object('status', 'provided_feedback', 'group', 'unhappy', 'attributes', follow_up,
			'description', 'An unhappy contact explained what went wrong on the private feedback page: reach out soon.'),
		jsonb_build_object('status', 'sms_failed', 'group', 'failed', 'condition', sms, 'attributes', on_sms,
			'description', 'The SMS could not leave the gateway (connection or system problem). If it keeps happening, contact support.'),
		jsonb_build_object('status', 'email_failed', 'group', 'failed', 'condition', email, 'attributes', on_email,
			'description', 'The email could not be sent (badly formed address, connection or system problem). If it keeps happening, contact support.')));

	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'sms_sent', event => 'send');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'email_sent', event => 'send');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'sms_failed', event => 'fail', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'email_failed', event => 'fail', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_failed', 'email_failed'], 'scheduled', event => 'retry');
	PERFORM statusflow.add_transition(wf, ARRAY['scheduled'], 'limit_reached', event => 'limit', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['limit_reached'], 'scheduled', event => 'reschedule');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_sent'], 'clicked_link', event => 'click', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['email_sent'], 'opened', event => 'open', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_sent', 'clicked_link', 'email_sent', 'opened'],
									  'clicked_happy', event => 'happy', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_sent', 'clicked_link', 'email_sent', 'opened'],
									  'clicked_unhappy', event => 'unhappy', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['clicked_happy'], 'promoter_retargeting',
									  event => 'retarget', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['clicked_happy', 'promoter_retargeting'],
									  'clicked_review_site', event => 'review', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['clicked_unhappy'], 'provided_feedback',
									  event => 'feedback', kind => 'automatic');
	IF monthly_limit IS NOT NULL THEN
		PERFORM statusflow.set_quota(wf, ARRAY['sms_sent', 'email_sent'],
									 statusflow_internal.option(options, 'account_column', 'account_id'),
									 monthly_limit, 'month', overflow_status => 'limit_reached');
	END IF;
	-- "Sending in X hours": tick() sends a scheduled invitation at its time,
	-- through the send event, so the monthly limit applies there too
	IF send_at IS NOT NULL THEN
		PERFORM statusflow.add_timer(wf, 'scheduled', at_column => send_at, event => 'send');
	END IF;
END
$$;

/* Seed 001: invitations of establishments, with the export's labels. */
CREATE FUNCTION statusflow_internal.preset_establishment_invitation(wf text, type_name text,
															options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- provider receipts arrive in any order: monotonic ingestion climbs to
	-- the furthest status reported and keeps older receipts as late
	PERFORM statusflow.create_workflow(wf,
		ARRAY['invited', 'invitationSent', 'invitationBounce', 'invitationReceived',
			  'invitationOpened', 'invitationViewed', 'invitationReviewed', 'objected',
			  'accepted'],
		initial => ARRAY['invited'],
		terminal => ARRAY['accepted'],
		type_name => type_name,
		monotonic => true,
		description => 'Invitations of establishments to register (seed 001).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'invited', 'group', 'not invited',
			'description', 'Imported into the store manager; no invitation sent yet.'),
		jsonb_build_object('status', 'invitationSent', 'group', 'invited',
			'description', 'The platform sent the invitation.'),
		jsonb_build_object('status', 'invitationBounce', 'group', 'invited',
			'description', 'The establishment''s email address is invalid.'),
		jsonb_build_object('status', 'invitationReceived', 'group', 'invited',
			'description', 'The invitation reached the recipient''s mailbox.'),
		jsonb_build_object('status', 'invitationOpened', 'group', 'invited',
			'description', 'The invitation email was opened at least once.'),
		jsonb_build_object('status', 'invitationViewed', 'group', 'invited',
			'description', 'The user reached the confirmation page, from the email or from the login page with their reference or code.'),
		jsonb_build_object('status', 'invitationReviewed', 'group', 'invited',
			'description', 'The user confirmed being the intended recipient.'),
		jsonb_build_object('status', 'objected', 'group', 'declined',
			'description', 'The user declined the invitation. Not necessarily the end: try another channel.'),
		jsonb_build_object('status', 'accepted', 'group', 'accepted',
			'attributes', '{"establishment_status": "ACTIVATED"}'::jsonb,
			'description', 'The user accepted; the establishment is activated.')));

	PERFORM statusflow.add_transition(wf, ARRAY['invited'], 'invitationSent', event => 'send');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationSent'], 'invitationBounce',
									  event => 'bounce', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationSent'], 'invitationReceived',
									  event => 'deliver', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationReceived'], 'invitationOpened',
									  event => 'open', kind => 'automatic');
	-- each opening is recorded: "opened at least once", and how often
	PERFORM statusflow.add_transition(wf, ARRAY['invitationOpened'], 'invitationOpened',
									  event => 'open', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationSent', 'invitationBounce',
												'invitationReceived', 'invitationOpened'],
									  'invitationViewed', event => 'view', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationViewed'], 'invitationReviewed',
									  event => 'confirm');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationReviewed'], 'accepted', event => 'accept');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationViewed', 'invitationReviewed'],
									  'objected', event => 'decline');
	PERFORM statusflow.add_transition(wf, ARRAY['invitationBounce'], 'invitationSent',
									  event => 'resend',
									  condition => pg_catalog.format('NEW.%1$I IS DISTINCT FROM OLD.%1$I',
										  statusflow_internal.option(options, 'email_column', 'email')),
									  description => 'Reinvite after changing the recipient''s email: one UPDATE sets the new address and the status.');
	PERFORM statusflow.add_transition(wf, ARRAY['objected'], 'invitationSent',
									  event => 'regenerate', require_reason => true,
									  max_uses => statusflow_internal.option(options, 'regenerate_limit', '1')::integer,
									  description => 'Regenerate the invitation of an establishment that declined. Use sparingly.');
	-- the establishment becomes ACTIVATED: a function of the application's
	IF options ? 'on_accepted' THEN
		PERFORM statusflow.add_action(wf, (options->>'on_accepted')::regprocedure,
									  on_enter => 'accepted');
	END IF;
END
$$;

/*
 * Seed 002: the statuses shared by both beta campaigns, the suspension on a
 * hard bounce and the unsuspension back to the status held before.
 */
CREATE FUNCTION statusflow_internal.preset_beta(wf text, type_name text, options jsonb,
										statuses text[], suspendable text[],
										description text)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	double_opt_in boolean := statusflow_internal.option(options, 'double_opt_in', 'true')::boolean;
BEGIN
	PERFORM statusflow.create_workflow(wf, statuses,
		initial => CASE WHEN double_opt_in THEN ARRAY['imported', 'unconfirmed']
						ELSE ARRAY['imported', 'applied'] END,
		type_name => type_name, description => description);
	-- the campaigns share the meanings of the statuses they have in common
	PERFORM statusflow_internal.describe_statuses(wf, (
		SELECT jsonb_agg(d) FROM jsonb_array_elements(jsonb_build_array(
		jsonb_build_object('status', 'imported', 'group', 'prospect',
			'description', 'You imported this user.'),
		jsonb_build_object('status', 'unconfirmed', 'group', 'prospect',
			'description', 'Signed up but has not clicked the opt-in confirmation link yet. Exists only with double opt-in.'),
		jsonb_build_object('status', 'applied', 'group', 'waiting list',
			'attributes', '{"waiting_list": true}'::jsonb,
			'description', 'Applied for access (confirmed, with double opt-in): on the waiting list.'),
		jsonb_build_object('status', 'rejected', 'group', 'excluded',
			'description', 'You rejected the application.'),
		jsonb_build_object('status', 'invited', 'group', 'participant',
			'description', 'Approved and invited to participate.'),
		jsonb_build_object('status', 'active', 'group', 'participant',
			'description', 'Actively participating.'),
		jsonb_build_object('status', 'idle', 'group', 'participant',
			'description', 'Has not checked in within the idle days you set.'),
		jsonb_build_object('status', 'suspended', 'group', 'excluded',
			'attributes', '{"receives_email": false, "shares_referral_link": false, "referrals_count": false}'::jsonb,
			'description', 'Email and referral-link sharing are disabled and shares and referrals do not count; automatic on a hard bounce.'))) d
		WHERE d->>'status' = ANY (statuses)));

	PERFORM statusflow.add_transition(wf, ARRAY['imported'], 'applied', event => 'apply');
	PERFORM statusflow.add_transition(wf, ARRAY['unconfirmed'], 'applied', event => 'confirm',
									  kind => 'automatic');
	PERFORM statusflow.add_transition(wf, suspendable, 'suspended', event => 'suspend');
	-- "any email to them results in a hard bounce": from every status (the
	-- page's notes), where its table lists fewer (see docs/presets.md)
	PERFORM statusflow.add_transition(wf,
		array(SELECT x FROM unnest(statuses) x WHERE x <> 'suspended'),
		'suspended', event => 'hard_bounce', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['suspended'], NULL, event => 'unsuspend',
									  restore_previous => true);
END
$$;

/*
 * Seed 002, pre-launch campaigns: the page's first table.  With idle_days,
 * active users whose last check-in (checkin_column) is older go idle when
 * tick() runs.
 */
CREATE FUNCTION statusflow_internal.preset_beta_prelaunch(wf text, type_name text,
												  options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	idle_days integer := (options->>'idle_days')::integer;
BEGIN
	IF idle_days < 1 THEN
		RAISE EXCEPTION 'idle_days must be a whole number of days, at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM statusflow_internal.preset_beta(wf, type_name, options,
		ARRAY['imported', 'unconfirmed', 'applied', 'rejected', 'invited', 'active',
			  'idle', 'suspended'],
		ARRAY['imported', 'unconfirmed', 'applied', 'invited', 'rejected', 'active'],
		'A pre-launch beta waiting list (seed 002, pre-launch campaigns).');
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'applied', 'rejected'], 'invited',
									  event => 'invite');
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'applied', 'invited'], 'rejected',
									  event => 'reject');
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'applied', 'invited', 'rejected'],
									  'active', event => 'activate');
	PERFORM statusflow.add_transition(wf, ARRAY['active'], 'idle', event => 'go_idle',
									  kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['idle'], 'active', event => 'check_in',
									  kind => 'automatic');
	IF idle_days IS NOT NULL THEN
		PERFORM statusflow.add_timer(wf, 'active', after => make_interval(days => idle_days),
			at_column => statusflow_internal.option(options, 'checkin_column', 'last_checkin_at'),
			event => 'go_idle');
	END IF;
END
$$;

/* Seed 002, general campaigns: the page's second table. */
CREATE FUNCTION statusflow_internal.preset_beta_general(wf text, type_name text,
												options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.preset_beta(wf, type_name, options,
		ARRAY['imported', 'unconfirmed', 'applied', 'suspended'],
		ARRAY['imported', 'unconfirmed', 'applied'],
		'A general referral campaign (seed 002, general campaigns).');
END
$$;

/* Seed 003: SMS outreach lists. */
CREATE FUNCTION statusflow_internal.preset_sms_outreach(wf text, type_name text,
												options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	automatic text[] := ARRAY['new_account', 'no_sms_reply', 'sms_in_progress'];
	manual text[] := ARRAY['sale_in_progress', 'satisfied', 'no_sale', 'sold',
						   'no_answer', 'left_voicemail', 'wrong_number'];
	call_only text[] := ARRAY['no_answer', 'left_voicemail', 'wrong_number'];
	call text := quote_ident(statusflow_internal.option(options, 'interaction_column', 'interaction'))
				 || ' = ''call''';
	outcome text;
BEGIN
	PERFORM statusflow.create_workflow(wf, automatic || manual,
		initial => ARRAY['new_account'], type_name => type_name,
		description => 'Sales outreach by SMS (seed 003).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'new_account', 'group', 'automatic',
			'description', 'Just added to a smart list, such as a new lead. Who are my new accounts?'),
		jsonb_build_object('status', 'no_sms_reply', 'group', 'automatic',
			'description', 'You sent the last text message, replied to or not. Who has not answered my last message? A gentle nudge may restart the conversation.'),
		jsonb_build_object('status', 'sms_in_progress', 'group', 'automatic',
			'description', 'The customer answered your last text message: your turn to reply.'),
		jsonb_build_object('status', 'sale_in_progress', 'group', 'manual',
			'description', 'A sale is being completed. Which customers have we not closed yet?'),
		jsonb_build_object('status', 'satisfied', 'group', 'manual',
			'description', 'No sale: the customer is satisfied with their current product or service.'),
		jsonb_build_object('status', 'no_sale', 'group', 'manual',
			'description', 'The conversation did not lead to a sale.'),
		jsonb_build_object('status', 'sold', 'group', 'manual',
			'description', 'A completed sale: a purchase, an activation or a renewal.'),
		jsonb_build_object('status', 'no_answer', 'group', 'manual', 'condition', call,
			'description', 'The customer did not answer your call. Calls only.'),
		jsonb_build_object('status', 'left_voicemail', 'group', 'manual', 'condition', call,
			'description', 'The customer did not answer and you left a voicemail. Calls only.'),
		jsonb_build_object('status', 'wrong_number', 'group', 'manual', 'condition', call,
			'description', 'The number you called is not the intended recipient''s. Calls only.')));

	-- automatic statuses follow the direction of the last message
	PERFORM statusflow.add_transition(wf, ARRAY['new_account', 'sms_in_progress'], 'no_sms_reply',
									  event => 'message_out', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['no_sms_reply'], 'no_sms_reply',
									  event => 'message_out', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['new_account', 'no_sms_reply'], 'sms_in_progress',
									  event => 'message_in', kind => 'automatic');
	PERFORM statusflow.add_transition(wf, ARRAY['sms_in_progress'], 'sms_in_progress',
									  event => 'message_in', kind => 'automatic');
	-- manual statuses: logging an activity sets one, from any status
	FOREACH outcome IN ARRAY manual LOOP
		PERFORM statusflow.add_transition(wf,
			array(SELECT s FROM unnest(automatic || manual) s WHERE s <> outcome),
			outcome, event => 'log_' || outcome);
	END LOOP;
END
$$;

/* Seed 004: loyalty connections, with who may do what. */
CREATE FUNCTION statusflow_internal.preset_loyalty_connection(wf text, type_name text,
													  options jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	business text[] := ARRAY[options->>'business_role'];
	customer text[] := ARRAY[options->>'customer_role'];
BEGIN
	IF business[1] IS NULL OR customer[1] IS NULL THEN
		RAISE EXCEPTION 'preset "loyalty_connection" needs the options business_role and customer_role'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass options => ''{"business_role": "...", "customer_role": "..."}'' naming existing roles.';
	END IF;
	PERFORM statusflow.create_workflow(wf, ARRAY['imported', 'pending', 'active', 'inactive'],
		initial => ARRAY['imported'], type_name => type_name,
		description => 'Loyalty-program connections between a business and its customers (seed 004).');
	PERFORM statusflow_internal.describe_statuses(wf, jsonb_build_array(
		jsonb_build_object('status', 'imported', 'group', 'not connected',
			'description', 'Known to the business; not invited to the loyalty program yet.'),
		jsonb_build_object('status', 'pending', 'group', 'invited',
			'description', 'Invited to connect and has not accepted yet. You may invite again.'),
		jsonb_build_object('status', 'active', 'group', 'connected',
			'attributes', '{"receives_communications": true, "earns_rewards": true}'::jsonb,
			'description', 'Connected: earns and redeems rewards and receives communications. The goal.'),
		jsonb_build_object('status', 'inactive', 'group', 'disconnected',
			'attributes', '{"receives_communications": false, "earns_rewards": false}'::jsonb,
			'description', 'Disconnected by the customer opting out or by the business; receives nothing.')));

	-- the business sends invitations and may only disconnect and re-invite
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'pending'], 'pending',
									  event => 'invite', roles => business);
	PERFORM statusflow.add_transition(wf, ARRAY['active'], 'inactive',
									  event => 'disconnect', roles => business);
	PERFORM statusflow.add_transition(wf, ARRAY['inactive'], 'pending',
									  event => 'reinvite', roles => business);
	-- the customer connects or opts out
	PERFORM statusflow.add_transition(wf, ARRAY['imported', 'pending', 'inactive'], 'active',
									  event => 'connect', roles => customer);
	PERFORM statusflow.add_transition(wf, ARRAY['pending', 'active'], 'inactive',
									  event => 'opt_out', roles => customer);
END
$$;

/*
 * Install a preset as a workflow (named like the preset unless told
 * otherwise) whose enum type goes to schema (the current one unless told
 * otherwise).  Returns the enum type.
 */
CREATE FUNCTION statusflow.install_preset(preset text,
										  schema name DEFAULT pg_catalog.current_schema(),
										  workflow_name text DEFAULT NULL,
										  options jsonb DEFAULT '{}')
RETURNS regtype LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	wf text := coalesce(workflow_name, preset);
	type_name text;
BEGIN
	PERFORM statusflow_internal.require(preset IS NOT NULL, 'preset');
	PERFORM statusflow_internal.require(schema IS NOT NULL, 'schema');
	IF NOT EXISTS (SELECT 1 FROM statusflow.presets() p
				   WHERE p.preset OPERATOR(pg_catalog.=) install_preset.preset) THEN
		RAISE EXCEPTION 'preset "%" does not exist', preset
			USING ERRCODE = 'undefined_object',
				  HINT = format('Presets: %s.',
								(SELECT pg_catalog.string_agg(p.preset, ', ')
								 FROM statusflow.presets() p));
	END IF;
	IF options IS NULL OR pg_catalog.jsonb_typeof(options) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	type_name := pg_catalog.format('%I.%I', schema, wf || '_status');
	EXECUTE pg_catalog.format('SELECT statusflow_internal.%I($1, $2, $3)', 'preset_' || preset)
		USING wf, type_name, options;
	RETURN pg_catalog.to_regtype(type_name);
END
$$;

-- pgTAP: every preset encodes its seed page.  For each preset, every
-- (from, to) pair of statuses is asserted allowed or refused, through the
-- trigger (a real UPDATE) and through can_transition(), against the list of
-- allowed pairs written here by hand from the seed page (docs/presets.md
-- explains each choice the page left open).
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS statusflow;
BEGIN;
SELECT plan(966);

CREATE ROLE tap_business;
CREATE ROLE tap_customer;
CREATE SCHEMA presets;
SELECT statusflow.install_preset('review_request', 'presets', options => '{"monthly_limit": 100000}');
SELECT statusflow.install_preset('establishment_invitation', 'presets');
SELECT statusflow.install_preset('beta_prelaunch', 'presets');
SELECT statusflow.install_preset('beta_general', 'presets');
SELECT statusflow.install_preset('sms_outreach', 'presets');
SELECT statusflow.install_preset('loyalty_connection', 'presets',
	options => '{"business_role": "tap_business", "customer_role": "tap_customer"}');

CREATE TABLE presets.reviews (id int PRIMARY KEY, channel text NOT NULL DEFAULT 'sms',
	account_id int NOT NULL DEFAULT 1, send_at timestamptz,
	status presets.review_request_status NOT NULL);
CREATE TABLE presets.establishments (id int PRIMARY KEY, email text,
	status presets.establishment_invitation_status NOT NULL);
CREATE TABLE presets.prelaunch (id int PRIMARY KEY, status presets.beta_prelaunch_status NOT NULL);
CREATE TABLE presets.general (id int PRIMARY KEY, status presets.beta_general_status NOT NULL);
CREATE TABLE presets.accounts (id int PRIMARY KEY, interaction text NOT NULL DEFAULT 'call',
	status presets.sms_outreach_status NOT NULL);
CREATE TABLE presets.connections (id int PRIMARY KEY, status presets.loyalty_connection_status NOT NULL);
SELECT statusflow.attach('presets.reviews', 'status', 'review_request');
SELECT statusflow.attach('presets.establishments', 'status', 'establishment_invitation');
SELECT statusflow.attach('presets.prelaunch', 'status', 'beta_prelaunch');
SELECT statusflow.attach('presets.general', 'status', 'beta_general');
SELECT statusflow.attach('presets.accounts', 'status', 'sms_outreach');
SELECT statusflow.attach('presets.connections', 'status', 'loyalty_connection');
GRANT USAGE ON SCHEMA presets TO tap_business, tap_customer;
GRANT SELECT, UPDATE ON presets.connections TO tap_business, tap_customer;

-- Put the only row of a table in a status without any check (as the
-- owner), under a new key so that it has no history; returns the key.
CREATE SEQUENCE tap_keys;
CREATE FUNCTION tap_put(tbl regclass, status text, setup text)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
	key int := nextval('tap_keys');
BEGIN
	EXECUTE format('ALTER TABLE %s DISABLE TRIGGER USER', tbl);
	EXECUTE format('DELETE FROM %s', tbl);
	EXECUTE format('INSERT INTO %s (id, status) VALUES (%s, %L)', tbl, key, status);
	IF setup IS NOT NULL THEN
		EXECUTE setup;
	END IF;
	EXECUTE format('ALTER TABLE %s ENABLE TRIGGER USER', tbl);
	RETURN key;
END $$;

-- Does the trigger let the row go from one status to another (as the
-- current role)?  also: more of the same UPDATE's SET list.
CREATE FUNCTION tap_allows(tbl regclass, from_status text, to_status text,
						   setup text DEFAULT NULL, also text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM tap_put(tbl, from_status, setup);
	BEGIN
		EXECUTE format('UPDATE %s SET status = %L%s', tbl, to_status,
					   coalesce(', ' || also, ''));
		RETURN true;
	EXCEPTION WHEN check_violation OR insufficient_privilege THEN
		RETURN false;
	END;
END $$;

-- Every pair of statuses of a workflow, with whether it is in the allowed list.
CREATE FUNCTION tap_pairs(wf text, allowed text[])
RETURNS TABLE (from_status text, to_status text, expected boolean)
LANGUAGE sql AS $$
	SELECT f.status, t.status,
		   f.status = t.status OR (f.status || ' > ' || t.status) = ANY (allowed)
	FROM statusflow.statuses f JOIN statusflow.statuses t USING (workflow)
	WHERE workflow = wf
	ORDER BY f.rank, t.rank
$$;

-- The matrix of a workflow: trigger and can_transition() against the list.
-- (skip_can_from: a status whose can_transition() answers are tested apart)
CREATE FUNCTION tap_matrix(tbl regclass, wf text, allowed text[], setup_for text DEFAULT NULL,
						   skip_can_from text DEFAULT NULL, also text DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	p record;
BEGIN
	FOR p IN SELECT * FROM tap_pairs(wf, allowed) LOOP
		RETURN NEXT is(tap_allows(tbl, p.from_status, p.to_status,
								  CASE WHEN setup_for IS NOT NULL
									   THEN format(setup_for, p.from_status, p.to_status) END,
								  also),
					   p.expected,
					   format('%s: %s -> %s %s by the trigger', wf, p.from_status, p.to_status,
							  CASE WHEN p.expected THEN 'allowed' ELSE 'refused' END));
		CONTINUE WHEN p.from_status = skip_can_from;
		RETURN NEXT is(statusflow.can_transition(wf, p.from_status, p.to_status), p.expected,
					   format('%s: %s -> %s %s by can_transition()', wf, p.from_status,
							  p.to_status, CASE WHEN p.expected THEN 'allowed' ELSE 'refused' END));
	END LOOP;
END $$;

-- Seed 000.  Rows use the channel of the email-only statuses they touch,
-- else SMS; the monthly limit is far away.
SELECT * FROM tap_matrix('presets.reviews', 'review_request', ARRAY[
	'scheduled > sms_sent', 'scheduled > email_sent', 'scheduled > sms_failed',
	'scheduled > email_failed', 'scheduled > limit_reached',
	'sms_failed > scheduled', 'email_failed > scheduled', 'limit_reached > scheduled',
	'sms_sent > clicked_link', 'email_sent > opened',
	'sms_sent > clicked_happy', 'clicked_link > clicked_happy', 'email_sent > clicked_happy', 'opened > clicked_happy',
	'sms_sent > clicked_unhappy', 'clicked_link > clicked_unhappy', 'email_sent > clicked_unhappy', 'opened > clicked_unhappy',
	'clicked_happy > promoter_retargeting', 'clicked_happy > clicked_review_site',
	'promoter_retargeting > clicked_review_site', 'clicked_unhappy > provided_feedback'],
	$$UPDATE presets.reviews SET channel = CASE WHEN %L IN ('email_sent', 'opened', 'email_failed')
		OR %L IN ('email_sent', 'opened', 'email_failed') THEN 'email' ELSE 'sms' END$$);
-- channel-only statuses refuse the other channel
SELECT is(tap_allows('presets.reviews', 'scheduled', 'sms_sent',
					 $$UPDATE presets.reviews SET channel = 'email'$$), false,
		  'review_request: an email invitation cannot enter sms_sent');
SELECT is(tap_allows('presets.reviews', 'scheduled', 'opened',
					 $$UPDATE presets.reviews SET channel = 'email'$$), false,
		  'review_request: scheduled cannot skip to opened');
SELECT is(statusflow.fire('presets.reviews', (SELECT id FROM presets.reviews), 'send'), 'email_sent',
		  'review_request: event "send" picks the row''s channel');

-- Seed 001, with a reason given for the transitions that require one, and
-- the e-mail address changed by every UPDATE (a reinvite after a bounce
-- needs a new one).
SELECT set_config('statusflow.reason', 'matrix test', true);
SELECT * FROM tap_matrix('presets.establishments', 'establishment_invitation', ARRAY[
	'invited > invitationSent', 'invitationSent > invitationBounce',
	'invitationSent > invitationReceived', 'invitationReceived > invitationOpened',
	'invitationSent > invitationViewed', 'invitationBounce > invitationViewed',
	'invitationReceived > invitationViewed', 'invitationOpened > invitationViewed',
	'invitationViewed > invitationReviewed', 'invitationReviewed > accepted',
	'invitationViewed > objected', 'invitationReviewed > objected',
	'invitationBounce > invitationSent', 'objected > invitationSent'],
	also => $$email = 'changed-' || id || '@example.com'$$);
SELECT set_config('statusflow.reason', '', true);
SELECT is(tap_allows('presets.establishments', 'invitationBounce', 'invitationSent'), false,
		  'establishment_invitation: re-inviting after a bounce needs a changed e-mail address');
SELECT is(tap_allows('presets.establishments', 'objected', 'invitationSent'), false,
		  'establishment_invitation: regenerating needs a reason');
INSERT INTO presets.establishments (id, status) VALUES (50, 'invited');
SELECT statusflow.fire('presets.establishments', 50, e)
FROM unnest(ARRAY['send', 'deliver', 'view', 'decline']) e;
SELECT is(statusflow.fire('presets.establishments', 50, 'regenerate', reason => 'new manager'),
		  'invitationSent', 'establishment_invitation: a declined invitation may be regenerated');
SELECT statusflow.transition('presets.establishments', 50, 'invitationViewed');
SELECT statusflow.transition('presets.establishments', 50, 'objected');
SELECT throws_ok($$SELECT statusflow.fire('presets.establishments', 50, 'regenerate', reason => 'again')$$,
				 '23514', NULL, 'establishment_invitation: but only once ("sparingly")');
SELECT is(statusflow.entries('presets.establishments', 50, 'invitationSent'), 2::bigint,
		  'establishment_invitation: entries() counts entries into a status');

-- Seed 002, pre-launch: the page's table, idle, suspension.  The trigger
-- refuses leaving "suspended" for a row without history (its previous
-- status is unknown); can_transition() allows every status that can lead
-- to "suspended".
SELECT * FROM tap_matrix('presets.prelaunch', 'beta_prelaunch', ARRAY[
	'imported > applied', 'unconfirmed > applied',
	'imported > invited', 'applied > invited', 'rejected > invited',
	'imported > rejected', 'applied > rejected', 'invited > rejected',
	'imported > active', 'applied > active', 'invited > active', 'rejected > active',
	'imported > suspended', 'unconfirmed > suspended', 'applied > suspended',
	'invited > suspended', 'rejected > suspended', 'active > suspended', 'idle > suspended',
	'active > idle', 'idle > active'], skip_can_from => 'suspended');
SELECT is(statusflow.can_transition('beta_prelaunch', 'suspended', s), true,
		  format('beta_prelaunch: suspended -> %s allowed by can_transition()', s))
FROM unnest(ARRAY['imported', 'unconfirmed', 'applied', 'rejected', 'invited', 'active', 'idle']) s;
-- unsuspending returns to the status held before, by event or UPDATE
DELETE FROM presets.prelaunch;
INSERT INTO presets.prelaunch VALUES (2, 'imported');
SELECT statusflow.fire('presets.prelaunch', 2, 'apply');
SELECT statusflow.fire('presets.prelaunch', 2, 'hard_bounce');
SELECT throws_ok($$UPDATE presets.prelaunch SET status = 'active' WHERE id = 2$$, '23514', NULL,
				 'beta_prelaunch: a suspended user cannot be activated');
SELECT is(statusflow.fire('presets.prelaunch', 2, 'unsuspend'), 'applied',
		  'beta_prelaunch: unsuspend returns to the status held before');
SELECT statusflow.fire('presets.prelaunch', 2, 'suspend');
SELECT lives_ok($$UPDATE presets.prelaunch SET status = 'applied' WHERE id = 2$$,
				'beta_prelaunch: so does an UPDATE to that status');
SELECT throws_ok($$INSERT INTO presets.prelaunch VALUES (3, 'applied')$$, '23514', NULL,
				 'beta_prelaunch: with double opt-in, sign-ups start unconfirmed');

-- Seed 002, general campaigns: the page's second table.
SELECT * FROM tap_matrix('presets.general', 'beta_general', ARRAY[
	'imported > applied', 'unconfirmed > applied',
	'imported > suspended', 'unconfirmed > suspended', 'applied > suspended'],
	skip_can_from => 'suspended');
SELECT is(statusflow.can_transition('beta_general', 'suspended', s), true,
		  format('beta_general: suspended -> %s allowed by can_transition()', s))
FROM unnest(ARRAY['imported', 'unconfirmed', 'applied']) s;

-- Seed 003: messages flip the automatic statuses, an activity sets a
-- manual status from any status (rows here log a call).
SELECT * FROM tap_matrix('presets.accounts', 'sms_outreach',
	ARRAY['new_account > no_sms_reply', 'sms_in_progress > no_sms_reply',
		  'new_account > sms_in_progress', 'no_sms_reply > sms_in_progress']
	|| ARRAY(SELECT f || ' > ' || m
			 FROM unnest(enum_range(NULL::presets.sms_outreach_status)::text[]) f,
				  unnest(ARRAY['sale_in_progress', 'satisfied', 'no_sale', 'sold', 'no_answer',
							   'left_voicemail', 'wrong_number']) m
			 WHERE f <> m));
SELECT is(tap_allows('presets.accounts', 'no_sms_reply', s,
					 $$UPDATE presets.accounts SET interaction = 'sms'$$), false,
		  format('sms_outreach: %s is for calls only', s))
FROM unnest(ARRAY['no_answer', 'left_voicemail', 'wrong_number']) s;
SELECT tap_put('presets.accounts', 'no_sms_reply', NULL) AS account \gset
SELECT is(statusflow.fire('presets.accounts', :account, 'message_out'), 'no_sms_reply',
		  'sms_outreach: another outgoing message keeps no_sms_reply');
SELECT is(statusflow.fire('presets.accounts', :account, 'message_in'), 'sms_in_progress',
		  'sms_outreach: a reply flips to sms_in_progress');

-- Seed 004: the business and the customer each have their own transitions.
SET LOCAL ROLE tap_business;
SELECT * FROM tap_matrix('presets.connections', 'loyalty_connection', ARRAY[
	'imported > pending', 'active > inactive', 'inactive > pending']);
RESET ROLE;
SET LOCAL ROLE tap_customer;
SELECT * FROM tap_matrix('presets.connections', 'loyalty_connection', ARRAY[
	'imported > active', 'pending > active', 'inactive > active',
	'pending > inactive', 'active > inactive']);
RESET ROLE;
SELECT throws_ok($$SELECT statusflow.install_preset('loyalty_connection', 'presets', 'loyalty_2')$$,
				 '22023', NULL, 'loyalty_connection needs its two roles');
SELECT throws_ok($$SELECT statusflow.install_preset('nosuch')$$, '42704', NULL,
				 'an unknown preset is an error');
SELECT is((SELECT count(*)::int FROM statusflow.presets()), 6, 'six presets');
SELECT is_empty($$SELECT w.workflow, c.* FROM statusflow.workflows w,
				  statusflow.check_workflow(w.workflow) c$$,
				'every preset passes check_workflow()');

-- The seeds' rules through real writes, fire(), ingest() and tick().
-- Seed 000: "Sending in X hours": tick() sends a scheduled invitation at its
-- time, on its channel, within the monthly limit.
SELECT statusflow.install_preset('review_request', 'presets', 'review_timed',
								 '{"monthly_limit": 2}');
CREATE TABLE presets.timed_reviews (id int PRIMARY KEY, channel text NOT NULL,
	account_id int NOT NULL DEFAULT 7, send_at timestamptz,
	status presets.review_timed_status NOT NULL DEFAULT 'scheduled');
SELECT statusflow.attach('presets.timed_reviews', 'status', 'review_timed');
INSERT INTO presets.timed_reviews (id, channel, send_at) VALUES
	(1, 'sms', now() - interval '3 hours'), (2, 'email', now() - interval '2 hours'),
	(3, 'sms', now() - interval '1 hour'), (4, 'sms', now() + interval '1 day');
SELECT statusflow.tick();
SELECT set_eq($$SELECT id, status::text FROM presets.timed_reviews$$,
			  $$VALUES (1, 'sms_sent'), (2, 'email_sent'), (3, 'limit_reached'), (4, 'scheduled')$$,
			  'review_request: tick() sends what is due on its channel, the third over the monthly limit');
SELECT is((SELECT attributes ->> 'channel' FROM statusflow.statuses
		   WHERE workflow = 'review_timed' AND status = 'opened'), 'email',
		  'review_request: channel-only statuses say their channel in their attributes');

-- Seed 001: provider receipts in any order end in the same status; each
-- opening is recorded; a reinvite after a bounce needs a new address.
INSERT INTO presets.establishments (id, email, status) VALUES
	(60, 'a@example.com', 'invited'), (61, 'b@example.com', 'invited'),
	(62, 'c@example.com', 'invited');
SELECT statusflow.fire_many('presets.establishments', ARRAY[60, 61, 62], 'send');
SELECT is(statusflow.ingest('presets.establishments', 60, 'deliver', event_id => 'r60-1') || ' '
		  || statusflow.ingest('presets.establishments', 60, 'open', event_id => 'r60-2'),
		  'applied applied', 'establishment_invitation: delivery, then opening');
SELECT is(statusflow.ingest('presets.establishments', 61, 'open', event_id => 'r61-1') || ' '
		  || statusflow.ingest('presets.establishments', 61, 'deliver', event_id => 'r61-2'),
		  'applied late', 'establishment_invitation: opening first, the delivery arrives late');
SELECT results_eq($$SELECT status::text FROM presets.establishments WHERE id IN (60, 61) ORDER BY id$$,
				  ARRAY['invitationOpened', 'invitationOpened'],
				  'establishment_invitation: both orders end opened');
SELECT is(statusflow.ingest('presets.establishments', 61, 'open', event_id => 'r61-3'), 'applied',
		  'establishment_invitation: an invitation opened again');
SELECT is((SELECT count(*)::int FROM presets.establishments_status_history
		   WHERE id = 61 AND event = 'open' AND applied), 2,
		  'establishment_invitation: both openings are in the history');
SELECT is(statusflow.entries('presets.establishments', 61, 'invitationOpened'), 1::bigint,
		  'establishment_invitation: opened once as a status');
SELECT statusflow.ingest('presets.establishments', 62, 'bounce', event_id => 'r62-1');
SELECT throws_ok($$UPDATE presets.establishments SET status = 'invitationSent' WHERE id = 62$$,
				 '23514', NULL, 'establishment_invitation: no reinvite to the same address');
SELECT throws_ok($$SELECT statusflow.fire('presets.establishments', 62, 'resend', reason => 'x')$$,
				 '23514', NULL, 'establishment_invitation: nor by the API, which changes no address');
SELECT is(statusflow.ingest('presets.establishments', 62, 'resend', event_id => 'r62-2'), 'refused',
		  'establishment_invitation: a refused receipt is kept, not raised');
SELECT lives_ok($$UPDATE presets.establishments SET status = 'invitationSent',
				  email = 'c2@example.com' WHERE id = 62$$,
				'establishment_invitation: a reinvite with the changed address');
-- on_accepted: the application's function activates the establishment
CREATE TABLE presets.stores (id int PRIMARY KEY, state text NOT NULL DEFAULT 'PENDING');
INSERT INTO presets.stores VALUES (70);
CREATE FUNCTION presets.activate_store(change jsonb) RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ UPDATE presets.stores SET state = 'ACTIVATED' WHERE id = (change -> 'row' ->> 'id')::int $$;
SELECT statusflow.install_preset('establishment_invitation', 'presets', 'estab_active',
								 '{"on_accepted": "presets.activate_store(jsonb)"}');
CREATE TABLE presets.store_invites (id int PRIMARY KEY, email text,
	status presets.estab_active_status NOT NULL DEFAULT 'invited');
SELECT statusflow.attach('presets.store_invites', 'status', 'estab_active');
INSERT INTO presets.store_invites (id) VALUES (70);
SELECT statusflow.fire('presets.store_invites', 70, e)
FROM unnest(ARRAY['send', 'deliver', 'view', 'confirm']) e;
SELECT is((SELECT state FROM presets.stores WHERE id = 70), 'PENDING',
		  'establishment_invitation: not activated before acceptance');
SELECT statusflow.fire('presets.store_invites', 70, 'accept');
SELECT is((SELECT state FROM presets.stores WHERE id = 70), 'ACTIVATED',
		  'establishment_invitation: accepted activates the establishment');

-- Seed 002: users who have not checked in for idle_days go idle when tick()
-- runs; a hard bounce suspends any user, idle ones too; suspension turns
-- e-mail and referral sharing off (attributes).
SELECT statusflow.install_preset('beta_prelaunch', 'presets', 'beta_idle', '{"idle_days": 30}');
CREATE TABLE presets.beta_users (id int PRIMARY KEY, last_checkin_at timestamptz,
	status presets.beta_idle_status NOT NULL DEFAULT 'imported');
SELECT statusflow.attach('presets.beta_users', 'status', 'beta_idle');
INSERT INTO presets.beta_users VALUES (1, now() - interval '40 days'), (2, now() - interval '1 day');
SELECT statusflow.fire_many('presets.beta_users', ARRAY[1, 2], 'activate');
SELECT statusflow.tick();
SELECT results_eq($$SELECT status::text FROM presets.beta_users ORDER BY id$$,
				  ARRAY['idle', 'active'], 'beta_prelaunch: idle after idle_days without a check-in');
SELECT is(statusflow.fire('presets.beta_users', 1, 'hard_bounce'), 'suspended',
		  'beta_prelaunch: a hard bounce suspends an idle user');
SELECT is((SELECT (attributes ->> 'receives_email')::boolean FROM statusflow.statuses
		   WHERE workflow = 'beta_idle' AND status = 'suspended'), false,
		  'beta_prelaunch: a suspended user receives no e-mail');
SELECT is(statusflow.fire('presets.beta_users', 1, 'unsuspend'), 'idle',
		  'beta_prelaunch: unsuspended back to idle');
SELECT throws_ok($$SELECT statusflow.install_preset('beta_prelaunch', 'presets', 'beta_bad',
														'{"idle_days": 0}')$$,
				 '22023', NULL, 'beta_prelaunch: idle_days is at least 1');

-- Seed 003: a second outgoing message while waiting for a reply is recorded.
SELECT is((SELECT count(*)::int FROM presets.accounts_status_history
		   WHERE id = :account AND event = 'message_out' AND from_status = to_status), 1,
		  'sms_outreach: the second outgoing message is in the history');

-- Seed 004: re-inviting a pending customer is recorded; inactive customers
-- receive nothing (attributes).
INSERT INTO presets.connections VALUES (80, 'imported');
SET LOCAL ROLE tap_business;
SELECT statusflow.fire('presets.connections', 80, 'invite');
SELECT is(statusflow.fire('presets.connections', 80, 'invite'), 'pending',
		  'loyalty_connection: a pending customer may be invited again');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM presets.connections_status_history
		   WHERE id = 80 AND event = 'invite'), 2,
		  'loyalty_connection: both invitations are in the history');
SELECT is((SELECT (attributes ->> 'receives_communications')::boolean FROM statusflow.statuses
		   WHERE workflow = 'loyalty_connection' AND status = 'inactive'), false,
		  'loyalty_connection: inactive customers receive nothing');

SELECT * FROM finish();
ROLLBACK;

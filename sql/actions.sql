-- Actions: functions a workflow calls when a row enters or leaves a status
-- or takes an event; status attributes.
\set SHOW_CONTEXT never
\set VERBOSITY terse

SELECT statusflow.create_workflow('estab_invite', ARRAY['invited', 'reminded', 'accepted', 'expired'],
								  ARRAY['invited'], ARRAY['accepted', 'expired']);
SELECT statusflow.add_transition('estab_invite', ARRAY['invited'], 'invited', event => 'remind');
SELECT statusflow.add_transition('estab_invite', ARRAY['invited'], 'accepted', event => 'accept');
SELECT statusflow.add_transition('estab_invite', ARRAY['invited'], 'expired', event => 'expire');

CREATE TABLE establishments (id int PRIMARY KEY, activated boolean NOT NULL DEFAULT false);
CREATE TABLE estab_invites (id int PRIMARY KEY, establishment_id int NOT NULL,
							status estab_invite_status NOT NULL DEFAULT 'invited');
CREATE TABLE action_log (n serial, what text, change jsonb);
INSERT INTO establishments VALUES (1), (2);
SELECT statusflow.attach('estab_invites', 'status', 'estab_invite');

-- accepting activates the establishment (seed 001)
CREATE FUNCTION activate_establishment(change jsonb) RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ UPDATE public.establishments SET activated = true
	  WHERE id = (change -> 'row' ->> 'establishment_id')::int $$;
CREATE FUNCTION log_change(change jsonb) RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ INSERT INTO public.action_log (what, change) VALUES ('log', change) $$;
CREATE FUNCTION log_leave(change jsonb) RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ INSERT INTO public.action_log (what, change) VALUES ('leave ' || (change ->> 'from'), change) $$;
CREATE FUNCTION log_enter(change jsonb) RETURNS void LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ INSERT INTO public.action_log (what, change) VALUES ('enter ' || (change ->> 'to'), change) $$;
CREATE FUNCTION refuse_expiry(change jsonb) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RAISE EXCEPTION 'invitations of establishment % do not expire',
	change -> 'row' ->> 'establishment_id'; END $$;

SELECT statusflow.add_action('estab_invite', 'activate_establishment(jsonb)', on_enter => 'accepted');
SELECT statusflow.add_action('estab_invite', 'log_enter(jsonb)', on_enter => 'accepted');
SELECT statusflow.add_action('estab_invite', 'log_enter(jsonb)', on_enter => 'invited');
SELECT statusflow.add_action('estab_invite', 'log_leave(jsonb)', on_leave => 'invited');
SELECT statusflow.add_action('estab_invite', 'log_change(jsonb)', on_event => 'remind');
SELECT statusflow.add_action('estab_invite', 'log_change(jsonb)', on_event => 'accept');
SELECT workflow, on_enter, on_leave, on_event, action FROM statusflow.actions
WHERE workflow = 'estab_invite';

-- a new row enters its initial status; a change leaves, takes its event,
-- enters, in that order; a repeated event runs the event's actions only
INSERT INTO estab_invites VALUES (10, 1), (20, 2);
SELECT statusflow.fire('estab_invites', 10, 'remind');
SELECT statusflow.fire('estab_invites', 10, 'accept');
SELECT n, what, change ->> 'event' AS event, change -> 'key' AS key,
	   change -> 'row' ->> 'status' AS row_status, change -> 'old_row' ->> 'status' AS old_status,
	   change ->> 'history_id' = (SELECT max(history_id)::text FROM estab_invites_status_history h
								 WHERE h.id = (change -> 'key' ->> 'id')::int
								   AND h.history_id <= (change ->> 'history_id')::bigint) AS its_history_row
FROM action_log ORDER BY n;
SELECT * FROM establishments ORDER BY id;

-- an error in an action aborts the change
SELECT statusflow.add_action('estab_invite', 'refuse_expiry(jsonb)', on_enter => 'expired');
UPDATE estab_invites SET status = 'expired' WHERE id = 20;
SELECT id, status FROM estab_invites WHERE id = 20;
SELECT count(*) AS history_of_20 FROM estab_invites_status_history WHERE id = 20;

-- declarations refused
CREATE FUNCTION no_path(change jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION wrong_args(change json) RETURNS void LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT $$;
CREATE FUNCTION wrong_result(change jsonb) RETURNS int LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT 1 $$;
SELECT statusflow.add_action('estab_invite', 'no_path(jsonb)', on_enter => 'accepted');
SELECT statusflow.add_action('estab_invite', 'wrong_args(json)', on_enter => 'accepted');
SELECT statusflow.add_action('estab_invite', 'wrong_result(jsonb)', on_enter => 'accepted');
SELECT statusflow.add_action('estab_invite', 'log_change(jsonb)');
SELECT statusflow.add_action('estab_invite', 'log_change(jsonb)', on_enter => 'accepted', on_leave => 'invited');
SELECT statusflow.add_action('estab_invite', 'log_change(jsonb)', on_enter => 'nosuch');
SELECT statusflow.add_action('estab_invite', 'log_change(jsonb)', on_event => 'nosuch');
SELECT statusflow.add_action('estab_invite', 'log_change(jsonb)', on_event => 'remind');
SELECT statusflow.add_action('estab_invite', NULL, on_event => 'remind');
-- a function another role owns would run with the changing role's rights
-- (here, on the rows of a table of regress_sf_owner)
CREATE TABLE owned_invites (id int PRIMARY KEY, establishment_id int,
							status estab_invite_status NOT NULL DEFAULT 'invited');
ALTER TABLE owned_invites OWNER TO regress_sf_owner;
SELECT statusflow.attach('owned_invites', 'status', 'estab_invite');
SET ROLE regress_sf_other;
CREATE FUNCTION other_action(change jsonb) RETURNS void LANGUAGE sql
SET search_path = pg_catalog AS $$ SELECT $$;
RESET ROLE;
SELECT statusflow.add_action('estab_invite', 'other_action(jsonb)', on_enter => 'accepted');
SELECT statusflow.detach('owned_invites');
DROP TABLE owned_invites, owned_invites_status_history;
-- a function the changing role may not execute
REVOKE EXECUTE ON FUNCTION log_change(jsonb) FROM PUBLIC;
GRANT SELECT, UPDATE ON estab_invites TO regress_sf_app;
GRANT INSERT ON action_log TO regress_sf_app;
GRANT USAGE ON SEQUENCE action_log_n_seq TO regress_sf_app;
INSERT INTO estab_invites VALUES (30, 1);
SET ROLE regress_sf_app;
UPDATE estab_invites SET status = 'accepted' WHERE id = 30;
RESET ROLE;
GRANT EXECUTE ON FUNCTION log_change(jsonb) TO PUBLIC;
-- a function an action uses cannot be dropped
DROP FUNCTION log_leave(jsonb);
SELECT statusflow.remove_action(id) FROM statusflow.actions WHERE action = 'log_leave(jsonb)'::regprocedure;
DROP FUNCTION log_leave(jsonb);
SELECT statusflow.remove_action(-1);

-- attributes: what applications may know of a status
SELECT statusflow.set_status_info('estab_invite', 'expired', attributes => '{"receives_email": false}');
SELECT statusflow.set_status_info('estab_invite', 'invited', attributes => '{"receives_email": true}');
SELECT statusflow.set_status_info('estab_invite', 'invited', attributes => '[1]');
-- who may we e-mail: one join
SELECT i.id FROM estab_invites i
JOIN statusflow.statuses s ON s.workflow = 'estab_invite' AND s.status = i.status::text
WHERE (s.attributes ->> 'receives_email')::boolean ORDER BY i.id;
SELECT status, attributes FROM statusflow.statuses WHERE workflow = 'estab_invite' ORDER BY rank;

-- diagrams write actions as in UML: entry / f, exit / f, event / f
SELECT statusflow.to_mermaid('estab_invite');

SELECT statusflow.detach('estab_invites');
DROP TABLE estab_invites, estab_invites_status_history, establishments, action_log;
SELECT statusflow.drop_workflow('estab_invite');
DROP FUNCTION activate_establishment(jsonb), log_change(jsonb), log_enter(jsonb),
	refuse_expiry(jsonb), no_path(jsonb), wrong_args(json), wrong_result(jsonb);
DROP FUNCTION other_action(jsonb);

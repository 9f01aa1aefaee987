-- The schema every example uses: invitations to review a business, bound to
-- a workflow, with an application role and a change feed.  Run by
-- examples/run.sh in a fresh database, as a superuser.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION statusflow;

SELECT statusflow.create_workflow('invitation',
	ARRAY['draft', 'sent', 'opened', 'bounced', 'accepted', 'declined'],
	initial => ARRAY['draft'], terminal => ARRAY['accepted', 'declined']);
SELECT statusflow.add_transition('invitation', ARRAY['draft'], 'sent', event => 'send');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'opened', event => 'open');
SELECT statusflow.add_transition('invitation', ARRAY['sent'], 'bounced', event => 'bounce');
-- a reinvite after a bounce needs a changed address
SELECT statusflow.add_transition('invitation', ARRAY['bounced'], 'sent', event => 'resend',
								 condition => 'NEW.email IS DISTINCT FROM OLD.email');
SELECT statusflow.add_transition('invitation', ARRAY['sent', 'opened'], 'accepted', event => 'accept');
SELECT statusflow.add_transition('invitation', ARRAY['sent', 'opened'], 'declined', event => 'decline',
								 require_reason => true);

CREATE TABLE invitations (
	id bigserial PRIMARY KEY,
	email text NOT NULL,
	status invitation_status NOT NULL DEFAULT 'draft',
	updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT statusflow.attach('invitations', 'status', 'invitation');

-- the application connects as app (owner of nothing, UPDATE rights only);
-- roles belong to the cluster, which the examples share
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN
		CREATE ROLE app LOGIN;
	END IF;
END $$;
GRANT USAGE ON SCHEMA public TO app;
GRANT SELECT, INSERT, UPDATE ON invitations TO app;
GRANT USAGE ON SEQUENCE invitations_id_seq TO app;
GRANT SELECT ON invitations_status_history TO app;
-- a worker sends the e-mails once a change is committed
SELECT statusflow.create_feed('invitations', 'mailer', reader => 'app');

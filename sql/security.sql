-- Security: each class of hole of the trust boundary, tried by the role an
-- attacker would have.  Every attack must fail, with a clear error where
-- there is one, and the victims' tables must keep working.  Code of an
-- attacker that runs leaves a row in public.pwned and tries to make its
-- author a superuser.
\set VERBOSITY terse
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['regress_sf_victim', 'regress_sf_mallory',
							 'regress_sf_squatter'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I', r);
		END IF;
		EXECUTE format('ALTER ROLE %I NOSUPERUSER', r);
	END LOOP;
END
$$;
GRANT CREATE ON SCHEMA public TO regress_sf_victim, regress_sf_squatter;
CREATE SCHEMA mallory AUTHORIZATION regress_sf_mallory;
CREATE SCHEMA victim AUTHORIZATION regress_sf_victim;
CREATE TABLE public.pwned (by_role text, as_role text);
GRANT INSERT, SELECT ON public.pwned TO PUBLIC;
CREATE FUNCTION public.attack_payload(by_role text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.pwned VALUES (by_role, current_user);
	BEGIN
		EXECUTE format('ALTER ROLE %I SUPERUSER', by_role);
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
END
$$;
CREATE VIEW public.attacks AS
SELECT (SELECT count(*) FROM pwned) AS attack_code_ran,
	   (SELECT count(*) FROM pg_roles
		WHERE rolname LIKE 'regress_sf_%' AND rolsuper) AS superusers_made;

--
-- 1. Privilege escalation: the history lookups of guards (max_uses, the
-- previous status) read the history as the table's owner.  An operator of
-- the changer's, first on its search_path, must not be what they call.
--
SELECT statusflow.create_workflow('sec_job', ARRAY['queued', 'running', 'held', 'done'],
								  ARRAY['queued'], ARRAY['done'], type_name => 'public.sec_job_status');
SELECT statusflow.add_transition('sec_job', ARRAY['queued'], 'running', max_uses => 3);
SELECT statusflow.add_transition('sec_job', ARRAY['running'], 'held', event => 'hold');
SELECT statusflow.add_transition('sec_job', ARRAY['held'], NULL, restore_previous => true,
								 event => 'release');
SELECT statusflow.add_transition('sec_job', ARRAY['running'], 'done', event => 'finish');
CREATE TABLE public.sec_jobs (id int PRIMARY KEY, status sec_job_status NOT NULL DEFAULT 'queued',
							  amount numeric, entered timestamptz);
SELECT statusflow.attach('sec_jobs', 'status', 'sec_job', entered_at_column => 'entered');
SELECT statusflow.add_timer('sec_job', 'running', after => '0 seconds', event => 'finish');
INSERT INTO sec_jobs (id) SELECT generate_series(1, 6);
GRANT SELECT, UPDATE ON sec_jobs TO regress_sf_mallory;
GRANT SELECT ON sec_jobs_status_history TO regress_sf_mallory;

SET ROLE regress_sf_mallory;
CREATE FUNCTION mallory.job_eq(sec_job_status, sec_job_status) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.attack_payload('regress_sf_mallory');
	RETURN $1::text = $2::text;
END
$$;
CREATE OPERATOR mallory.= (LEFTARG = sec_job_status, RIGHTARG = sec_job_status,
						   FUNCTION = mallory.job_eq);
CREATE FUNCTION mallory.int_eq(int, int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.attack_payload('regress_sf_mallory');
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END
$$;
CREATE OPERATOR mallory.= (LEFTARG = int, RIGHTARG = int, FUNCTION = mallory.int_eq);
SET search_path = mallory, public;
UPDATE sec_jobs SET status = 'running' WHERE id = 1;
UPDATE sec_jobs SET status = 'held' WHERE id = 1;
UPDATE sec_jobs SET status = 'running' WHERE id = 1;
SELECT statusflow.transition('sec_jobs', 2, 'running');
SELECT statusflow.fire('sec_jobs', 2, 'hold');
SELECT statusflow.fire('sec_jobs', 2, 'release', reason => 'back');
SELECT statusflow.fire_many('sec_jobs', ARRAY[2], 'hold');
SELECT statusflow.transition_many('sec_jobs', ARRAY[3, 4], 'running');
SELECT statusflow.ingest('sec_jobs', 5, 'running', event_id => 'e-5');
SELECT statusflow.entries('sec_jobs', 1, 'running');
RESET ROLE;
-- a superuser running tick() with that path (as pg_cron might)
SELECT table_name, key, to_status, outcome FROM statusflow.tick() ORDER BY key::text;
RESET search_path;
SELECT * FROM attacks;
SELECT id, from_status, to_status, event FROM sec_jobs_status_history
WHERE id IN (1, 2) ORDER BY history_id;

--
-- 2. Crashes through internal functions: only the helpers that API
-- functions call on the caller's behalf are executable by PUBLIC, and they
-- check their arguments.
--
SELECT binding_id AS jobs_binding FROM statusflow.bindings
WHERE table_name = 'sec_jobs'::regclass \gset
SET ROLE regress_sf_mallory;
SELECT statusflow_internal.key_object(:jobs_binding, ROW(1, 'x', now()));
SELECT statusflow_internal.key_object(-1, 1);
SELECT * FROM statusflow_internal.entities('SELECT 1, 2, 3', 1, NULL, NULL);
SELECT * FROM statusflow_internal.entities(
	'SELECT 1, 1::bigint, ''x''::text, now()', 1, NULL, NULL);
SELECT * FROM statusflow_internal.entities(
	'SELECT 1, 2::bigint, ''queued''::sec_job_status, now(), ''x''::text', 1, NULL, NULL);
SELECT * FROM statusflow_internal.entities('COPY pwned TO STDOUT', 1, NULL, NULL);
SELECT * FROM statusflow_internal.stay_stats(
	'SELECT 1, g::bigint, ''queued''::sec_job_status, now() FROM generate_series(3, 1, -1) g',
	1, NULL, NULL, true);
SELECT statusflow_internal.sync_binding(:jobs_binding);
SELECT statusflow_internal.sync_binding_objects(:jobs_binding);
SELECT statusflow_internal.check_condition('true', NULL, 'sec_jobs');
SELECT statusflow_internal.check_condition('true', 'sec_job', 'sec_jobs');
SELECT statusflow_internal.check_condition('true', NULL, 424242::oid::regclass);
RESET ROLE;
SELECT * FROM attacks;
UPDATE sec_jobs SET status = 'running' WHERE id = 6;

--
-- 3. A table owner's own DDL: what changes under a binding gets a clear
-- error, or is followed, never a crash.
--
SET ROLE regress_sf_victim;
SELECT statusflow.create_workflow('vflow', ARRAY['a', 'b', 'c'], ARRAY['a'],
								  type_name => 'victim.vflow_status');
SELECT statusflow.add_transition('vflow', ARRAY['a'], 'b');
SELECT statusflow.add_transition('vflow', ARRAY['b'], 'c');
CREATE TABLE victim.items (id bigint PRIMARY KEY, status victim.vflow_status NOT NULL DEFAULT 'a');
SELECT statusflow.attach('victim.items', 'status', 'vflow');
INSERT INTO victim.items VALUES (1);
-- a history column of another type
ALTER TABLE victim.items_status_history ALTER COLUMN applied TYPE text;
INSERT INTO victim.items VALUES (2);
ALTER TABLE victim.items_status_history ALTER COLUMN applied TYPE boolean USING applied::boolean;
INSERT INTO victim.items VALUES (2);
-- a key column of another type (a routine migration): the history's key
-- column must follow
ALTER TABLE victim.items ALTER COLUMN id TYPE integer USING id::integer;
INSERT INTO victim.items VALUES (3);
ALTER TABLE victim.items_status_history ALTER COLUMN id TYPE integer;
INSERT INTO victim.items VALUES (3);
SELECT statusflow.transition('victim.items', 3, 'b');
-- the bound column of another type
ALTER TABLE victim.items ALTER COLUMN status TYPE text;
-- a CHECK constraint on the history that runs a query of its own
CREATE FUNCTION victim.history_rows() RETURNS bigint LANGUAGE sql
	AS 'SELECT count(*) FROM victim.items_status_history';
ALTER TABLE victim.items_status_history ADD CONSTRAINT sane CHECK (victim.history_rows() >= 0);
INSERT INTO victim.items VALUES (4), (5);
UPDATE victim.items SET status = 'b' WHERE id IN (4, 5);
-- a refusing CHECK constraint
ALTER TABLE victim.items_status_history ADD CONSTRAINT no_c CHECK (to_status <> 'c');
UPDATE victim.items SET status = 'c' WHERE id = 4;
ALTER TABLE victim.items_status_history DROP CONSTRAINT no_c;
-- a column of its own, NOT NULL with a default, and a generated one
ALTER TABLE victim.items_status_history ADD COLUMN tenant int NOT NULL DEFAULT 7,
	ADD COLUMN tenant_twice int GENERATED ALWAYS AS (tenant * 2) STORED;
INSERT INTO victim.items VALUES (6);
SELECT id, to_status, tenant, tenant_twice FROM victim.items_status_history
WHERE id = 6;
ALTER TABLE victim.items_status_history DROP CONSTRAINT sane;
INSERT INTO victim.items VALUES (10);
RESET ROLE;

--
-- 4. One tenant cannot stop the others: what it writes into the catalog is
-- checked, and what still goes wrong breaks only its own workflow.
--
SET ROLE regress_sf_mallory;
SELECT statusflow.create_workflow('mflow', ARRAY['a', 'b'], ARRAY['a'],
								  type_name => 'mallory.mflow_status');
SELECT statusflow.add_transition('mflow', ARRAY['a'], 'b');
CREATE TABLE mallory.things (id int PRIMARY KEY, status mallory.mflow_status NOT NULL DEFAULT 'a');
SELECT statusflow.attach('mallory.things', 'status', 'mflow');
INSERT INTO mallory.things VALUES (1);
-- a status that is no label of its type; a status of another's workflow
INSERT INTO statusflow.status (workflow, status) VALUES ('mflow', 'ghost');
INSERT INTO statusflow.status (workflow, status) VALUES ('sec_job', 'ghost');
-- a transition of another's workflow; one to nowhere
INSERT INTO statusflow.transition (workflow, from_status, to_status) VALUES ('sec_job', 'queued', 'done');
INSERT INTO statusflow.transition (workflow, from_status, to_status) VALUES ('mflow', 'a', 'zz');
-- a binding naming a missing column; a binding of another's table
INSERT INTO statusflow.binding (table_name, column_name, workflow, history_table, key_columns)
VALUES ('mallory.things', 'nosuch', 'mflow', 'mallory.things_status_history', '{id}');
UPDATE statusflow.binding SET column_name = 'nosuch' WHERE table_name = 'mallory.things'::regclass;
UPDATE statusflow.binding SET workflow = 'mflow' WHERE table_name = 'sec_jobs'::regclass;
-- renaming its workflow, and a label of its type, are followed
UPDATE statusflow.workflow SET name = 'mflow2' WHERE name = 'mflow';
ALTER TYPE mallory.mflow_status RENAME VALUE 'b' TO 'bee';
UPDATE mallory.things SET status = 'bee' WHERE id = 1;
SELECT workflow, from_status, to_status FROM statusflow.transitions WHERE workflow = 'mflow2';
-- pointing its workflow at another type of its own breaks only its table
CREATE TYPE mallory.other_enum AS ENUM ('x', 'y');
UPDATE statusflow.workflow SET status_type = 'mallory.other_enum' WHERE name = 'mflow2';
INSERT INTO mallory.things VALUES (2);
SELECT statusflow.can_transition('mflow2', 'a', 'bee');
RESET ROLE;
-- everyone else's tables still work
UPDATE sec_jobs SET status = 'held' WHERE id = 6;
SET ROLE regress_sf_victim;
INSERT INTO victim.items VALUES (11);
UPDATE victim.items SET status = 'b' WHERE id = 11;
RESET ROLE;
SELECT statusflow.tick() IS NULL AS tick_ran;
SELECT * FROM attacks;

--
-- 5. Reading what one may not SELECT: quota usage is its table owner's;
-- reports and lookups show only the entities the reader can see in the
-- bound table, row-level security included.  (Reading the history table
-- itself is what its owner grants.)
--
SET ROLE regress_sf_victim;
SELECT statusflow.create_workflow('acct', ARRAY['open', 'vip', 'closed'], ARRAY['open'],
								  type_name => 'victim.acct_status');
SELECT statusflow.add_transition('acct', ARRAY['open'], 'vip');
SELECT statusflow.add_transition('acct', ARRAY['open', 'vip'], 'closed');
SELECT statusflow.set_quota('acct', ARRAY['vip'], 'manager', 10);
CREATE TABLE victim.accounts (id int PRIMARY KEY, status victim.acct_status NOT NULL DEFAULT 'open',
							  manager name NOT NULL);
SELECT statusflow.attach('victim.accounts', 'status', 'acct');
INSERT INTO victim.accounts VALUES (1, 'open', 'regress_sf_mallory'),
	(2, 'open', 'ceo@example.com');
UPDATE victim.accounts SET status = 'vip';
ALTER TABLE victim.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY managed ON victim.accounts USING (manager = current_user);
GRANT USAGE ON SCHEMA victim TO regress_sf_mallory;
GRANT SELECT, UPDATE ON victim.accounts TO regress_sf_mallory;
GRANT SELECT ON victim.accounts_status_history TO regress_sf_mallory;
SELECT count(*) AS usage_rows_the_owner_sees FROM statusflow.quota_usage;
RESET ROLE;
SET ROLE regress_sf_mallory;
SELECT count(*) AS usage_rows_others_see FROM statusflow.quota_usage;
SELECT id FROM victim.accounts;
SELECT count(*) FROM statusflow.timeline('victim.accounts', 2);
SELECT count(*) FROM statusflow.timeline('victim.accounts', 1);
SELECT statusflow.status_at('victim.accounts', 2, now());
SELECT statusflow.entries('victim.accounts', 2, 'vip');
SELECT status, entities FROM statusflow.status_counts('victim.accounts', until => now())
WHERE entities > 0;
SELECT step, entities FROM statusflow.funnel('victim.accounts', ARRAY['open', 'vip']);
RESET ROLE;
-- without row-level security, reports show every row again
SET ROLE regress_sf_victim;
ALTER TABLE victim.accounts DISABLE ROW LEVEL SECURITY;
RESET ROLE;
SET ROLE regress_sf_mallory;
SELECT statusflow.entries('victim.accounts', 2, 'vip');
SELECT status, entities FROM statusflow.status_counts('victim.accounts', until => now())
WHERE entities > 0;
RESET ROLE;
-- a role that may not read the table gets no report on it
GRANT USAGE ON SCHEMA victim TO regress_sf_squatter;
SET ROLE regress_sf_squatter;
SELECT statusflow.entries('victim.accounts', 1, 'vip');
RESET ROLE;

--
-- 6. Row conditions are resolved with search_path = pg_catalog, pg_temp
-- and may call only functions their table's owner trusts.
--
SELECT statusflow.create_workflow('sec_pay', ARRAY['submitted', 'approved'], ARRAY['submitted'],
								  type_name => 'public.sec_pay_status');
SELECT statusflow.add_transition('sec_pay', ARRAY['submitted'], 'approved',
								 condition => 'amount < 100');
CREATE TABLE public.sec_payments (id int PRIMARY KEY, status sec_pay_status NOT NULL DEFAULT 'submitted',
								  amount numeric NOT NULL);
SELECT statusflow.attach('sec_payments', 'status', 'sec_pay');
INSERT INTO sec_payments VALUES (1, 'submitted', 5000), (2, 'submitted', 50);
GRANT SELECT, UPDATE ON sec_payments TO regress_sf_mallory;
SET ROLE regress_sf_mallory;
CREATE FUNCTION mallory.always(numeric, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.attack_payload('regress_sf_mallory');
	RETURN true;
END
$$;
CREATE OPERATOR mallory.< (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = mallory.always);
SET search_path = mallory, public;
UPDATE sec_payments SET status = 'approved' WHERE id = 1;
UPDATE sec_payments SET status = 'approved' WHERE id = 2;
RESET search_path;
-- a workflow owner's function in a condition on another owner's table
CREATE FUNCTION mallory.spy(numeric) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.attack_payload('regress_sf_mallory');
	RETURN true;
END
$$;
SELECT statusflow.create_workflow('mspy', ARRAY['a', 'b'], ARRAY['a'],
								  type_name => 'mallory.mspy_status');
SELECT statusflow.add_transition('mspy', ARRAY['a'], 'b', condition => 'mallory.spy(amount)');
GRANT USAGE ON SCHEMA mallory TO PUBLIC;
RESET ROLE;
SET ROLE regress_sf_victim;
CREATE TABLE victim.spied (id int PRIMARY KEY, status mallory.mspy_status NOT NULL DEFAULT 'a',
						   amount numeric);
SELECT statusflow.attach('victim.spied', 'status', 'mspy');
RESET ROLE;
SELECT * FROM attacks;

--
-- 7. search_path hijack through public: a role that may create in public
-- defines = for a victim's enum type in public, before the victim attaches.
--
SET ROLE regress_sf_victim;
SELECT statusflow.create_workflow('pub', ARRAY['new', 'sent', 'done'], ARRAY['new'],
								  type_name => 'public.pub_status');
RESET ROLE;
SET ROLE regress_sf_squatter;
CREATE FUNCTION public.pub_eq(pub_status, pub_status) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.attack_payload('regress_sf_squatter');
	RETURN $1::text = $2::text;
END
$$;
CREATE OPERATOR public.= (LEFTARG = pub_status, RIGHTARG = pub_status, FUNCTION = public.pub_eq);
RESET ROLE;
SET ROLE regress_sf_victim;
SELECT statusflow.add_transition('pub', ARRAY['new'], 'sent', max_uses => 2, event => 'send');
SELECT statusflow.add_transition('pub', ARRAY['sent'], 'done', event => 'finish');
CREATE TABLE public.pub_items (id int PRIMARY KEY, status pub_status NOT NULL DEFAULT 'new',
							   entered timestamptz);
SELECT statusflow.attach('pub_items', 'status', 'pub', entered_at_column => 'entered');
SELECT statusflow.add_timer('pub', 'sent', after => '0 seconds', to_status => 'done');
INSERT INTO pub_items (id) VALUES (1), (2);
UPDATE pub_items SET status = 'sent' WHERE id = 1;
SELECT statusflow.fire('pub_items', 2, 'send');
-- a trigger of the owner's, that tick() runs, tries to change the caller's
-- session
CREATE FUNCTION victim.leave_a_path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', 'victim, public', false);
	PERFORM set_config('statusflow.actor', 'left by a trigger', false);
	RETURN NULL;
END
$$;
CREATE TRIGGER leave_a_path AFTER UPDATE ON pub_items
	FOR EACH ROW EXECUTE FUNCTION victim.leave_a_path();
RESET ROLE;
SELECT table_name, key, to_status, outcome FROM statusflow.tick() ORDER BY key::text;
SHOW search_path;
SHOW statusflow.actor;
SELECT DISTINCT db_role, actor FROM pub_items_status_history WHERE to_status::text = 'done';
SELECT * FROM attacks;
-- a timer too long to wait for
SET ROLE regress_sf_victim;
SELECT statusflow.add_timer('pub', 'new', after => '1000 years', to_status => 'sent');
RESET ROLE;

--
-- 8. What runs as the extension's owner is not callable by strangers.
--
SELECT binding_id AS pub_binding FROM statusflow.bindings
WHERE table_name = 'pub_items'::regclass \gset
SET ROLE regress_sf_mallory;
SELECT statusflow_internal.sync_binding(:pub_binding);
SELECT statusflow_internal.sync_binding_objects(:pub_binding);
RESET ROLE;

--
-- 9. The history writer routes rows into a partitioned history table, as
-- pg_partman keeps one, and refuses what fits no partition.
--
SET ROLE regress_sf_victim;
CREATE TABLE victim.parts (id int PRIMARY KEY, status victim.vflow_status NOT NULL DEFAULT 'a');
SELECT statusflow.attach('victim.parts', 'status', 'vflow');
CREATE TABLE victim.parts_history
	(LIKE victim.parts_status_history INCLUDING DEFAULTS INCLUDING IDENTITY)
	PARTITION BY RANGE (occurred_at);
CREATE TABLE victim.parts_history_recent PARTITION OF victim.parts_history
	FOR VALUES FROM ('2026-01-01') TO ('2100-01-01');
CREATE TABLE victim.parts_history_old PARTITION OF victim.parts_history
	FOR VALUES FROM ('1900-01-01') TO ('2026-01-01');
CREATE INDEX ON victim.parts_history (id, history_id);
UPDATE statusflow.binding SET history_table = 'victim.parts_history'
WHERE table_name = 'victim.parts'::regclass;
INSERT INTO victim.parts VALUES (1), (2);
UPDATE victim.parts SET status = 'b' WHERE id = 2;
SELECT statusflow.transition('victim.parts', 1, 'b', occurred_at => '2025-06-01');
SELECT tableoid::regclass AS partition, id, to_status FROM victim.parts_history
ORDER BY history_id;
SELECT statusflow.transition('victim.parts', 2, 'c', occurred_at => '2150-06-01');
RESET ROLE;

--
-- 10. Strict input: keys convert exactly, times are finite and sane, a
-- status has no transition to itself without an event, a long key does not
-- break notifications.
--
INSERT INTO sec_jobs (id) VALUES (7), (8);
SELECT statusflow.transition('sec_jobs', 1.5, 'running');
SELECT statusflow.transition('sec_jobs', 12.7::float8, 'running');
SELECT statusflow.transition('sec_jobs', 7::bigint, 'running');
SELECT statusflow.transition('sec_jobs', 8.0, 'running');
SELECT statusflow.transition('sec_jobs', '7'::text, 'held');
SELECT statusflow.transition_many('sec_jobs', ARRAY[1.5], 'running');
SELECT statusflow.transition('sec_jobs', 8, 'held', occurred_at => 'infinity');
SELECT statusflow.transition('sec_jobs', 8, 'held', occurred_at => '-infinity');
SELECT statusflow.transition('sec_jobs', 8, 'held', occurred_at => '1492-10-12');
SELECT statusflow.ingest('sec_jobs', 8, 'held', occurred_at => '294276-01-01');
SELECT statusflow.add_transition('sec_job', ARRAY['held'], 'held');
SELECT statusflow.create_workflow('notes', ARRAY['new', 'read'], ARRAY['new'],
								  type_name => 'public.notes_status');
SELECT statusflow.add_transition('notes', ARRAY['new'], 'read');
CREATE TABLE public.sec_notes (title text PRIMARY KEY, status notes_status NOT NULL DEFAULT 'new');
SELECT statusflow.attach('sec_notes', 'status', 'notes');
SELECT statusflow.set_notify('sec_notes', 'sec_notes');
INSERT INTO sec_notes VALUES (repeat('k', 9000));
SELECT count(*) FROM sec_notes;
SELECT * FROM attacks;

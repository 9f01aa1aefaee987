-- Binding a workflow to a column: attach, detach, the history table they
-- create, and every way attaching can be refused.
\set SHOW_CONTEXT never

CREATE TABLE invitations (
	id bigint PRIMARY KEY,
	email text NOT NULL,
	status invitation_status NOT NULL DEFAULT 'invited'
);
INSERT INTO invitations VALUES (1, 'a@example.com', 'invited'), (2, 'b@example.com', 'sent');

SELECT statusflow.attach('invitations', 'status', 'invitation');
SELECT table_name, column_name, workflow, history_table, key_columns
FROM statusflow.bindings;
SELECT bindings FROM statusflow.workflows WHERE workflow = 'invitation';

-- the history table: key columns typed like the primary key, then the log
SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull, attidentity
FROM pg_attribute WHERE attrelid = 'invitations_status_history'::regclass
  AND attnum > 0 ORDER BY attnum;
SELECT indexrelid::regclass::text AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index WHERE indrelid = 'invitations_status_history'::regclass ORDER BY 1;
SELECT obj_description('invitations_status_history'::regclass, 'pg_class');
-- the triggers it installed
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid IN ('invitations'::regclass, 'invitations_status_history'::regclass)
ORDER BY tgrelid::regclass::text, tgname;
-- existing rows were recorded as of the attach
SELECT id, from_status, to_status, event, reason FROM invitations_status_history ORDER BY id;

-- composite keys, typmods and collations carried over, custom history name
CREATE SCHEMA audit;
CREATE TABLE "Account Invites" (
	"Account" integer,
	code varchar(12) COLLATE "C",
	"Status" invitation_status NOT NULL DEFAULT 'invited',
	PRIMARY KEY ("Account", code)
);
SELECT statusflow.attach('"Account Invites"', 'Status', 'invitation',
						 history_table => 'audit."Invite Log"');
SELECT attname, format_type(atttypid, atttypmod) AS type,
	   (SELECT collname FROM pg_collation c WHERE c.oid = attcollation) AS collation
FROM pg_attribute WHERE attrelid = 'audit."Invite Log"'::regclass
  AND attnum > 0 AND attnum < 4 ORDER BY attnum;
INSERT INTO "Account Invites" VALUES (7, 'abc', 'invited');
UPDATE "Account Invites" SET "Status" = 'sent';
SELECT "Account", code, from_status, to_status, event FROM audit."Invite Log" ORDER BY history_id;

-- the history table belongs to the table's owner, even when a member attaches
CREATE TABLE owned (id int PRIMARY KEY, status invitation_status NOT NULL);
ALTER TABLE owned OWNER TO regress_sf_owner;
SET client_min_messages = warning;
GRANT regress_sf_owner TO regress_sf_app;
RESET client_min_messages;
SET ROLE regress_sf_app;
SELECT statusflow.attach('owned', 'status', 'invitation');
RESET ROLE;
SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'owned_status_history'::regclass;

-- refusals, each leaving nothing behind
SET ROLE regress_sf_other;
CREATE TABLE not_mine (id int PRIMARY KEY, status invitation_status);
RESET ROLE;
SELECT statusflow.attach('owned', 'status', 'invitation');
SET ROLE regress_sf_other;
SELECT statusflow.attach('invitations', 'status', 'invitation');
RESET ROLE;
CREATE VIEW invitations_view AS SELECT * FROM invitations;
SELECT statusflow.attach('invitations_view', 'status', 'invitation');
SELECT statusflow.attach('invitations', 'nosuch', 'invitation');
SELECT statusflow.attach('invitations', 'email', 'invitation');
SELECT statusflow.attach('invitations', 'status', 'nosuch');
SELECT statusflow.attach('nosuch', 'status', 'invitation');
CREATE TABLE no_key (status invitation_status);
SELECT statusflow.attach('no_key', 'status', 'invitation');
CREATE TABLE reserved_key (event int PRIMARY KEY, status invitation_status);
SELECT statusflow.attach('reserved_key', 'status', 'invitation');
CREATE TABLE taken (id int PRIMARY KEY, status invitation_status);
CREATE TABLE taken_status_history (x int);
SELECT statusflow.attach('taken', 'status', 'invitation');
CREATE TABLE has_nulls (id int PRIMARY KEY, status invitation_status);
INSERT INTO has_nulls VALUES (1, NULL), (2, 'sent');
SELECT statusflow.attach('has_nulls', 'status', 'invitation');
SELECT to_regclass('has_nulls_status_history') AS no_history_left;
SELECT count(*) AS bindings FROM statusflow.binding;

-- a binding row alone cannot be forged for someone else's table
SET ROLE regress_sf_other;
INSERT INTO statusflow.binding (table_name, column_name, workflow, history_table, key_columns)
VALUES ('invitations', 'status', 'invitation', 'not_mine', '{id}');
-- nor can the trigger function be attached by hand
CREATE TRIGGER forged AFTER UPDATE ON not_mine FOR EACH ROW
	EXECUTE FUNCTION statusflow_internal.enforce('1');
RESET ROLE;
-- even a superuser's hand-made trigger cannot write into another binding
SELECT id AS invitations_binding FROM statusflow.binding
WHERE table_name = 'invitations'::regclass \gset
CREATE TRIGGER forged AFTER INSERT ON not_mine FOR EACH ROW
	EXECUTE FUNCTION statusflow_internal.enforce(:'invitations_binding');
INSERT INTO not_mine VALUES (1, 'invited');
DROP TRIGGER forged ON not_mine;

-- detach removes the triggers and the binding, and keeps the history
SELECT statusflow.detach('owned');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'owned'::regclass;
SELECT to_regclass('owned_status_history') AS history_kept;
INSERT INTO owned VALUES (1, 'accepted');
-- attach again with a new history table
SELECT statusflow.attach('owned', 'status', 'invitation', history_table => 'owned_history_2');
SELECT id, from_status, to_status, event FROM owned_history_2;
SELECT statusflow.detach('owned', 'nosuch');
SELECT statusflow.detach('not_mine');
SET ROLE regress_sf_other;
SELECT statusflow.detach('owned');
RESET ROLE;

-- dropping a bound table drops its binding and keeps its history
CREATE TABLE short_lived (id int PRIMARY KEY, status invitation_status NOT NULL);
SELECT statusflow.attach('short_lived', 'status', 'invitation');
INSERT INTO short_lived VALUES (1, 'invited');
DROP TABLE short_lived;
SELECT count(*) AS bindings FROM statusflow.binding WHERE history_table::text = 'short_lived_status_history';
SELECT id, to_status FROM short_lived_status_history;
-- the history table of a live binding cannot be dropped
DROP TABLE invitations_status_history;
-- dropping the table and its history together is fine
CREATE TABLE pair (id int PRIMARY KEY, status invitation_status NOT NULL);
SELECT statusflow.attach('pair', 'status', 'invitation');
DROP TABLE pair, pair_status_history;
SELECT count(*) AS pair_bindings FROM statusflow.binding WHERE history_table::text LIKE 'pair%';
-- a workflow with bound columns cannot be dropped
SELECT statusflow.drop_workflow('invitation');

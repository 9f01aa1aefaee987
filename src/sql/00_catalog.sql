/*
 * statusflow: status workflows enforced inside PostgreSQL
 *
 * The install script statusflow--<version>.sql is built by the Makefile
 * from the files in src/sql/, in name order, one concern per file.  This
 * first file holds what keeps data: the schemas, the catalog tables and the
 * types users may keep values of.  Every other file holds code (functions,
 * views, triggers, policies, grants, comments), which an upgrade script
 * drops and creates again: the upgrade to the current version is built from
 * src/upgrade/<from>--<to>.sql followed by those files (see the Makefile).
 */

\echo Use "CREATE EXTENSION statusflow" to load this file. \quit

/*
 * Schemas
 *
 * statusflow holds the catalog, its views and the documented API: every
 * function in it is meant to be called by users.  statusflow_internal holds
 * everything else: trigger functions, catalog validation, and the helpers
 * the API functions call.  Only the helpers that API functions running with
 * the caller's rights need are executable by PUBLIC (see
 * src/sql/99_privileges.sql), and each checks its arguments.
 */
CREATE SCHEMA statusflow_internal;

/*
 * Catalog
 *
 * Small tables describe every workflow, binding, quota and timer.  They are
 * written by the API functions, run with the caller's rights; row-level
 * security lets a role change only the workflows whose enum type it owns
 * and the bindings of the tables it owns.  Foreign keys, checks and the
 * validation triggers below hold the catalog consistent on every write
 * path, the API's and direct DML alike.  Every backend caches the catalog
 * (see src/catalog.c); a statement trigger on each table invalidates those
 * caches.
 */

CREATE TABLE statusflow.workflow (
	name		text PRIMARY KEY
				CHECK (name <> '' AND pg_catalog.octet_length(name) <= 63),
	status_type	regtype NOT NULL UNIQUE,
	allow_null	boolean NOT NULL DEFAULT false,
	monotonic	boolean NOT NULL DEFAULT false,
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- condition: a SQL boolean expression over the row, required to enter the
-- status and to stay in it (evaluated on the row as written).  attributes:
-- what applications and reports may know of the status, as a JSON object
-- ({"receives_email": false}).
CREATE TABLE statusflow.status (
	workflow	text NOT NULL REFERENCES statusflow.workflow
				ON UPDATE CASCADE ON DELETE CASCADE,
	status		text NOT NULL
				CHECK (status <> '' AND pg_catalog.octet_length(status) <= 63),
	description	text,
	group_name	text,
	is_initial	boolean NOT NULL DEFAULT false,
	is_terminal	boolean NOT NULL DEFAULT false,
	is_sticky	boolean NOT NULL DEFAULT false,
	condition	text CHECK (condition <> ''),
	attributes	jsonb NOT NULL DEFAULT '{}'
				CHECK (pg_catalog.jsonb_typeof(attributes) = 'object'),
	PRIMARY KEY (workflow, status)
);

-- A transition from one status to another (to_status NULL: back to the
-- status held before from_status), with its guards: roles allowed to take
-- it (none: anyone), a row condition, a required reason, and the most times
-- one entity may take it.  Staying in a status is a transition only for an
-- event (the event applies there, and changes nothing).
CREATE SEQUENCE statusflow.transition_id_seq;
CREATE TABLE statusflow.transition (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.transition_id_seq'),
	workflow	text NOT NULL,
	from_status	text NOT NULL,
	to_status	text,
	event		text CHECK (event <> '' AND pg_catalog.octet_length(event) <= 63),
	kind		text NOT NULL DEFAULT 'manual'
				CHECK (kind IN ('manual', 'automatic')),
	description	text,
	roles		regrole[] CHECK (pg_catalog.cardinality(roles) > 0
								 AND pg_catalog.array_position(roles, NULL) IS NULL),
	condition	text CHECK (condition <> ''),
	require_reason boolean NOT NULL DEFAULT false,
	max_uses	integer CHECK (max_uses > 0),
	UNIQUE NULLS NOT DISTINCT (workflow, from_status, to_status, event),
	CHECK (from_status <> to_status OR event IS NOT NULL),
	FOREIGN KEY (workflow, from_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE,
	FOREIGN KEY (workflow, to_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE
);
ALTER SEQUENCE statusflow.transition_id_seq OWNED BY statusflow.transition.id;

-- A quota: entries into statuses, counted per value of a column of the
-- bound table, per calendar period; over the limit a change is diverted to
-- overflow_status, or refused when there is none.
CREATE SEQUENCE statusflow.quota_id_seq;
CREATE TABLE statusflow.quota (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.quota_id_seq'),
	workflow	text NOT NULL REFERENCES statusflow.workflow
				ON UPDATE CASCADE ON DELETE CASCADE,
	statuses	text[] NOT NULL
				CHECK (pg_catalog.cardinality(statuses) > 0
					   AND pg_catalog.array_position(statuses, NULL) IS NULL),
	per_column	name NOT NULL,
	max_entries	integer NOT NULL CHECK (max_entries >= 0),
	period		text NOT NULL CHECK (period IN ('day', 'week', 'month', 'year')),
	overflow_status text,
	UNIQUE (workflow, statuses),
	CHECK (NOT overflow_status = ANY (statuses)),
	FOREIGN KEY (workflow, overflow_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE
);
ALTER SEQUENCE statusflow.quota_id_seq OWNED BY statusflow.quota.id;

-- A timer: rows that stay in a status for an interval (or until the time
-- in one of their columns, plus an interval) move on by themselves, to a
-- status or by an event, when statusflow.tick() runs.
CREATE SEQUENCE statusflow.timer_id_seq;
CREATE TABLE statusflow.timer (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.timer_id_seq'),
	workflow	text NOT NULL,
	status		text NOT NULL,
	after		interval CHECK (after BETWEEN interval '0' AND interval '100 years'),
	at_column	name,
	to_status	text,
	event		text,
	CHECK (after IS NOT NULL OR at_column IS NOT NULL),
	CHECK ((to_status IS NULL) <> (event IS NULL)),
	FOREIGN KEY (workflow, status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE,
	FOREIGN KEY (workflow, to_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE
);
ALTER SEQUENCE statusflow.timer_id_seq OWNED BY statusflow.timer.id;

CREATE SEQUENCE statusflow.binding_id_seq;
CREATE TABLE statusflow.binding (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.binding_id_seq'),
	table_name	regclass NOT NULL,
	column_name	name NOT NULL,
	workflow	text NOT NULL REFERENCES statusflow.workflow
				ON UPDATE CASCADE,
	history_table regclass NOT NULL UNIQUE,
	key_columns	name[] NOT NULL
				CHECK (pg_catalog.cardinality(key_columns) BETWEEN 1 AND 32
					   AND pg_catalog.array_position(key_columns, NULL) IS NULL),
	entered_at_column name,
	notify_channel text CHECK (notify_channel <> ''
							   AND pg_catalog.octet_length(notify_channel) <= 63),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	UNIQUE (table_name, column_name),
	CHECK (table_name <> history_table)
);
ALTER SEQUENCE statusflow.binding_id_seq OWNED BY statusflow.binding.id;

-- An action: a function called, in the changing transaction and with the
-- rights of the role making the change, when a row of a bound table
-- enters a status, leaves one, or takes an event; it receives the change
-- as a jsonb object (see src/actions.c).
CREATE SEQUENCE statusflow.action_id_seq;
CREATE TABLE statusflow.action (
	id			integer PRIMARY KEY
				DEFAULT pg_catalog.nextval('statusflow.action_id_seq'),
	workflow	text NOT NULL REFERENCES statusflow.workflow
				ON UPDATE CASCADE ON DELETE CASCADE,
	on_enter	text,
	on_leave	text,
	on_event	text CHECK (on_event <> '' AND pg_catalog.octet_length(on_event) <= 63),
	action		regprocedure NOT NULL,
	CHECK (pg_catalog.num_nonnulls(on_enter, on_leave, on_event) = 1),
	UNIQUE NULLS NOT DISTINCT (workflow, on_enter, on_leave, on_event, action),
	FOREIGN KEY (workflow, on_enter) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE,
	FOREIGN KEY (workflow, on_leave) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE
);
ALTER SEQUENCE statusflow.action_id_seq OWNED BY statusflow.action.id;

-- How much of each quota each scope (column value) used in each period;
-- written by the BEFORE trigger under a row lock, so that concurrent changes
-- for one scope are counted one after the other.
CREATE TABLE statusflow.quota_usage (
	binding_id	integer NOT NULL REFERENCES statusflow.binding ON DELETE CASCADE,
	quota_id	integer NOT NULL REFERENCES statusflow.quota ON DELETE CASCADE,
	scope		text NOT NULL,
	period_start timestamptz NOT NULL,
	used		integer NOT NULL CHECK (used >= 0),
	PRIMARY KEY (binding_id, quota_id, scope, period_start)
);

-- A feed: a named consumer's cursor over a binding's history, in commit
-- order (see src/sql/55_feeds.sql).  seen: every change visible in this
-- snapshot was delivered; a delivery in progress reads the changes visible
-- in window and not in seen, after history_id window_after.  Transaction
-- ids belong to the cluster: a feed is not dumped (create it again after a
-- restore).
CREATE TABLE statusflow.feed (
	binding_id	integer NOT NULL REFERENCES statusflow.binding ON DELETE CASCADE,
	consumer	text NOT NULL
				CHECK (consumer <> '' AND pg_catalog.octet_length(consumer) <= 63),
	reader		regrole NOT NULL,
	seen		pg_snapshot NOT NULL,
	window_snapshot pg_snapshot,
	window_after bigint NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (binding_id, consumer)
);

/*
 * On Citus, the coordinator's catalog reaches the workers through this one
 * row, made a reference table by statusflow_internal.citus_setup(): every
 * catalog write on the coordinator rewrites the payload (the catalog, by
 * names rather than OIDs), and a trigger on each worker's placement loads
 * it into that node's catalog tables (src/sql/80_citus.sql).  Empty and
 * unused without Citus.
 */
CREATE TABLE statusflow_internal.cluster_catalog (
	id			integer PRIMARY KEY CHECK (id = 1),
	generation	bigint NOT NULL,
	payload		jsonb NOT NULL
);

-- The summaries of a binding's history that reports read instead of the
-- whole history (see src/sql/65_summaries.sql): the two tables that keep
-- them, next to the history table and owned by its owner, and how far they
-- go.  They count every history row whose transaction is visible in the
-- snapshot folded, and no other; folded is NULL until they are built, and
-- again after prune_history().  Transaction ids belong to a cluster: the
-- summaries count for the cluster system_id and the history table
-- history_table they were built from, and are built again elsewhere.
CREATE TABLE statusflow.summary (
	binding_id	integer PRIMARY KEY REFERENCES statusflow.binding ON DELETE CASCADE,
	period		interval NOT NULL
				CHECK (period >= interval '1 minute' AND period <= interval '1 day'),
	counts		regclass NOT NULL UNIQUE,
	entities	regclass NOT NULL UNIQUE,
	history_table regclass,
	folded		pg_snapshot,
	system_id	bigint,
	refreshed_at timestamptz,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);

SELECT pg_catalog.pg_extension_config_dump('statusflow.workflow', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.status', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.transition', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.transition_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.binding', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.binding_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.quota', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.quota_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.quota_usage', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.timer', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.timer_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.action', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.action_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.summary', '');

-- A row of statusflow.timeline(): one history row of an entity, with the
-- time spent in the status it entered.
CREATE TYPE statusflow.timeline_entry AS (
	history_id	bigint,
	from_status	text,
	to_status	text,
	event		text,
	actor		text,
	db_role		text,
	reason		text,
	metadata	jsonb,
	occurred_at	timestamptz,
	recorded_at	timestamptz,
	applied		boolean,
	event_id	text,
	time_in_status interval
);

/*
 * statusflow 1.0 to 1.1: the catalog's new constraints, and the code moved
 * to schema statusflow_internal.  The Makefile follows this with every code
 * file of src/sql/ (all but 00_catalog.sql), which create 1.1's functions,
 * views, triggers, policies, grants and comments: this part drops 1.0's
 * code and brings the catalog to 1.1's definition.
 */

\echo Use "ALTER EXTENSION statusflow UPDATE" to load this file. \quit

CREATE SCHEMA statusflow_internal;

-- The trigger functions users' tables call keep their identity (1.1's code
-- replaces their definitions).
ALTER FUNCTION statusflow.enforce() SET SCHEMA statusflow_internal;
ALTER FUNCTION statusflow.prepare() SET SCHEMA statusflow_internal;
ALTER FUNCTION statusflow.history_append_only() SET SCHEMA statusflow_internal;

-- 1.0's other code goes: the event trigger, the catalog's triggers and
-- policies, then every function left in schema statusflow.
DROP EVENT TRIGGER statusflow_sql_drop;
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT p.polname, p.polrelid::pg_catalog.regclass AS rel
			 FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c
			   ON c.oid OPERATOR(pg_catalog.=) p.polrelid
			 WHERE c.relnamespace OPERATOR(pg_catalog.=) 'statusflow'::pg_catalog.regnamespace LOOP
		EXECUTE pg_catalog.format('DROP POLICY %I ON %s', r.polname, r.rel);
	END LOOP;
	FOR r IN SELECT t.tgname, t.tgrelid::pg_catalog.regclass AS rel
			 FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c
			   ON c.oid OPERATOR(pg_catalog.=) t.tgrelid
			 WHERE c.relnamespace OPERATOR(pg_catalog.=) 'statusflow'::pg_catalog.regnamespace
			   AND NOT t.tgisinternal LOOP
		EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
	END LOOP;
	FOR r IN SELECT p.oid::pg_catalog.regprocedure AS f
			 FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace OPERATOR(pg_catalog.=) 'statusflow'::pg_catalog.regnamespace LOOP
		EXECUTE pg_catalog.format('DROP FUNCTION %s', r.f);
	END LOOP;
END
$$;

/*
 * The catalog's new constraints.  Rows 1.0 stored that they refuse never
 * had an effect (a transition from a status to itself without an event,
 * rows of statuses or workflows that were gone): they go first, reported.
 */
DO $$
DECLARE
	n bigint;
BEGIN
	DELETE FROM statusflow.transition t
	WHERE (t.from_status OPERATOR(pg_catalog.=) t.to_status AND t.event IS NULL)
	   OR NOT EXISTS (SELECT FROM statusflow.status s
					  WHERE s.workflow OPERATOR(pg_catalog.=) t.workflow
						AND s.status OPERATOR(pg_catalog.=) t.from_status)
	   OR (t.to_status IS NOT NULL AND NOT EXISTS (
			SELECT FROM statusflow.status s
			WHERE s.workflow OPERATOR(pg_catalog.=) t.workflow
			  AND s.status OPERATOR(pg_catalog.=) t.to_status));
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'statusflow: % transitions without effect removed', n;
	END IF;
	DELETE FROM statusflow.timer t
	WHERE NOT EXISTS (SELECT FROM statusflow.status s
					  WHERE s.workflow OPERATOR(pg_catalog.=) t.workflow
						AND s.status OPERATOR(pg_catalog.=) t.status);
	DELETE FROM statusflow.status s
	WHERE NOT EXISTS (SELECT FROM statusflow.workflow w
					  WHERE w.name OPERATOR(pg_catalog.=) s.workflow);
	DELETE FROM statusflow.quota q
	WHERE NOT EXISTS (SELECT FROM statusflow.workflow w
					  WHERE w.name OPERATOR(pg_catalog.=) q.workflow);
	DELETE FROM statusflow.quota_usage u
	WHERE NOT EXISTS (SELECT FROM statusflow.binding b
					  WHERE b.id OPERATOR(pg_catalog.=) u.binding_id)
	   OR NOT EXISTS (SELECT FROM statusflow.quota q
					  WHERE q.id OPERATOR(pg_catalog.=) u.quota_id);
END
$$;

ALTER TABLE statusflow.status
	ADD CONSTRAINT status_status_check
		CHECK (status <> '' AND pg_catalog.octet_length(status) <= 63),
	ADD CONSTRAINT status_workflow_fkey FOREIGN KEY (workflow)
		REFERENCES statusflow.workflow ON UPDATE CASCADE ON DELETE CASCADE;

ALTER TABLE statusflow.transition
	DROP CONSTRAINT transition_event_check,
	DROP CONSTRAINT transition_roles_check,
	ADD CONSTRAINT transition_event_check
		CHECK (event <> '' AND pg_catalog.octet_length(event) <= 63),
	ADD CONSTRAINT transition_roles_check
		CHECK (pg_catalog.cardinality(roles) > 0
			   AND pg_catalog.array_position(roles, NULL) IS NULL),
	ADD CONSTRAINT transition_check CHECK (from_status <> to_status OR event IS NOT NULL),
	ADD CONSTRAINT transition_workflow_from_status_fkey
		FOREIGN KEY (workflow, from_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE,
	ADD CONSTRAINT transition_workflow_to_status_fkey
		FOREIGN KEY (workflow, to_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE;

ALTER TABLE statusflow.quota
	DROP CONSTRAINT quota_statuses_check,
	ADD CONSTRAINT quota_statuses_check
		CHECK (pg_catalog.cardinality(statuses) > 0
			   AND pg_catalog.array_position(statuses, NULL) IS NULL),
	ADD CONSTRAINT quota_check CHECK (NOT overflow_status = ANY (statuses)),
	ADD CONSTRAINT quota_workflow_fkey FOREIGN KEY (workflow)
		REFERENCES statusflow.workflow ON UPDATE CASCADE ON DELETE CASCADE,
	ADD CONSTRAINT quota_workflow_overflow_status_fkey
		FOREIGN KEY (workflow, overflow_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE;

ALTER TABLE statusflow.timer
	ADD CONSTRAINT timer_after_check
		CHECK (after BETWEEN interval '0' AND interval '100 years'),
	ADD CONSTRAINT timer_workflow_status_fkey
		FOREIGN KEY (workflow, status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE,
	ADD CONSTRAINT timer_workflow_to_status_fkey
		FOREIGN KEY (workflow, to_status) REFERENCES statusflow.status
		ON UPDATE CASCADE ON DELETE CASCADE;

ALTER TABLE statusflow.binding
	DROP CONSTRAINT binding_notify_channel_check,
	ADD CONSTRAINT binding_notify_channel_check
		CHECK (notify_channel <> '' AND pg_catalog.octet_length(notify_channel) <= 63),
	ADD CONSTRAINT binding_key_columns_check
		CHECK (pg_catalog.cardinality(key_columns) BETWEEN 1 AND 32
			   AND pg_catalog.array_position(key_columns, NULL) IS NULL),
	ADD CONSTRAINT binding_check CHECK (table_name <> history_table),
	ADD CONSTRAINT binding_workflow_fkey FOREIGN KEY (workflow)
		REFERENCES statusflow.workflow ON UPDATE CASCADE;

ALTER TABLE statusflow.quota_usage
	ADD CONSTRAINT quota_usage_used_check CHECK (used >= 0),
	ADD CONSTRAINT quota_usage_binding_id_fkey FOREIGN KEY (binding_id)
		REFERENCES statusflow.binding ON DELETE CASCADE,
	ADD CONSTRAINT quota_usage_quota_id_fkey FOREIGN KEY (quota_id)
		REFERENCES statusflow.quota ON DELETE CASCADE;

-- statuses' attributes, and actions (see 00_catalog.sql)
ALTER TABLE statusflow.status
	ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'
		CHECK (pg_catalog.jsonb_typeof(attributes) = 'object');
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
SELECT pg_catalog.pg_extension_config_dump('statusflow.action', '');
SELECT pg_catalog.pg_extension_config_dump('statusflow.action_id_seq', '');

-- feeds (see 00_catalog.sql)
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

-- the catalog's copy for Citus's workers (see 00_catalog.sql)
CREATE TABLE statusflow_internal.cluster_catalog (
	id			integer PRIMARY KEY CHECK (id = 1),
	generation	bigint NOT NULL,
	payload		jsonb NOT NULL
);

-- summaries (see 00_catalog.sql)
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
SELECT pg_catalog.pg_extension_config_dump('statusflow.summary', '');

-- 1.1's code follows.

/*
 * Transition API (src/transition.c) and history pruning (src/history.c)
 */

CREATE FUNCTION statusflow.transition(table_name regclass, key anyelement,
									  to_status text,
									  reason text DEFAULT NULL,
									  metadata jsonb DEFAULT NULL,
									  actor text DEFAULT NULL,
									  occurred_at timestamptz DEFAULT NULL,
									  column_name name DEFAULT NULL,
									  expect text DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition';

CREATE FUNCTION statusflow.fire(table_name regclass, key anyelement,
								event text,
								reason text DEFAULT NULL,
								metadata jsonb DEFAULT NULL,
								actor text DEFAULT NULL,
								occurred_at timestamptz DEFAULT NULL,
								column_name name DEFAULT NULL,
								expect text DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fire';

-- The same with the key as text, so that an untyped literal ('42', or
-- '(1,abc)' for a composite key) resolves.
CREATE FUNCTION statusflow.transition(table_name regclass, key text,
									  to_status text,
									  reason text DEFAULT NULL,
									  metadata jsonb DEFAULT NULL,
									  actor text DEFAULT NULL,
									  occurred_at timestamptz DEFAULT NULL,
									  column_name name DEFAULT NULL,
									  expect text DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition';

CREATE FUNCTION statusflow.fire(table_name regclass, key text,
								event text,
								reason text DEFAULT NULL,
								metadata jsonb DEFAULT NULL,
								actor text DEFAULT NULL,
								occurred_at timestamptz DEFAULT NULL,
								column_name name DEFAULT NULL,
								expect text DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fire';

CREATE FUNCTION statusflow.transition_many(table_name regclass, keys anyarray,
										   to_status text,
										   reason text DEFAULT NULL,
										   metadata jsonb DEFAULT NULL,
										   actor text DEFAULT NULL,
										   occurred_at timestamptz DEFAULT NULL,
										   column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition_many';

CREATE FUNCTION statusflow.fire_many(table_name regclass, keys anyarray,
									 event text,
									 reason text DEFAULT NULL,
									 metadata jsonb DEFAULT NULL,
									 actor text DEFAULT NULL,
									 occurred_at timestamptz DEFAULT NULL,
									 column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fire_many';

-- The same with the keys as text, the form node-postgres and other drivers
-- send an untyped array parameter in ('{1,2,3}'; '{"(north,1)"}' for a
-- composite key).
CREATE FUNCTION statusflow.transition_many(table_name regclass, keys text,
										   to_status text,
										   reason text DEFAULT NULL,
										   metadata jsonb DEFAULT NULL,
										   actor text DEFAULT NULL,
										   occurred_at timestamptz DEFAULT NULL,
										   column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition_many';

CREATE FUNCTION statusflow.fire_many(table_name regclass, keys text,
									 event text,
									 reason text DEFAULT NULL,
									 metadata jsonb DEFAULT NULL,
									 actor text DEFAULT NULL,
									 occurred_at timestamptz DEFAULT NULL,
									 column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fire_many';

/* How many times a row entered a status ("opened at least once"). */
CREATE FUNCTION statusflow.entries(table_name regclass, key anyelement,
								   status text, column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_entries';

CREATE FUNCTION statusflow.entries(table_name regclass, key text,
								   status text, column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_entries';

CREATE FUNCTION statusflow.prune_history(table_name regclass,
										 older_than timestamptz,
										 keep_latest boolean DEFAULT true,
										 column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_prune_history';

/*
 * What a row may do next, for the current role (src/choices.c): every
 * transition declared from its status, whether it is open on this row, and
 * why not.
 */
CREATE FUNCTION statusflow.next_transitions(table_name regclass, key anyelement,
											column_name name DEFAULT NULL)
RETURNS TABLE (event text, to_status text, allowed boolean, requires_reason boolean,
			   refusal text, kind text)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_next_transitions';

CREATE FUNCTION statusflow.next_transitions(table_name regclass, key text,
											column_name name DEFAULT NULL)
RETURNS TABLE (event text, to_status text, allowed boolean, requires_reason boolean,
			   refusal text, kind text)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_next_transitions';

/*
 * What one change would do, without doing it: the change is made in a
 * subtransaction, every trigger, quota and action included, and always
 * rolled back.  allowed with the status the row would end in, or the error
 * it would raise.  Give to_status or event.
 */
CREATE FUNCTION statusflow.explain_transition(table_name regclass, key text,
											  to_status text DEFAULT NULL,
											  event text DEFAULT NULL,
											  reason text DEFAULT NULL,
											  column_name name DEFAULT NULL)
RETURNS TABLE (allowed boolean, status text, sqlstate text, message text,
			   detail text, hint text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	would text;
	code text;
	msg text;
	why text;
	what_to_do text;
BEGIN
	IF pg_catalog.num_nonnulls(to_status, event) <> 1 THEN
		RAISE EXCEPTION 'give one of to_status and event'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	BEGIN
		IF event IS NULL THEN
			would := statusflow.transition(table_name, key, to_status, reason => reason,
										   column_name => column_name);
		ELSE
			would := statusflow.fire(table_name, key, event, reason => reason,
									 column_name => column_name);
		END IF;
		-- undo what worked, as what failed
		RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'statusflow dry run';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			why = PG_EXCEPTION_DETAIL, what_to_do = PG_EXCEPTION_HINT;
	END;
	IF code = 'P0001' AND msg = 'statusflow dry run' THEN
		RETURN QUERY SELECT true, would, NULL::text, NULL::text, NULL::text, NULL::text;
	ELSE
		RETURN QUERY SELECT false, NULL::text, code, msg, nullif(why, ''),
							nullif(what_to_do, '');
	END IF;
END
$$;

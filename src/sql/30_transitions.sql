/*
 * Transition API (src/transition.c) and history pruning (src/history.c)
 */

CREATE FUNCTION statusflow.transition(table_name regclass, key anyelement,
									  to_status text,
									  reason text DEFAULT NULL,
									  metadata jsonb DEFAULT NULL,
									  actor text DEFAULT NULL,
									  occurred_at timestamptz DEFAULT NULL,
									  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition';

CREATE FUNCTION statusflow.fire(table_name regclass, key anyelement,
								event text,
								reason text DEFAULT NULL,
								metadata jsonb DEFAULT NULL,
								actor text DEFAULT NULL,
								occurred_at timestamptz DEFAULT NULL,
								column_name name DEFAULT NULL)
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
									  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_transition';

CREATE FUNCTION statusflow.fire(table_name regclass, key text,
								event text,
								reason text DEFAULT NULL,
								metadata jsonb DEFAULT NULL,
								actor text DEFAULT NULL,
								occurred_at timestamptz DEFAULT NULL,
								column_name name DEFAULT NULL)
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

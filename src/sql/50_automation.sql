/*
 * Automation: timers applied by tick() (src/automation.c), provider events
 * ingested by ingest() (src/ingest.c).
 */

CREATE FUNCTION statusflow.tick(max_rows integer DEFAULT 1000)
RETURNS TABLE (table_name regclass, key jsonb, from_status text,
			   to_status text, event text, outcome text)
LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_tick';

CREATE FUNCTION statusflow.ingest(table_name regclass, key anyelement,
								  status_or_event text,
								  occurred_at timestamptz DEFAULT NULL,
								  event_id text DEFAULT NULL,
								  payload jsonb DEFAULT NULL,
								  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_ingest';

CREATE FUNCTION statusflow.ingest(table_name regclass, key text,
								  status_or_event text,
								  occurred_at timestamptz DEFAULT NULL,
								  event_id text DEFAULT NULL,
								  payload jsonb DEFAULT NULL,
								  column_name name DEFAULT NULL)
RETURNS text LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_ingest';

CREATE FUNCTION statusflow.ingest_batch(table_name regclass, keys anyarray,
										statuses_or_events text[],
										occurred_at timestamptz[] DEFAULT NULL,
										event_ids text[] DEFAULT NULL,
										payloads jsonb[] DEFAULT NULL,
										column_name name DEFAULT NULL)
RETURNS TABLE (n integer, outcome text) LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_ingest_batch';

CREATE FUNCTION statusflow.ingest_batch(table_name regclass, keys text,
										statuses_or_events text[],
										occurred_at timestamptz[] DEFAULT NULL,
										event_ids text[] DEFAULT NULL,
										payloads jsonb[] DEFAULT NULL,
										column_name name DEFAULT NULL)
RETURNS TABLE (n integer, outcome text) LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_ingest_batch';

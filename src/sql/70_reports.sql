/*
 * Reports
 *
 * Set-returning functions over the history of a binding: counts by status
 * and by group, funnels and their cohorts, time in status, the transition
 * matrix, follow-up lists, past statuses, timelines, queue positions, series
 * of entries, and a dashboard readable in psql.  docs/reports.md says what
 * each one counts.
 *
 * They run with the caller's rights: a report needs SELECT on the table and
 * on its history, and shows only the entities the caller can see in the
 * table under its row-level security (see history_sql()).  Each one builds
 * a query (every name quoted, every value a parameter or a quoted literal,
 * resolved with search_path = pg_catalog, pg_temp) that reads the history
 * at most once, or through its indexes, and follows statuses through
 * applied rows only.  In
 * the generated queries $1 is the start of the time window (since) and $2
 * its end (until), half-open on occurred_at; other parameters follow.
 */

/*
 * Building blocks of the generated queries
 */

/* Raise unless [since, until) is a window that can hold something. */
CREATE FUNCTION statusflow_internal.check_window(since timestamptz, until timestamptz)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF since >= until THEN
		RAISE EXCEPTION 'the time window is empty: since (%) is not before until (%)',
			since, until
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

/* " AND expr >= $1 AND expr < $2", each part only when that bound is set. */
CREATE FUNCTION statusflow_internal.window_sql(expr text, since timestamptz,
									   until timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT concat(CASE WHEN since IS NOT NULL THEN format(' AND %s >= $1', expr) END,
				  CASE WHEN until IS NOT NULL THEN format(' AND %s < $2', expr) END)
$$;

/*
 * The history of a binding as the caller may read it, for FROM: the history
 * table itself, or, when the bound table's row-level security applies to
 * the caller, only the rows of the entities it can see in the table.
 * Tables without row-level security pay nothing for it.
 */
CREATE FUNCTION statusflow_internal.history_sql(b statusflow.binding)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN row_security_active(b.table_name)
		THEN format('(SELECT sf_h.* FROM %s sf_h WHERE EXISTS (SELECT FROM %s sf_t WHERE %s))',
					b.history_table, b.table_name,
					statusflow_internal.each_key(b, 'sf_t.%1$I = sf_h.%1$I', ' AND '))
		ELSE b.history_table::text END
$$;

/*
 * One piece of SQL per key column of the binding, joined by sep: template is
 * a format() string whose %1$I is the column's name and %1$L its literal.
 */
CREATE FUNCTION statusflow_internal.each_key(b statusflow.binding, template text,
									 sep text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT string_agg(format(template, k), sep ORDER BY n)
	FROM unnest(b.key_columns) WITH ORDINALITY AS u(k, n)
$$;

/* The key of the row alias as a jsonb object, such as {"id": 42}. */
CREATE FUNCTION statusflow_internal.key_json_sql(b statusflow.binding, alias text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('pg_catalog.jsonb_build_object(%s)',
				  statusflow_internal.each_key(b, '%1$L, ' || alias || '.%1$I', ', '))
$$;

/*
 * "alias.k = <k of the key object $param>" for every key column: the key
 * object is read with the history's row type, so each value gets the type
 * of its column.
 */
CREATE FUNCTION statusflow_internal.key_match_sql(b statusflow.binding, alias text,
										  param text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.each_key(b,
		format('%s.%%1$I = (pg_catalog.jsonb_populate_record(NULL::%s, %s)).%%1$I',
			   alias, b.history_table, param),
		' AND ')
$$;

/*
 * The condition of a filter on rows of the bound table under alias: filter
 * is a JSON object of column = value equalities (a JSON null means IS NULL).
 * Each value is a literal cast to its column's type, so the planner sees it;
 * the cast is tried here first, to report a bad value by its column.
 */
CREATE FUNCTION statusflow_internal.filter_sql(b statusflow.binding, filter jsonb,
									   alias text)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f record;
	conds text[] := '{}';
BEGIN
	IF filter IS NULL THEN
		RETURN 'true';
	END IF;
	IF jsonb_typeof(filter) <> 'object' THEN
		RAISE EXCEPTION 'filter must be a JSON object of column values'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"account_id": 42}.';
	END IF;
	FOR f IN SELECT e.key, e.value #>> '{}' AS value,
					format_type(a.atttypid, NULL) AS type
			 FROM jsonb_each(filter) e
			 LEFT JOIN pg_attribute a
				ON a.attrelid = b.table_name AND a.attname = e.key
			   AND a.attnum > 0 AND NOT a.attisdropped
			 ORDER BY e.key LOOP
		IF f.type IS NULL THEN
			RAISE EXCEPTION 'column "%" of table % does not exist', f.key,
				b.table_name
				USING ERRCODE = 'undefined_column',
					  HINT = 'A filter names columns of the bound table.';
		ELSIF f.value IS NULL THEN
			conds := conds || format('%s.%I IS NULL', alias, f.key);
		ELSE
			BEGIN
				EXECUTE format('SELECT %L::%s', f.value, f.type);
			EXCEPTION WHEN data_exception THEN
				RAISE EXCEPTION 'filter value % does not fit column "%" of type %',
					quote_literal(f.value), f.key, f.type
					USING ERRCODE = SQLSTATE, DETAIL = SQLERRM;
			END;
			conds := conds || format('%s.%I = %L::%s', alias, f.key, f.value, f.type);
		END IF;
	END LOOP;
	RETURN coalesce(array_to_string(nullif(conds, '{}'), ' AND '), 'true');
END
$$;

/*
 * " AND EXISTS (...)": the filter on history rows (alias h), through the
 * table's row of the same key; empty without a filter.
 */
CREATE FUNCTION statusflow_internal.history_filter_sql(b statusflow.binding,
											   filter jsonb)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN filter IS NOT NULL THEN
		format(' AND EXISTS (SELECT 1 FROM %s t WHERE %s AND %s)', b.table_name,
			   statusflow_internal.each_key(b, 't.%1$I = h.%1$I', ' AND '),
			   statusflow_internal.filter_sql(b, filter, 't'))
	END
$$;

/*
 * The statuses a name stands for in a workflow: the status of that name,
 * else every status of the group of that name (in rank order).
 */
CREATE FUNCTION statusflow_internal.statuses_named(workflow text, name text, what text)
RETURNS text[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found text[];
BEGIN
	PERFORM statusflow_internal.require(name IS NOT NULL, what);
	SELECT coalesce(array_agg(s.status ORDER BY s.rank)
						FILTER (WHERE s.status = statuses_named.name),
					array_agg(s.status ORDER BY s.rank)
						FILTER (WHERE s.group_name = statuses_named.name))
	INTO found
	FROM statusflow.statuses s WHERE s.workflow = statuses_named.workflow;
	IF found IS NULL THEN
		RAISE EXCEPTION '% "%" is neither a status nor a group of workflow "%"',
			what, name, workflow
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = (SELECT format('Its statuses are: %s.%s',
										string_agg(format('"%s"', s.status), ', ' ORDER BY s.rank),
										' Its groups are: ' || string_agg(DISTINCT format('"%s"', s.group_name), ', ')
											FILTER (WHERE s.group_name IS NOT NULL) || '.')
						  FROM statusflow.statuses s
						  WHERE s.workflow = statuses_named.workflow);
	END IF;
	RETURN found;
END
$$;

/* Raise unless period is one that series and cohorts are cut into. */
CREATE FUNCTION statusflow_internal.check_period(period text)
RETURNS void LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF period IS NULL OR period NOT IN ('day', 'week', 'month') THEN
		RAISE EXCEPTION 'period must be day, week or month, not %',
			coalesce(quote_literal(period), 'null')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

/*
 * A history row (alias h) that entered its status, as SQL: not a repeated
 * event, which keeps the status (from_status = to_status).  The C lookups
 * use the same test (SF_ENTRY_SQL).
 */
CREATE FUNCTION statusflow_internal.entry_sql(alias text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('NOT coalesce(%1$I.from_status OPERATOR(pg_catalog.=) %1$I.to_status, false)',
				  alias)
$$;

/*
 * The applied entries (no repeated events) before until, for the one-pass
 * folds of src/reports.c: the key columns, history_id, to_status,
 * occurred_at, then extra (a column list starting with a comma, or empty).
 */
CREATE FUNCTION statusflow_internal.rows_sql(b statusflow.binding, until timestamptz,
									 filter jsonb, extra text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('SELECT %s, h.history_id, h.to_status, h.occurred_at%s '
				  'FROM %s h WHERE h.applied AND %s%s%s',
				  statusflow_internal.each_key(b, 'h.%1$I', ', '), extra, statusflow_internal.history_sql(b),
				  statusflow_internal.entry_sql('h'),
				  statusflow_internal.window_sql('h.occurred_at', NULL, until),
				  statusflow_internal.history_filter_sql(b, filter))
$$;

/*
 * One row per entity of the query's rows (see _rows_sql(), with an int4 mask
 * last): its earliest occurred_at, the to_status (pg_enum OID) of its latest
 * row, and the OR of its masks.  One pass, a hash table of the entities.
 */
CREATE FUNCTION statusflow_internal.entities(query text, nkeys integer,
									 since timestamptz, until timestamptz)
RETURNS TABLE (first_at timestamptz, last_status oid, mask integer)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_entities';

/*
 * The stays of the entities of the query's rows (see _rows_sql(), ordered
 * by history_id), per status (pg_enum OID), cut by the window [since, until):
 * how many, how many still open, mean, median and 90th percentile seconds.
 */
CREATE FUNCTION statusflow_internal.stay_stats(query text, nkeys integer,
									   since timestamptz, until timestamptz,
									   include_open boolean)
RETURNS TABLE (status oid, stays bigint, open_stays bigint,
			   mean double precision, median double precision,
			   p90 double precision)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_stay_stats';

/*
 * Applied history rows in the window, counted by (from_status, to_status):
 * from the summaries when the window's ends fall on their buckets.
 */
CREATE FUNCTION statusflow_internal.moves_sql(b statusflow.binding, since timestamptz,
									  until timestamptz, filter jsonb)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s statusflow.summary := statusflow_internal.summary_for(b, filter);
BEGIN
	IF s.binding_id IS NOT NULL AND statusflow_internal.on_bucket(s, since)
	   AND statusflow_internal.on_bucket(s, until) THEN
		RETURN format('SELECT c.from_status, c.status AS to_status, '
					  'pg_catalog.sum(c.n)::bigint AS n FROM %s c GROUP BY 1, 2',
					  statusflow_internal.summary_sql(b, s, 'm',
						  statusflow_internal.window_sql('c.bucket', since, until), true));
	END IF;
	RETURN format('SELECT h.from_status, h.to_status, pg_catalog.count(*) AS n '
				  'FROM %s h WHERE h.applied%s%s GROUP BY 1, 2',
				  statusflow_internal.history_sql(b),
				  statusflow_internal.window_sql('h.occurred_at', since, until),
				  statusflow_internal.history_filter_sql(b, filter));
END
$$;

/*
 * The rows of the table in one of the statuses, with their key as jsonb, the
 * entry into their current stay (the latest applied entry: a repeated event
 * is none) and the latest history row of any kind (the last event).  One
 * backward scan of the (key, history_id) index per row finds the latest
 * row, which is the entry too when it is an applied entry; a second scan
 * looks further only when it is not.  Rows without applied history are left
 * out.  On a Citus-distributed table, whose lateral subqueries Citus pushes
 * down to the shards only with a FROM, the entry is always the second scan's.
 */
CREATE FUNCTION statusflow_internal.current_sql(b statusflow.binding, statuses text[],
										filter jsonb)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('SELECT %s AS key, t.%I::text AS status, e.occurred_at AS entered_at, '
				  'e.history_id AS entry_id, l.event AS last_event, '
				  'l.occurred_at AS last_event_at, l.actor AS last_actor '
				  'FROM %s t '
				  'CROSS JOIN LATERAL (SELECT h.event, h.occurred_at, h.actor, '
				  'h.applied AND %s AS entry, h.history_id FROM %s h WHERE %s '
				  'ORDER BY h.history_id DESC LIMIT 1) l '
				  'CROSS JOIN LATERAL (%sSELECT h.occurred_at, h.history_id FROM %s h '
				  'WHERE %s%s AND h.applied AND %s '
				  'ORDER BY h.history_id DESC LIMIT 1%s) e '
				  'WHERE t.%I IN (%s) AND %s',
				  statusflow_internal.key_json_sql(b, 't'), b.column_name, b.table_name,
				  statusflow_internal.entry_sql('h'),
				  b.history_table, statusflow_internal.each_key(b, 'h.%1$I = t.%1$I', ' AND '),
				  CASE WHEN c.kind IS NULL
					   THEN 'SELECT l.occurred_at, l.history_id WHERE l.entry UNION ALL (' END,
				  b.history_table,
				  CASE WHEN c.kind IS NULL THEN 'NOT l.entry AND ' END,
				  statusflow_internal.each_key(b, 'h.%1$I = t.%1$I', ' AND '),
				  statusflow_internal.entry_sql('h'),
				  CASE WHEN c.kind IS NULL THEN ')' END,
				  b.column_name,
				  (SELECT string_agg(quote_literal(s), ', ') FROM unnest(statuses) s),
				  statusflow_internal.filter_sql(b, filter, 't'))
	FROM statusflow_internal.citus_table(b.table_name) c
$$;

/*
 * A key argument as the jsonb object of its key columns, read as
 * transition() reads it (src/transition.c).
 */
CREATE FUNCTION statusflow_internal.key_object(binding integer, key anyelement)
RETURNS jsonb LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_key_object';

/* A JSON array of ranks as an integer array, to compare chains. */
CREATE FUNCTION statusflow_internal.ranks(chain jsonb)
RETURNS integer[] LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT array_agg(r::integer ORDER BY n)
	FROM jsonb_array_elements_text(chain) WITH ORDINALITY AS e(r, n)
$$;

/*
 * The default steps of a funnel: the main path of the workflow, a chain of
 * declared transitions that only move to higher ranks, from an initial
 * status.  The best chain ends in a terminal status (an outcome), then is
 * the longest, then has the lowest ranks (earlier in the enum).  Computed
 * from the highest rank down: the best chain from a status is the status
 * followed by the best chain of one of its forward successors.
 */
CREATE FUNCTION statusflow_internal.main_path(workflow text)
RETURNS text[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	best jsonb := '{}';		-- status -> its best chain, a JSON array of ranks
	terminal integer[];
	s record;
	chain integer[];
BEGIN
	SELECT coalesce(array_agg(x.rank) FILTER (WHERE x.is_terminal), '{}')
	INTO terminal
	FROM statusflow.statuses x WHERE x.workflow = main_path.workflow;
	FOR s IN SELECT x.status, x.rank FROM statusflow.statuses x
			 WHERE x.workflow = main_path.workflow ORDER BY x.rank DESC LOOP
		chain := s.rank || coalesce(
			(SELECT c.ranks
			 FROM (SELECT statusflow_internal.ranks(best -> t.to_status) AS ranks
				   FROM statusflow.transitions t
				   JOIN statusflow.statuses d
					 ON d.workflow = t.workflow AND d.status = t.to_status
				   WHERE t.workflow = main_path.workflow
					 AND t.from_status = s.status AND d.rank > s.rank) c
			 ORDER BY c.ranks[cardinality(c.ranks)] = ANY (terminal) DESC,
					  cardinality(c.ranks) DESC, c.ranks
			 LIMIT 1),
			'{}');
		best := best || jsonb_build_object(s.status, to_jsonb(chain));
	END LOOP;
	SELECT c.ranks INTO chain
	FROM (SELECT statusflow_internal.ranks(best -> i.status) AS ranks
		  FROM statusflow.statuses i
		  WHERE i.workflow = main_path.workflow AND i.is_initial) c
	ORDER BY c.ranks[cardinality(c.ranks)] = ANY (terminal) DESC,
			 cardinality(c.ranks) DESC, c.ranks
	LIMIT 1;
	RETURN (SELECT array_agg(x.status ORDER BY x.rank)
			FROM statusflow.statuses x
			WHERE x.workflow = main_path.workflow AND x.rank = ANY (chain));
END
$$;

/*
 * Counts by status and by group
 */

/*
 * Entities per status at the time $2 (on a bucket of the summary), from the
 * summary, as (status, n): the n counts of the buckets before $2, read by
 * block but for those of $2's block (and of the tail's rows before it),
 * give each entity whose rows occurred in history_id order its status
 * then.  The others ("irregular": a row backdated before the one it
 * follows) are corrected one by one, from their own rows: their n counts
 * taken back, their status at $2 added.
 */
CREATE FUNCTION statusflow_internal.summary_status_at_sql(b statusflow.binding,
														  s statusflow.summary)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format($q$
		WITH d AS MATERIALIZED (SELECT * FROM %1$s),
		irregular AS (
			SELECT %2$s FROM %3$s e WHERE NOT e.regular
			   AND NOT EXISTS (SELECT FROM d WHERE d.kind OPERATOR(pg_catalog.=) 'E' AND %4$s)
			UNION ALL
			SELECT %5$s FROM d WHERE d.kind OPERATOR(pg_catalog.=) 'E' AND NOT d.regular),
		r AS (
			SELECT %6$s, h.history_id, h.to_status, h.occurred_at,
				   pg_catalog.lag(h.to_status) OVER (PARTITION BY %6$s ORDER BY h.history_id) AS prev
			FROM irregular x CROSS JOIN LATERAL (
				SELECT h.history_id, h.to_status, h.occurred_at FROM %7$s h
				WHERE %8$s AND h.applied AND %9$s) h),
		net AS (
			SELECT c.status, c.n FROM (%10$s) c
			UNION ALL SELECT d.status, d.n FROM d
			WHERE d.kind OPERATOR(pg_catalog.=) 'n' AND d.bucket < $2
			UNION ALL SELECT r.to_status, -1 FROM r WHERE r.occurred_at < $2
			UNION ALL SELECT r.prev, 1 FROM r WHERE r.occurred_at < $2 AND r.prev IS NOT NULL
			UNION ALL SELECT l.to_status, 1 FROM (
				SELECT DISTINCT ON (%11$s) r.to_status FROM r WHERE r.occurred_at < $2
				ORDER BY %11$s, r.history_id DESC) l)
		SELECT net.status, pg_catalog.sum(net.n) AS n FROM net
		GROUP BY 1 HAVING pg_catalog.sum(net.n) OPERATOR(pg_catalog.<>) 0$q$,
		statusflow_internal.tail_sql(b, s),
		statusflow_internal.each_key(b, 'e.%1$I', ', '),
		s.entities,
		statusflow_internal.fold_keys(b, 'd', 'e'),
		statusflow_internal.fold_keys(b, 'd'),
		statusflow_internal.each_key(b, 'x.%1$I', ', '),
		b.history_table,
		statusflow_internal.each_key(b, 'h.%1$I OPERATOR(pg_catalog.=) x.%1$I', ' AND '),
		statusflow_internal.entry_sql('h'),
		statusflow_internal.counts_sql(s, 'n', ' AND c.bucket OPERATOR(pg_catalog.<) $2', true,
									   'NULL', '$2'),
		statusflow_internal.each_key(b, 'r.%1$I', ', '))
$$;

/*
 * Entities by unit (status, or group when by_group) at the end of the
 * window, and the moves into each unit during the window.  At the end of the
 * window means until; without until it means now, and the counts are those
 * of the table itself rather than of its history.  Moves are counted when
 * the window has a start (since; '-infinity' for all of history), so that
 * today's counts read the table alone.  A status without a group is a group
 * of its own.
 */
CREATE FUNCTION statusflow_internal.counts(b statusflow.binding, since timestamptz,
								   until timestamptz, filter jsonb,
								   by_group boolean)
RETURNS TABLE (unit text, group_name text, entities bigint, share numeric,
			   entries bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s statusflow.summary := statusflow_internal.summary_for(b, filter);
	snapshot text;
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	IF until IS NULL THEN
		snapshot := format('SELECT t.%I AS status, pg_catalog.count(*) AS n '
						   'FROM %s t WHERE %s GROUP BY 1',
						   b.column_name, b.table_name,
						   statusflow_internal.filter_sql(b, filter, 't'));
	ELSIF s.binding_id IS NOT NULL AND statusflow_internal.on_bucket(s, until) THEN
		snapshot := statusflow_internal.summary_status_at_sql(b, s);
	ELSE
		snapshot := format('SELECT pe.enumlabel AS status, pg_catalog.count(*) AS n '
						   'FROM statusflow_internal.entities(%L, %s, $1, $2) e '
						   'JOIN pg_catalog.pg_enum pe ON pe.oid = e.last_status '
						   'GROUP BY 1',
						   statusflow_internal.rows_sql(b, until, filter, ''),
						   cardinality(b.key_columns));
	END IF;
	RETURN QUERY EXECUTE format($q$
		WITH units AS (
			SELECT s.status, s.rank, s.group_name,
				   CASE WHEN $3 THEN coalesce(s.group_name, s.status)
						ELSE s.status END AS unit
			FROM statusflow.statuses s WHERE s.workflow = $4),
		snapshot AS (SELECT x.status::text AS status, x.n FROM (%s) x),
		moves AS (SELECT m.from_status::text AS from_status,
						 m.to_status::text AS to_status, m.n FROM (%s) m),
		entries AS (
			SELECT tu.unit, sum(m.n) AS n
			FROM moves m
			JOIN units tu ON tu.status = m.to_status
			LEFT JOIN units fu ON fu.status = m.from_status
			WHERE fu.unit IS DISTINCT FROM tu.unit
			GROUP BY tu.unit)
		SELECT u.unit,
			   CASE WHEN $3 THEN u.unit ELSE min(u.group_name) END,
			   coalesce(sum(sn.n), 0)::bigint,
			   round(coalesce(sum(sn.n), 0) / nullif(sum(sum(sn.n)) OVER (), 0), 4),
			   CASE WHEN $1 IS NOT NULL THEN coalesce(min(e.n), 0)::bigint END
		FROM units u
		LEFT JOIN snapshot sn ON sn.status = u.status
		LEFT JOIN entries e ON e.unit = u.unit
		GROUP BY u.unit
		ORDER BY min(u.rank)$q$,
		snapshot,
		CASE WHEN since IS NOT NULL THEN statusflow_internal.moves_sql(b, since, until, filter)
			 ELSE format('SELECT h.from_status, h.to_status, 0::bigint AS n '
						 'FROM %s h WHERE false', b.history_table) END)
	USING since, until, by_group, b.workflow;
END
$$;

/*
 * Entities in each status of the workflow (zero included) at the end of the
 * window, their share, and how many entered the status during the window
 * (null when the window has no start).
 */
CREATE FUNCTION statusflow.status_counts(table_name regclass,
										 since timestamptz DEFAULT NULL,
										 until timestamptz DEFAULT NULL,
										 filter jsonb DEFAULT NULL,
										 column_name name DEFAULT NULL)
RETURNS TABLE (status text, group_name text, entities bigint, share numeric,
			   entries bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.unit, c.group_name, c.entities, c.share, c.entries
	FROM statusflow_internal.counts(statusflow_internal.binding(table_name, column_name),
							since, until, filter, false) WITH ORDINALITY c
	ORDER BY c.ordinality
$$;

/* The same by group: entries are moves into the group from outside it. */
CREATE FUNCTION statusflow.group_counts(table_name regclass,
										since timestamptz DEFAULT NULL,
										until timestamptz DEFAULT NULL,
										filter jsonb DEFAULT NULL,
										column_name name DEFAULT NULL)
RETURNS TABLE (group_name text, entities bigint, share numeric, entries bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.unit, c.entities, c.share, c.entries
	FROM statusflow_internal.counts(statusflow_internal.binding(table_name, column_name),
							since, until, filter, true) WITH ORDINALITY c
	ORDER BY c.ordinality
$$;

/*
 * Funnels
 */

/*
 * The entities of a funnel, as (cohort, mask, n): how many entered the
 * workflow in the window ($1, $2) in each cohort (period of entry, or
 * NULL) with each mask of the steps they reached (bits: "WHEN status THEN
 * bit ..." of the steps' statuses).  From the summary's entities by bucket
 * of entry and statuses reached, when the window's ends and the periods
 * fall on its buckets; else one pass over the history.
 */
CREATE FUNCTION statusflow_internal.funnel_masks_sql(b statusflow.binding, bits text,
													 period text, since timestamptz,
													 until timestamptz, filter jsonb)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s statusflow.summary := statusflow_internal.summary_for(b, filter);
BEGIN
	IF s.binding_id IS NOT NULL AND statusflow_internal.on_bucket(s, since)
	   AND statusflow_internal.on_bucket(s, until)
	   AND (period IS NULL
			OR statusflow_internal.periods_on_buckets(s, 'f', period, since, until)) THEN
		-- without cohorts or window, the counts of every bucket summed (F)
		RETURN format('SELECT g.cohort, (SELECT coalesce(pg_catalog.bit_or(CASE st %s ELSE 0 END), 0) '
					  'FROM pg_catalog.unnest(g.reached) st) AS mask, pg_catalog.sum(g.n) AS n '
					  'FROM (SELECT %s AS cohort, c.reached, pg_catalog.sum(c.n) AS n FROM %s c '
					  'GROUP BY 1, 2 HAVING pg_catalog.sum(c.n) OPERATOR(pg_catalog.<>) 0) g '
					  'GROUP BY 1, 2',
					  bits, statusflow_internal.cohort_sql(period, 'c.bucket'),
					  statusflow_internal.summary_sql(b, s,
						  CASE WHEN period IS NULL AND since IS NULL AND until IS NULL
							   THEN 'F' ELSE 'f' END::"char",
						  statusflow_internal.window_sql('c.bucket', since, until)));
	END IF;
	RETURN format('SELECT e.cohort, e.mask, pg_catalog.count(*) AS n FROM ('
				  'SELECT %s AS cohort, e.mask '
				  'FROM statusflow_internal.entities(%L, %s, NULL, NULL) e WHERE true%s) e '
				  'GROUP BY 1, 2',
				  statusflow_internal.cohort_sql(period, 'e.first_at'),
				  statusflow_internal.rows_sql(b, NULL, filter,
											   format(', CASE h.to_status %s ELSE 0 END', bits)),
				  cardinality(b.key_columns),
				  statusflow_internal.window_sql('e.first_at', since, until));
END
$$;

/* The cohort of a time, as SQL: its day, week or month; NULL::date without. */
CREATE FUNCTION statusflow_internal.cohort_sql(period text, expr text)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN period IS NULL THEN 'NULL::date'
				ELSE format('pg_catalog.date_trunc(%L, %s)::date', period, expr) END
$$;

/*
 * The funnel of the entities that entered the workflow in the window (their
 * earliest applied history row), by cohort when period is set.  One pass
 * over the history folds each entity into a bit per step it reached,
 * whenever it reached it; a later step counts for the earlier ones when
 * later_implies_earlier.
 */
CREATE FUNCTION statusflow_internal.funnel(b statusflow.binding, steps text[],
								   period text, since timestamptz,
								   until timestamptz, filter jsonb,
								   later_implies_earlier boolean)
RETURNS TABLE (cohort date, cohort_size bigint, step_no integer, step text,
			   entities bigint, step_conversion numeric, step_base text,
			   overall_conversion numeric, overall_base text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bits text;
	twice text;
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.require(later_implies_earlier IS NOT NULL,
								'later_implies_earlier');
	steps := coalesce(steps, statusflow_internal.main_path(b.workflow));
	IF coalesce(cardinality(steps), 0) NOT BETWEEN 1 AND 31 THEN
		RAISE EXCEPTION 'a funnel has from 1 to 31 steps, not %',
			coalesce(cardinality(steps), 0)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	WITH m AS (
		SELECT s.n::integer AS step_no, st AS status
		FROM unnest(steps) WITH ORDINALITY AS s(name, n),
			 unnest(statusflow_internal.statuses_named(b.workflow, s.name, 'step')) AS st)
	SELECT string_agg(format('WHEN %L THEN %s', m.status, 1 << (m.step_no - 1)), ' '),
		   (SELECT d.status FROM m d GROUP BY d.status HAVING count(*) > 1
			ORDER BY 1 LIMIT 1)
	INTO bits, twice
	FROM m;
	IF twice IS NOT NULL THEN
		RAISE EXCEPTION 'status "%" belongs to several steps of the funnel', twice
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Each status counts for one step at most.';
	END IF;
	RETURN QUERY EXECUTE format($q$
		WITH masks AS (%s),
		sizes AS (SELECT min(m.cohort) AS cohort, coalesce(sum(m.n), 0) AS size
				  FROM masks m %s),
		reached AS (
			SELECT z.cohort, z.size, s.n::integer AS step_no, s.name AS step,
				   coalesce(sum(m.n) FILTER (
					   WHERE CASE WHEN $3 THEN (m.mask >> (s.n::integer - 1)) <> 0
								  ELSE ((m.mask >> (s.n::integer - 1)) & 1) = 1 END), 0)
				   AS entities
			FROM sizes z CROSS JOIN unnest($4::text[]) WITH ORDINALITY AS s(name, n)
			LEFT JOIN masks m ON %s
			GROUP BY z.cohort, z.size, s.n, s.name)
		SELECT r.cohort, r.size::bigint, r.step_no, r.step, r.entities::bigint,
			   round(r.entities / nullif(lag(r.entities) OVER w, 0), 4),
			   lag(r.step) OVER w,
			   round(r.entities / nullif(first_value(r.entities) OVER w, 0), 4),
			   first_value(r.step) OVER w
		FROM reached r
		WINDOW w AS (PARTITION BY r.cohort ORDER BY r.step_no)
		ORDER BY r.cohort, r.step_no$q$,
		statusflow_internal.funnel_masks_sql(b, bits, period, since, until, filter),
		CASE WHEN period IS NOT NULL THEN 'GROUP BY m.cohort' END,
		-- one cohort without a period (NULL); by cohort, a hash join
		CASE WHEN period IS NOT NULL THEN 'm.cohort = z.cohort' ELSE 'true' END)
	USING since, until, later_implies_earlier, steps;
END
$$;

/*
 * How many entities reached each step, the conversion from the step before
 * (step_base) and from the first step (overall_base).
 */
CREATE FUNCTION statusflow.funnel(table_name regclass,
								  steps text[] DEFAULT NULL,
								  since timestamptz DEFAULT NULL,
								  until timestamptz DEFAULT NULL,
								  filter jsonb DEFAULT NULL,
								  later_implies_earlier boolean DEFAULT true,
								  column_name name DEFAULT NULL)
RETURNS TABLE (step_no integer, step text, entities bigint,
			   step_conversion numeric, step_base text,
			   overall_conversion numeric, overall_base text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT f.step_no, f.step, f.entities, f.step_conversion, f.step_base,
		   f.overall_conversion, f.overall_base
	FROM statusflow_internal.funnel(statusflow_internal.binding(table_name, column_name), steps,
							NULL, since, until, filter, later_implies_earlier) f
	ORDER BY f.step_no
$$;

/* The funnel of each day, week or month of entry into the workflow. */
CREATE FUNCTION statusflow.funnel_cohorts(table_name regclass,
										  steps text[] DEFAULT NULL,
										  period text DEFAULT 'week',
										  since timestamptz DEFAULT NULL,
										  until timestamptz DEFAULT NULL,
										  filter jsonb DEFAULT NULL,
										  later_implies_earlier boolean DEFAULT true,
										  column_name name DEFAULT NULL)
RETURNS TABLE (cohort date, cohort_size bigint, step_no integer, step text,
			   entities bigint, step_conversion numeric, step_base text,
			   overall_conversion numeric, overall_base text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.check_period(period);
	RETURN QUERY
	SELECT f.* FROM statusflow_internal.funnel(statusflow_internal.binding(table_name, column_name),
									   steps, period, since, until, filter,
									   later_implies_earlier) f
	ORDER BY f.cohort, f.step_no;
END
$$;

/*
 * Time in status and transitions
 */

/* Seconds as an interval of days and hours, as people read durations. */
CREATE FUNCTION statusflow_internal.seconds(secs double precision)
RETURNS interval LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT justify_hours(make_interval(secs => secs))
$$;

/*
 * Count, mean, median and 90th percentile of the stays in each status that
 * overlap the window, each cut to its part inside the window; open stays
 * (still running at the end of the window) last until now, or are left out.
 * One pass over the history in recording order pairs each entity's rows;
 * without a window, the summaries hold them.
 */
CREATE FUNCTION statusflow.time_in_status(table_name regclass,
										  since timestamptz DEFAULT NULL,
										  until timestamptz DEFAULT NULL,
										  filter jsonb DEFAULT NULL,
										  include_open boolean DEFAULT true,
										  column_name name DEFAULT NULL)
RETURNS TABLE (status text, stays bigint, open_stays bigint, mean interval,
			   median interval, p90 interval)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	s statusflow.summary := statusflow_internal.summary_for(b, filter);
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.require(include_open IS NOT NULL, 'include_open');
	RETURN QUERY EXECUTE format($q$
		SELECT s.status, coalesce(p.stays, 0), coalesce(p.open_stays, 0),
			   statusflow_internal.seconds(p.mean), statusflow_internal.seconds(p.median),
			   statusflow_internal.seconds(p.p90)
		FROM statusflow.statuses s
		LEFT JOIN (SELECT pe.enumlabel AS status, x.stays, x.open_stays,
						  x.mean, x.median, x.p90
				   FROM %s x
				   JOIN pg_catalog.pg_enum pe ON pe.oid = x.status) p
			   ON p.status = s.status
		WHERE s.workflow = $4
		ORDER BY s.rank$q$,
		CASE WHEN s.binding_id IS NOT NULL AND since IS NULL AND until IS NULL
			 THEN format('statusflow_internal.summary_stays(%s, $3)', b.id)
			 ELSE format('statusflow_internal.stay_stats(%L, %s, $1, $2, $3)',
						 statusflow_internal.rows_sql(b, until, filter, '')
						 || ' ORDER BY h.history_id',
						 cardinality(b.key_columns)) END)
	USING since, until, include_open, b.workflow;
END
$$;

/*
 * Applied changes in the window by (from_status, to_status), with every
 * declared transition (zero when unused); from_status is null for entries.
 * A declared transition without to_status (back to the previous status)
 * declares every move from its from_status.
 */
CREATE FUNCTION statusflow.transition_matrix(table_name regclass,
											 since timestamptz DEFAULT NULL,
											 until timestamptz DEFAULT NULL,
											 filter jsonb DEFAULT NULL,
											 column_name name DEFAULT NULL)
RETURNS TABLE (from_status text, to_status text, transitions bigint,
			   declared boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	RETURN QUERY EXECUTE format($q$
		WITH moves AS (SELECT m.from_status::text AS from_status,
							  m.to_status::text AS to_status, m.n FROM (%s) m),
		declared AS (SELECT DISTINCT t.from_status, t.to_status
					 FROM statusflow.transitions t
					 WHERE t.workflow = $3 AND t.to_status IS NOT NULL),
		to_previous AS (SELECT DISTINCT t.from_status
						FROM statusflow.transitions t
						WHERE t.workflow = $3 AND t.to_status IS NULL)
		SELECT coalesce(m.from_status, d.from_status),
			   coalesce(m.to_status, d.to_status),
			   coalesce(m.n, 0)::bigint,
			   CASE WHEN coalesce(m.from_status, d.from_status) IS NOT NULL
					THEN d.to_status IS NOT NULL
						 OR m.from_status IN (SELECT p.from_status FROM to_previous p) END
		FROM moves m
		FULL JOIN declared d
		  ON d.from_status = m.from_status AND d.to_status = m.to_status
		LEFT JOIN statusflow.statuses f
		  ON f.workflow = $3 AND f.status = coalesce(m.from_status, d.from_status)
		LEFT JOIN statusflow.statuses t
		  ON t.workflow = $3 AND t.status = coalesce(m.to_status, d.to_status)
		ORDER BY f.rank NULLS FIRST, t.rank$q$,
		statusflow_internal.moves_sql(b, since, until, filter))
	USING since, until, b.workflow;
END
$$;

/*
 * Follow-up lists and queues
 */

/*
 * Entities in a status (or in any status of a group; null: any non-terminal
 * status) for at least older_than, oldest first, with the last history row
 * of each (which may be a provider event recorded but not applied).  The
 * window applies to the time they entered their status.  Without JIT: the
 * plan is index probes, whose compiled expressions cannot pay back the
 * compilation (0.4 s on large tables).
 */
CREATE FUNCTION statusflow.stale(table_name regclass, status text,
								 older_than interval,
								 since timestamptz DEFAULT NULL,
								 until timestamptz DEFAULT NULL,
								 filter jsonb DEFAULT NULL,
								 column_name name DEFAULT NULL)
RETURNS TABLE (key jsonb, current_status text, entered_at timestamptz,
			   time_in_status interval, last_event text,
			   last_event_at timestamptz, last_actor text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	statuses text[];
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.require(older_than IS NOT NULL, 'older_than');
	IF stale.status IS NULL THEN
		SELECT array_agg(s.status ORDER BY s.rank) INTO statuses
		FROM statusflow.statuses s
		WHERE s.workflow = b.workflow AND NOT s.is_terminal;
		IF statuses IS NULL THEN
			RETURN;
		END IF;
	ELSE
		statuses := statusflow_internal.statuses_named(b.workflow, stale.status, 'status');
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT c.key, c.status, c.entered_at, '
		'pg_catalog.justify_hours(pg_catalog.now() - c.entered_at), '
		'c.last_event, c.last_event_at, c.last_actor '
		'FROM (%s) c WHERE c.entered_at <= pg_catalog.now() - $3%s '
		'ORDER BY c.entered_at, c.entry_id',
		statusflow_internal.current_sql(b, statuses, filter),
		statusflow_internal.window_sql('c.entered_at', since, until))
	USING since, until, older_than;
END
$$;

/*
 * Where an entity stands among the entities of its current status (those
 * matching the filter), by the time they entered it: the waiting list.
 * Without JIT, like stale().
 */
CREATE FUNCTION statusflow_internal.queue_position(b statusflow.binding, key jsonb,
										   filter jsonb)
RETURNS TABLE (status text, "position" bigint, queue_length bigint,
			   entered_at timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	current_status text;
BEGIN
	EXECUTE format('SELECT t.%I::text FROM %s t WHERE %s', b.column_name,
				   b.table_name, statusflow_internal.key_match_sql(b, 't', '$1'))
	INTO current_status USING key;
	IF current_status IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT q.status, q.pos, q.total, q.entered_at FROM ('
		'SELECT c.key, c.status, c.entered_at, '
		'pg_catalog.row_number() OVER (ORDER BY c.entered_at, c.entry_id) AS pos, '
		'pg_catalog.count(*) OVER () AS total FROM (%s) c) q WHERE q.key = $1',
		statusflow_internal.current_sql(b, ARRAY[current_status], filter))
	USING key;
END
$$;

CREATE FUNCTION statusflow.queue_position(table_name regclass, key anyelement,
										  filter jsonb DEFAULT NULL,
										  column_name name DEFAULT NULL)
RETURNS TABLE (status text, "position" bigint, queue_length bigint,
			   entered_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT q.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.queue_position(b, statusflow_internal.key_object(b.id, key), filter) q
$$;

-- The same with the key as text, so that an untyped literal ('42', or
-- '(north,7)' for a composite key) resolves.
CREATE FUNCTION statusflow.queue_position(table_name regclass, key text,
										  filter jsonb DEFAULT NULL,
										  column_name name DEFAULT NULL)
RETURNS TABLE (status text, "position" bigint, queue_length bigint,
			   entered_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT q.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.queue_position(b, statusflow_internal.key_object(b.id, key), filter) q
$$;

/*
 * One entity in the past
 */

/*
 * The status of an entity at a time: that of its last applied history row
 * (in recording order) that occurred at or before it; null before its first.
 */
CREATE FUNCTION statusflow_internal.status_at(b statusflow.binding, key jsonb,
									  at timestamptz)
RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result text;
BEGIN
	PERFORM statusflow_internal.require(at IS NOT NULL, 'at');
	EXECUTE format('SELECT h.to_status::text FROM %s h WHERE %s AND h.applied '
				   'AND h.occurred_at <= $2 ORDER BY h.history_id DESC LIMIT 1',
				   statusflow_internal.history_sql(b), statusflow_internal.key_match_sql(b, 'h', '$1'))
	INTO result USING key, at;
	RETURN result;
END
$$;

CREATE FUNCTION statusflow.status_at(table_name regclass, key anyelement,
									 at timestamptz,
									 column_name name DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.status_at(b, statusflow_internal.key_object(b.id, key), at)
	FROM statusflow_internal.binding(table_name, column_name) b
$$;

CREATE FUNCTION statusflow.status_at(table_name regclass, key text,
									 at timestamptz,
									 column_name name DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.status_at(b, statusflow_internal.key_object(b.id, key), at)
	FROM statusflow_internal.binding(table_name, column_name) b
$$;

/*
 * The history of an entity in recording order, each applied row with the
 * time spent in the status it entered (until the next applied row, or now):
 * rows of type statusflow.timeline_entry (see src/sql/00_catalog.sql).
 */

CREATE FUNCTION statusflow_internal.timeline(b statusflow.binding, key jsonb,
									 since timestamptz, until timestamptz)
RETURNS SETOF statusflow.timeline_entry LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	RETURN QUERY EXECUTE format($q$
		SELECT x.* FROM (
			SELECT h.history_id, h.from_status::text, h.to_status::text,
				   h.event, h.actor, h.db_role, h.reason, h.metadata,
				   h.occurred_at, h.recorded_at, h.applied, h.event_id,
				   CASE WHEN h.applied THEN pg_catalog.justify_hours(greatest(
						interval '0',
						coalesce(pg_catalog.lead(h.occurred_at) OVER (
									 PARTITION BY h.applied ORDER BY h.history_id),
								 pg_catalog.now()) - h.occurred_at)) END
			FROM %s h WHERE %s) x
		WHERE true%s
		ORDER BY x.history_id$q$,
		statusflow_internal.history_sql(b), statusflow_internal.key_match_sql(b, 'h', '$3'),
		statusflow_internal.window_sql('x.occurred_at', since, until))
	USING since, until, key;
END
$$;

CREATE FUNCTION statusflow.timeline(table_name regclass, key anyelement,
									since timestamptz DEFAULT NULL,
									until timestamptz DEFAULT NULL,
									column_name name DEFAULT NULL)
RETURNS SETOF statusflow.timeline_entry LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.timeline(b, statusflow_internal.key_object(b.id, key), since, until) t
$$;

CREATE FUNCTION statusflow.timeline(table_name regclass, key text,
									since timestamptz DEFAULT NULL,
									until timestamptz DEFAULT NULL,
									column_name name DEFAULT NULL)
RETURNS SETOF statusflow.timeline_entry LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t.* FROM statusflow_internal.binding(table_name, column_name) b,
		statusflow_internal.timeline(b, statusflow_internal.key_object(b.id, key), since, until) t
$$;

/*
 * Series
 */

/*
 * Entries into each status per day, week or month (in the session's time
 * zone), zero included, from the window's first period (else the first
 * entry's) to its last (else the current period, or the last entry's).
 * Times are read in the session's zone by name ($5), so that the shards
 * of a distributed history, which run with their own TimeZone, put an
 * entry in the same period as one node would.
 */
CREATE FUNCTION statusflow.entry_series(table_name regclass,
										period text DEFAULT 'day',
										since timestamptz DEFAULT NULL,
										until timestamptz DEFAULT NULL,
										filter jsonb DEFAULT NULL,
										column_name name DEFAULT NULL)
RETURNS TABLE (period_start date, status text, entries bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	sm statusflow.summary := statusflow_internal.summary_for(b, filter);
BEGIN
	PERFORM statusflow_internal.check_window(since, until);
	PERFORM statusflow_internal.check_period(period);
	RETURN QUERY EXECUTE format($q$
		WITH e AS (%s),
		bounds AS (
			SELECT coalesce(pg_catalog.date_trunc($3, $1)::date,
							min(e.period_start)) AS first_period,
				   coalesce(pg_catalog.date_trunc($3, $2 - interval '1 microsecond')::date,
							greatest(max(e.period_start),
									 pg_catalog.date_trunc($3, pg_catalog.now())::date))
					   AS last_period
			FROM e),
		periods AS (
			SELECT g::date AS period_start
			FROM bounds,
				 pg_catalog.generate_series(bounds.first_period::timestamp,
											bounds.last_period::timestamp,
											('1 ' || $3)::interval) g)
		SELECT p.period_start, s.status, coalesce(e.n, 0)::bigint
		FROM periods p
		CROSS JOIN statusflow.statuses s
		LEFT JOIN e ON e.period_start = p.period_start AND e.to_status::text = s.status
		WHERE s.workflow = $4
		ORDER BY p.period_start, s.rank$q$,
		CASE WHEN sm.binding_id IS NOT NULL AND statusflow_internal.on_bucket(sm, since)
				  AND statusflow_internal.on_bucket(sm, until)
				  AND statusflow_internal.periods_on_buckets(sm, 'm', period, since, until)
			 THEN format('SELECT pg_catalog.date_trunc($3, pg_catalog.timezone($5, c.bucket))::date AS period_start, '
						 'c.status AS to_status, pg_catalog.sum(c.n) AS n FROM %s c GROUP BY 1, 2',
						 statusflow_internal.summary_sql(b, sm, 'm',
							 ' AND NOT coalesce(c.from_status OPERATOR(pg_catalog.=) c.status, false)'
							 || statusflow_internal.window_sql('c.bucket', since, until)))
			 ELSE format('SELECT pg_catalog.date_trunc($3, pg_catalog.timezone($5, h.occurred_at))::date AS period_start, '
						 'h.to_status, pg_catalog.count(*) AS n '
						 'FROM %s h WHERE h.applied AND %s%s%s GROUP BY 1, 2',
						 statusflow_internal.history_sql(b), statusflow_internal.entry_sql('h'),
						 statusflow_internal.window_sql('h.occurred_at', since, until),
						 statusflow_internal.history_filter_sql(b, filter)) END)
	USING since, until, period, b.workflow, pg_catalog.current_setting('TimeZone');
END
$$;

/*
 * Dashboard
 */

/* A bar of value / most of width characters, in eighths of a character. */
CREATE FUNCTION statusflow_internal.bar(value numeric, most numeric, width integer)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT repeat('█', e / 8) || substr('▏▎▍▌▋▊▉', e % 8, 1)
	FROM (SELECT round(coalesce(value * width * 8 / nullif(most, 0), 0))::integer AS e) x
$$;

/* A ratio as a percentage with one decimal, "-" when there is none. */
CREATE FUNCTION statusflow_internal.percent(ratio numeric)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(to_char(ratio * 100, 'FM990.0') || '%', '-')
$$;

/*
 * A duration in its two largest units, the second left out when zero:
 * "3d 4h", "5h", "7m".
 */
CREATE FUNCTION statusflow_internal.short_interval(i interval)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN s >= 86400
				THEN (s / 86400) || 'd'
					 || coalesce(' ' || nullif(s % 86400 / 3600, 0) || 'h', '')
				WHEN s >= 3600
				THEN (s / 3600) || 'h'
					 || coalesce(' ' || nullif(s % 3600 / 60, 0) || 'm', '')
				ELSE (s / 60) || 'm' END
	FROM (SELECT floor(date_part('epoch', i))::bigint AS s) x
$$;

/*
 * The oldest entities in a status (statuses: labels) for at least
 * older_than, at most top of them, as stale() lists them, from a summary:
 * its entities in the order they entered their status (an index), each
 * looked up in the table for its status, until top are found.  Reads the
 * history as stale() does when many entities come first that are in other
 * statuses (when it has read a million).
 */
CREATE FUNCTION statusflow_internal.stale_top(b statusflow.binding, s statusflow.summary,
											  statuses text[], older_than interval,
											  top integer)
RETURNS TABLE (key jsonb, current_status text, entered_at timestamptz,
			   time_in_status interval, last_event text,
			   last_event_at timestamptz, last_actor text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	cap bigint := greatest(top, 1) OPERATOR(pg_catalog.*) 16;
	q text;
	r record;
	walked bigint;
	found jsonb[];
BEGIN
	q := format($q$
		WITH d AS MATERIALIZED (SELECT * FROM %1$s WHERE d.kind OPERATOR(pg_catalog.=) 'E'),
		c AS (
			SELECT * FROM (
				(SELECT %2$s, e.last_at, e.last_id FROM %3$s e
				 WHERE e.last_at OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)
				   AND NOT EXISTS (SELECT FROM d WHERE %4$s)
				 ORDER BY e.last_at, e.last_id LIMIT $2)
				UNION ALL
				SELECT %5$s, d.at, d.x FROM d
				WHERE d.at OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)) c
			ORDER BY c.last_at, c.last_id LIMIT $2),
		f AS (
			SELECT c.*, %6$s AS key, t.%7$I::text AS status FROM c JOIN %8$s t ON %9$s
			WHERE t.%7$I::text OPERATOR(pg_catalog.=) ANY ($4)
			ORDER BY c.last_at, c.last_id LIMIT $3)
		SELECT w.walked, f.key, f.status, f.last_at, l.event, l.occurred_at, l.actor
		FROM (SELECT pg_catalog.count(*) AS walked FROM c) w
		LEFT JOIN f ON true
		LEFT JOIN LATERAL (SELECT h.event, h.occurred_at, h.actor FROM %10$s h
						   WHERE %11$s ORDER BY h.history_id DESC LIMIT 1) l ON true
		ORDER BY f.last_at, f.last_id$q$,
		statusflow_internal.tail_sql(b, s),
		statusflow_internal.each_key(b, 'e.%1$I', ', '),
		s.entities,
		statusflow_internal.fold_keys(b, 'd', 'e'),
		statusflow_internal.fold_keys(b, 'd'),
		statusflow_internal.key_json_sql(b, 't'),
		b.column_name,
		b.table_name,
		statusflow_internal.each_key(b, 't.%1$I = c.%1$I', ' AND '),
		b.history_table,
		statusflow_internal.each_key(b, 'h.%1$I = f.%1$I', ' AND '));
	WHILE top IS NOT NULL AND cap OPERATOR(pg_catalog.<=) 1048576 LOOP
		found := '{}';
		FOR r IN EXECUTE q USING older_than, cap, top, statuses LOOP
			walked := r.walked;
			IF r.key IS NOT NULL THEN
				found := found || jsonb_build_array(r.key, r.status, r.last_at, r.event,
													 r.occurred_at, r.actor);
			END IF;
		END LOOP;
		IF cardinality(found) OPERATOR(pg_catalog.>=) top OR walked OPERATOR(pg_catalog.<) cap THEN
			RETURN QUERY
			SELECT x.v -> 0, x.v ->> 1, (x.v ->> 2)::timestamptz,
				   justify_hours(now() - (x.v ->> 2)::timestamptz), x.v ->> 3,
				   (x.v ->> 4)::timestamptz, x.v ->> 5
			FROM unnest(found) WITH ORDINALITY AS x(v, n) ORDER BY x.n;
			RETURN;
		END IF;
		cap := cap OPERATOR(pg_catalog.*) 8;
	END LOOP;
	RETURN QUERY
	SELECT x.* FROM statusflow.stale(b.table_name, NULL, older_than,
									 column_name => b.column_name) x
	LIMIT top;
END
$$;

/*
 * The state of a binding as lines of text for psql: entities per status with
 * a bar, per group when the workflow has groups, the funnel (steps, by
 * default the workflow's main path), and the entities that have been in a
 * non-terminal status the longest, for at least stale_after.  The table is
 * counted once; with summaries, the funnel and the oldest entities come
 * from them.
 */
CREATE FUNCTION statusflow.dashboard(table_name regclass,
									 steps text[] DEFAULT NULL,
									 stale_after interval DEFAULT '3 days',
									 top integer DEFAULT 5,
									 filter jsonb DEFAULT NULL,
									 column_name name DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	s statusflow.summary := statusflow_internal.summary_for(b, filter);
	bar_width CONSTANT integer := 30;
	statuses text[];
	units text[];
	counts bigint[];
	open_statuses text[];
BEGIN
	SELECT array_agg(c.status ORDER BY c.ordinality),
		   array_agg(coalesce(c.group_name, c.status) ORDER BY c.ordinality),
		   array_agg(c.entities ORDER BY c.ordinality)
	INTO statuses, units, counts
	FROM statusflow.status_counts(table_name, filter => filter,
								  column_name => b.column_name) WITH ORDINALITY c;
	RETURN NEXT format('%s.%I (workflow %s): %s entities%s', b.table_name,
		b.column_name, b.workflow, (SELECT sum(n) FROM unnest(counts) n),
		CASE WHEN filter IS NOT NULL THEN ' matching ' || filter::text END);

	RETURN NEXT '';
	RETURN NEXT 'Statuses';
	RETURN QUERY
	SELECT format('  %-*s  %*s  %-*s  %6s', max(length(c.status)) OVER (), c.status,
				  max(length(c.entities::text)) OVER (), c.entities, bar_width,
				  statusflow_internal.bar(c.entities, max(c.entities) OVER (), bar_width),
				  statusflow_internal.percent(coalesce(
					  round(c.entities / nullif(sum(c.entities) OVER (), 0), 4), 0)))
	FROM unnest(statuses, counts) WITH ORDINALITY AS c(status, entities, n)
	ORDER BY c.n;

	IF EXISTS (SELECT 1 FROM statusflow.statuses x
			   WHERE x.workflow = b.workflow AND x.group_name IS NOT NULL) THEN
		RETURN NEXT '';
		RETURN NEXT 'Groups';
		RETURN QUERY
		SELECT format('  %-*s  %*s  %-*s  %6s', max(length(g.unit)) OVER (),
					  g.unit, max(length(g.entities::text)) OVER (), g.entities,
					  bar_width,
					  statusflow_internal.bar(g.entities, max(g.entities) OVER (), bar_width),
					  statusflow_internal.percent(coalesce(
						  round(g.entities / nullif(sum(g.entities) OVER (), 0), 4), 0)))
		FROM (SELECT c.unit, sum(c.entities) AS entities, min(c.n) AS n
			  FROM unnest(units, counts) WITH ORDINALITY AS c(unit, entities, n)
			  GROUP BY c.unit) g
		ORDER BY g.n;
	END IF;

	RETURN NEXT '';
	RETURN NEXT 'Funnel (reaching a step counts for the steps before it)';
	RETURN QUERY
	SELECT format('  %-*s  %*s  %s', max(length(f.step)) OVER (), f.step,
				  max(length(f.entities::text)) OVER (), f.entities,
				  CASE WHEN f.step_no > 1 THEN
					  format('%6s of %-*s  %6s of %s',
							 statusflow_internal.percent(f.step_conversion),
							 max(length(f.step)) OVER (), f.step_base,
							 statusflow_internal.percent(f.overall_conversion),
							 f.overall_base) END)
	FROM statusflow.funnel(table_name, steps, filter => filter,
						   column_name => b.column_name) f
	ORDER BY f.step_no;

	RETURN NEXT '';
	RETURN NEXT format('Stale: in a non-terminal status for %s or more, oldest first (top %s)',
					   statusflow_internal.short_interval(stale_after), top);
	SELECT array_agg(x.status ORDER BY x.rank) INTO open_statuses
	FROM statusflow.statuses x WHERE x.workflow = b.workflow AND NOT x.is_terminal;
	RETURN QUERY
	SELECT format('  %-*s  %-*s  %8s  since %s  last: %s%s',
				  max(length(x.key::text)) OVER (), x.key::text,
				  max(length(x.current_status)) OVER (), x.current_status,
				  statusflow_internal.short_interval(x.time_in_status),
				  to_char(x.entered_at, 'YYYY-MM-DD HH24:MI'),
				  coalesce(x.last_event, '-'), ' by ' || x.last_actor)
	FROM (SELECT y.*
		  FROM statusflow_internal.stale_top(b, s, open_statuses, stale_after, top)
			   WITH ORDINALITY y
		  WHERE s.binding_id IS NOT NULL AND open_statuses IS NOT NULL
		  UNION ALL
		  SELECT y.*
		  FROM (SELECT z.* FROM statusflow.stale(table_name, NULL, stale_after, filter => filter,
												 column_name => b.column_name) WITH ORDINALITY z
				ORDER BY z.ordinality LIMIT top) y
		  WHERE s.binding_id IS NULL) x
	ORDER BY x.ordinality;
	IF NOT FOUND THEN
		RETURN NEXT '  (none)';
	END IF;
END
$$;

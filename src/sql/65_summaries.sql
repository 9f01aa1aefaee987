/*
 * Summaries: reports that do not grow with the history
 *
 * A report over a whole history reads every row of it.  A binding with
 * summaries (enable_summaries(), opt-in) keeps, next to its history table,
 * counts folded from the history (src/summary_fold.c lists them): moves
 * per period, the entities' statuses at each period's end, each entity's
 * first entry and the statuses it reached, its stays and their durations.
 * tick() and refresh_summaries() fold the rows added since the last time;
 * a report reads the summaries plus the rows not folded yet (the tail),
 * folded on the fly, so that its answer is the one it would give from the
 * history alone.
 *
 * What is folded is decided by transaction snapshots, not by history_id: a
 * summary counts every row whose transaction is visible in the snapshot
 * statusflow.summary.folded, and no other, so the tail is every row whose
 * transaction is not visible in it (found through an index on txid, as
 * change feeds find theirs).  A change that commits late, with a lower
 * history_id, is in the tail until it is folded.  A summary and its
 * snapshot change together, in one transaction, and a report reads both in
 * one snapshot (reports are STABLE functions).
 *
 * The summary tables belong to the history table's owner, like the history;
 * everyone may SELECT from them, and a row-level security policy lets
 * through only the roles that may read the whole history (SELECT on the
 * history table, no row-level security on the bound table).  They are
 * written only by the owner: tick() and refresh_summaries() fold as the
 * owner of the history table, in a security-restricted operation (see
 * src/summaries.c), so that a superuser running tick() runs no tenant code
 * with its rights.
 */

/*
 * The index on txid that finds the history rows of recent transactions,
 * unless an index already starts with txid: change feeds and summaries read
 * their new rows through it.  Run by the history table's owner.
 */
CREATE FUNCTION statusflow_internal.index_txid(history regclass)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
				   JOIN pg_catalog.pg_attribute a
					 ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
					AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]
				   WHERE i.indrelid OPERATOR(pg_catalog.=) history
					 AND a.attname OPERATOR(pg_catalog.=) 'txid') THEN
		EXECUTE pg_catalog.format('CREATE INDEX ON %s (txid)', history);
	END IF;
END
$$;

/* The start of the summary bucket of t: a multiple of period since 2000. */
CREATE FUNCTION statusflow_internal.bucket(t timestamptz, period interval)
RETURNS timestamptz LANGUAGE c IMMUTABLE
AS 'MODULE_PATHNAME', 'sf_bucket';

/*
 * The start of the block of summary buckets (src/summary_fold.c) that holds
 * t or, with next, the first start of a block at or after t.
 */
CREATE FUNCTION statusflow_internal.block(t timestamptz, period interval, next boolean)
RETURNS timestamptz LANGUAGE c IMMUTABLE
AS 'MODULE_PATHNAME', 'sf_block';

/* The cluster's system identifier: the cluster transaction ids belong to. */
CREATE FUNCTION statusflow_internal.system_id()
RETURNS bigint LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_system_id';

/*
 * The changes to the summary of a binding's history from counting the rows
 * visible in folded (NULL: none) to counting those visible in upto (NULL:
 * in the current snapshot), in buckets of period (NULL: exact times); see
 * src/summary_fold.c.  Called with the column definition list of
 * fold_columns().
 */
CREATE FUNCTION statusflow_internal.fold(binding integer, folded pg_snapshot,
										 upto pg_snapshot, period interval)
RETURNS SETOF record LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_fold_summary';

/* The column definition list of fold(): its key columns are k1, k2, ... */
CREATE FUNCTION statusflow_internal.fold_columns(b statusflow.binding)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.format('kind "char", bucket timestamptz, at timestamptz, '
							 'from_status %1$s, status %1$s, x bigint, reached %1$s[], '
							 'n bigint, total numeric, regular boolean, %2$s',
							 w.status_type,
							 (SELECT pg_catalog.string_agg(pg_catalog.format('k%s %s', u.n,
										pg_catalog.format_type(a.atttypid, a.atttypmod)),
										', ' ORDER BY u.n)
							  FROM pg_catalog.unnest(b.key_columns) WITH ORDINALITY u(k, n)
							  JOIN pg_catalog.pg_attribute a
								ON a.attrelid OPERATOR(pg_catalog.=) b.history_table
							   AND a.attname OPERATOR(pg_catalog.=) u.k))
	FROM statusflow.workflow w WHERE w.name OPERATOR(pg_catalog.=) b.workflow
$$;

/*
 * "alias.k1 AS key, ..." or "a.key = alias.k1 AND ...": the key columns of
 * fold() rows (alias) named as the binding's, or matched to those of a.
 */
CREATE FUNCTION statusflow_internal.fold_keys(b statusflow.binding, alias text,
											  other text DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN other IS NULL
		THEN pg_catalog.string_agg(pg_catalog.format('%s.k%s AS %I', alias, u.n, u.k), ', '
								   ORDER BY u.n)
		ELSE pg_catalog.string_agg(pg_catalog.format('%s.%I OPERATOR(pg_catalog.=) %s.k%s',
													 other, u.k, alias, u.n), ' AND '
								   ORDER BY u.n) END
	FROM pg_catalog.unnest(b.key_columns) WITH ORDINALITY u(k, n)
$$;

/*
 * May the current role read the summaries of a binding: may it read the
 * whole history?  It must be able to SELECT from the history table, and
 * the bound table's row-level security must not apply to it.  The summary
 * tables' policy.
 */
CREATE FUNCTION statusflow_internal.may_read_summaries(binding integer)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT pg_catalog.has_table_privilege(b.history_table, 'SELECT')
							AND NOT pg_catalog.row_security_active(b.table_name)
					 FROM statusflow.binding b
					 WHERE b.id OPERATOR(pg_catalog.=) may_read_summaries.binding), false)
$$;

/*
 * The summaries of a binding that a report with this filter can use, or
 * NULL: built for this cluster and history table, readable by the current
 * role, a history table without row-level security, and no filter (a
 * filter reads the table's rows: such reports read the history).
 */
CREATE FUNCTION statusflow_internal.summary_for(b statusflow.binding, filter jsonb)
RETURNS statusflow.summary LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.* FROM statusflow.summary s
	JOIN pg_catalog.pg_class h ON h.oid OPERATOR(pg_catalog.=) b.history_table
	WHERE s.binding_id OPERATOR(pg_catalog.=) b.id AND filter IS NULL
	  AND s.folded IS NOT NULL
	  AND s.system_id OPERATOR(pg_catalog.=) statusflow_internal.system_id()
	  AND s.history_table OPERATOR(pg_catalog.=) b.history_table
	  AND NOT h.relrowsecurity
	  AND statusflow_internal.may_read_summaries(b.id)
$$;

/*
 * The rows of a summary not folded yet, folded, for FROM: fold() of the
 * rows the current snapshot sees and the summary does not count, with exact
 * times, as "d".
 */
CREATE FUNCTION statusflow_internal.tail_sql(b statusflow.binding, s statusflow.summary)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.format('statusflow_internal.fold(%s, %L::pg_catalog.pg_snapshot, NULL, NULL) '
							 'AS d(%s)', b.id, s.folded, statusflow_internal.fold_columns(b))
$$;

/*
 * The moves (kind m) of the rows of a summary not folded yet, for FROM, as
 * the tail's fold gives them: each applied row not folded counts 1 at its
 * exact time.  Unlike the other counts, a move is the row's own: read from
 * the history through the index on txid, without the entity's other rows.
 */
CREATE FUNCTION statusflow_internal.tail_moves_sql(b statusflow.binding, s statusflow.summary)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.format('SELECT h.occurred_at AS bucket, h.from_status, h.to_status AS status, '
							 'NULL::pg_catalog.int8 AS x, NULL::%1$s[] AS reached, '
							 '1::pg_catalog.int8 AS n, NULL::pg_catalog.numeric AS total FROM %2$s h '
							 'WHERE h.txid OPERATOR(pg_catalog.>=) pg_catalog.pg_snapshot_xmin(%3$L::pg_catalog.pg_snapshot) '
							 'AND NOT pg_catalog.pg_visible_in_snapshot(h.txid, %3$L::pg_catalog.pg_snapshot) '
							 'AND h.applied',
							 w.status_type::pg_catalog.regtype, b.history_table, s.folded)
	FROM statusflow.workflow w WHERE w.name OPERATOR(pg_catalog.=) b.workflow
$$;

/*
 * The rows of kind in a summary's counts table, for UNION ALL, with the
 * columns bucket, from_status, status, x, reached, n, total; cond is a
 * condition on them (alias c).  With blocked, the counts of kind m, n or o
 * within [since, until), two SQL expressions (null: unbounded), cond not
 * reaching outside it: those of the blocks that lie in it (M, N, O) and
 * those of the buckets at its ends, the three parts made unblocked.
 */
CREATE FUNCTION statusflow_internal.counts_sql(s statusflow.summary, kind "char", cond text,
											   blocked boolean, since text DEFAULT '$1',
											   until text DEFAULT '$2')
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN NOT blocked THEN pg_catalog.format(
		'SELECT c.bucket, c.from_status, c.status, c.x, c.reached, c.n, c.total '
		'FROM %1$s c WHERE c.kind OPERATOR(pg_catalog.=) %2$L%3$s', s.counts, kind, cond)
	ELSE pg_catalog.concat_ws(' UNION ALL ',
		statusflow_internal.counts_sql(s, pg_catalog.upper(kind::text)::"char",
			pg_catalog.format(' AND c.bucket OPERATOR(pg_catalog.>=) %s '
							  'AND c.bucket OPERATOR(pg_catalog.<) %s', e.lo, e.hi) || cond, false),
		statusflow_internal.counts_sql(s, kind,
			pg_catalog.format(' AND c.bucket OPERATOR(pg_catalog.<) %s', e.lo) || cond, false),
		statusflow_internal.counts_sql(s, kind,
			pg_catalog.format(' AND c.bucket OPERATOR(pg_catalog.>=) GREATEST(%s, %s)', e.lo, e.hi)
			|| cond, false)) END
	FROM (SELECT pg_catalog.format('COALESCE(statusflow_internal.block(%s, %L::pg_catalog.interval, true), '
								   '%L::pg_catalog.timestamptz)', since, s.period, '-infinity') AS lo,
				 pg_catalog.format('COALESCE(statusflow_internal.block(%s, %L::pg_catalog.interval, false), '
								   '%L::pg_catalog.timestamptz)', until, s.period, 'infinity') AS hi) e
$$;

/*
 * The counts of kind in a summary and its tail, for FROM: the counts table
 * (alias c) and the folded tail, with the columns of both (bucket, at,
 * from_status, status, x, reached, n, total); cond is a condition on them
 * (alias c), such as a time window on bucket.  With blocked, the counts
 * table's are read by block, as counts_sql() says.
 */
CREATE FUNCTION statusflow_internal.summary_sql(b statusflow.binding, s statusflow.summary,
												kind "char", cond text DEFAULT '',
												blocked boolean DEFAULT false)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.format(
		'(%1$s UNION ALL SELECT c.bucket, c.from_status, c.status, c.x, c.reached, c.n, c.total '
		'FROM (%2$s) c WHERE true%3$s)',
		statusflow_internal.counts_sql(s, kind, cond, blocked),
		CASE WHEN kind OPERATOR(pg_catalog.=) 'm' THEN statusflow_internal.tail_moves_sql(b, s)
			 ELSE pg_catalog.format('SELECT d.bucket, d.from_status, d.status, d.x, d.reached, '
									'd.n, d.total FROM %s WHERE d.kind OPERATOR(pg_catalog.=) %L',
									statusflow_internal.tail_sql(b, s), kind) END,
		cond)
$$;

/* Does t fall on a bucket of the summary (NULL and infinities do)? */
CREATE FUNCTION statusflow_internal.on_bucket(s statusflow.summary, t timestamptz)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t IS NULL OR NOT pg_catalog.isfinite(t)
		OR statusflow_internal.bucket(t, s.period) OPERATOR(pg_catalog.=) t
$$;

/*
 * Can a report count the summary's buckets of kind within [since, until)
 * by day, week or month (period) of the session's time zone: does every
 * start of a period among them fall on a bucket?  (With an hourly summary,
 * in every time zone whose offsets are whole hours.)
 */
CREATE FUNCTION statusflow_internal.periods_on_buckets(s statusflow.summary, kind "char",
													   period text, since timestamptz,
													   until timestamptz)
RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo timestamptz;
	hi timestamptz;
BEGIN
	IF s.counts IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE pg_catalog.format('SELECT pg_catalog.min(c.bucket), pg_catalog.max(c.bucket) '
							  'FROM %s c WHERE c.kind OPERATOR(pg_catalog.=) $1', s.counts)
	INTO lo, hi USING kind;
	lo := greatest(lo, since);
	hi := least(hi + s.period, until);
	RETURN lo IS NULL OR hi IS NULL OR NOT EXISTS (
		SELECT FROM pg_catalog.generate_series(pg_catalog.date_trunc(period, lo), hi,
											   pg_catalog.concat('1 ', period)::interval) g
		WHERE g > lo AND g < hi
		  AND statusflow_internal.bucket(g, s.period) OPERATOR(pg_catalog.<>) g);
END
$$;

/*
 * The time in each status from the summaries: the same columns as
 * stay_stats(), without a window (src/summary_stays.c).
 */
CREATE FUNCTION statusflow_internal.summary_stays(binding integer, include_open boolean)
RETURNS TABLE (status oid, stays bigint, open_stays bigint,
			   mean double precision, median double precision,
			   p90 double precision)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'sf_summary_stays';

/*
 * Enabling, folding, disabling
 */

/*
 * The current snapshot, with the current transaction in progress in it: a
 * fold that counts what this snapshot sees never counts the rows this
 * transaction writes, before or after it.  Its xmax is kept: transactions
 * from there on were not visible (an xmax moved up would make those
 * running between the two visible); the current transaction is added to
 * the ones in progress when it began before xmax.
 */
CREATE FUNCTION statusflow_internal.fold_snapshot()
RETURNS pg_snapshot LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.format('%s:%s:%s',
			   least(pg_catalog.pg_snapshot_xmin(s), me),
			   pg_catalog.pg_snapshot_xmax(s),
			   (SELECT pg_catalog.string_agg(x::text, ',' ORDER BY x)
				FROM (SELECT pg_catalog.pg_snapshot_xip(s) AS x
					  UNION SELECT me WHERE me OPERATOR(pg_catalog.<) pg_catalog.pg_snapshot_xmax(s)) u))::pg_snapshot
	FROM (SELECT pg_catalog.pg_current_snapshot() AS s,
				 pg_catalog.pg_current_xact_id() AS me) c
$$;

/*
 * Bring the summaries of a binding up to date: fold the rows committed
 * since they were last folded (all rows when they are to be built again:
 * rebuild, never built, pruned since, or built for another cluster or
 * history table), in the transaction of the caller, which must own the
 * history table (refresh_summaries() and tick() run it as that owner).
 * Waits for a fold of the same binding under way, or, with skip_locked,
 * returns NULL.  Returns how many history rows it folded.
 */
CREATE FUNCTION statusflow_internal.fold_summaries(binding integer, rebuild boolean,
												   skip_locked boolean)
RETURNS bigint LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
	s statusflow.summary;
	snap pg_snapshot;
	old pg_snapshot;
	folded bigint;
BEGIN
	PERFORM statusflow_internal.require(binding IS NOT NULL, 'binding');
	SELECT * INTO b FROM statusflow.binding x WHERE x.id OPERATOR(pg_catalog.=) fold_summaries.binding;
	IF coalesce(skip_locked, false) THEN
		SELECT * INTO s FROM statusflow.summary x
		WHERE x.binding_id OPERATOR(pg_catalog.=) b.id FOR UPDATE SKIP LOCKED;
	ELSE
		SELECT * INTO s FROM statusflow.summary x
		WHERE x.binding_id OPERATOR(pg_catalog.=) b.id FOR UPDATE;
	END IF;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	PERFORM statusflow_internal.index_txid(b.history_table);
	snap := statusflow_internal.fold_snapshot();
	IF NOT coalesce(rebuild, false)
	   AND s.system_id OPERATOR(pg_catalog.=) statusflow_internal.system_id()
	   AND s.history_table OPERATOR(pg_catalog.=) b.history_table THEN
		old := s.folded;
	END IF;
	IF old IS NULL THEN
		EXECUTE pg_catalog.format('DELETE FROM %s', s.counts);
		EXECUTE pg_catalog.format('DELETE FROM %s', s.entities);
	END IF;
	EXECUTE pg_catalog.format($q$
		WITH d AS MATERIALIZED (
			SELECT * FROM statusflow_internal.fold($1, $2, $3, $4) AS d(%1$s)),
		c AS (
			INSERT INTO %2$s AS c (kind, bucket, from_status, status, x, reached, n, total)
			SELECT d.kind, d.bucket, d.from_status, d.status, d.x, d.reached,
				   pg_catalog.sum(d.n), pg_catalog.sum(d.total)
			FROM d WHERE d.kind OPERATOR(pg_catalog.<>) ALL ('{E,a,r}'::"char"[])
			GROUP BY 1, 2, 3, 4, 5, 6
			ON CONFLICT (kind, status, x, bucket, from_status, reached)
			DO UPDATE SET n = c.n OPERATOR(pg_catalog.+) excluded.n,
						  total = c.total OPERATOR(pg_catalog.+) excluded.total),
		e AS (
			INSERT INTO %3$s AS e (%4$s, first_at, reached, last_id, last_status,
								   last_at, regular)
			SELECT %5$s, d.bucket, d.reached, d.x, d.status, d.at, d.regular
			FROM d WHERE d.kind OPERATOR(pg_catalog.=) 'E'
			ON CONFLICT (%4$s) DO UPDATE SET
				first_at = excluded.first_at, reached = excluded.reached,
				last_id = excluded.last_id, last_status = excluded.last_status,
				last_at = excluded.last_at, regular = excluded.regular)
		SELECT coalesce(pg_catalog.sum(d.n), 0)::bigint FROM d
		WHERE d.kind OPERATOR(pg_catalog.=) 'r'$q$,
		statusflow_internal.fold_columns(b), s.counts, s.entities,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ')
		 FROM pg_catalog.unnest(b.key_columns) k),
		(SELECT pg_catalog.string_agg(pg_catalog.format('d.k%s', n), ', ' ORDER BY n)
		 FROM pg_catalog.generate_series(1, pg_catalog.cardinality(b.key_columns)) n))
	INTO folded USING b.id, old, snap, s.period;
	EXECUTE pg_catalog.format('DELETE FROM %s c WHERE c.n OPERATOR(pg_catalog.=) 0 '
							  'AND coalesce(c.total, 0) OPERATOR(pg_catalog.=) 0', s.counts);
	UPDATE statusflow.summary x
	SET folded = snap, system_id = statusflow_internal.system_id(),
		history_table = b.history_table, refreshed_at = pg_catalog.now()
	WHERE x.binding_id OPERATOR(pg_catalog.=) b.id;
	RETURN folded;
END
$$;

/*
 * Fold as the owner of the history table, in a security-restricted
 * operation (src/summaries.c); the caller must own the table or its
 * history.
 */
CREATE FUNCTION statusflow_internal.fold_as_owner(binding integer, rebuild boolean,
												  skip_locked boolean)
RETURNS bigint LANGUAGE c
AS 'MODULE_PATHNAME', 'sf_fold_as_owner';

/* The entities table's columns besides the key columns. */
CREATE FUNCTION statusflow_internal.entity_columns()
RETURNS name[] LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['first_at', 'reached', 'last_id', 'last_status', 'last_at', 'regular']::name[]
$$;

/*
 * Create the two summary tables of a binding next to its history table,
 * owned by the history table's owner, readable by the roles that may read
 * the whole history; returns their names.
 */
CREATE FUNCTION statusflow_internal.create_summary_tables(b statusflow.binding,
														  OUT counts regclass,
														  OUT entities regclass)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.pg_class;
	w statusflow.workflow := statusflow_internal.workflow(b.workflow);
	base text;
	t regclass;
	clash name;
BEGIN
	IF NOT coalesce(statusflow_internal.owns_binding(b.id), false) OR NOT EXISTS (
		SELECT 1 FROM statusflow.binding x
		WHERE x.id OPERATOR(pg_catalog.=) b.id
		  AND x.history_table OPERATOR(pg_catalog.=) b.history_table
		  AND x.key_columns OPERATOR(pg_catalog.=) b.key_columns) THEN
		RAISE EXCEPTION 'must be owner of the table of binding % to keep summaries of it', b.id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO h FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) b.history_table;
	SELECT k INTO clash FROM pg_catalog.unnest(b.key_columns) k
	WHERE k OPERATOR(pg_catalog.=) ANY (statusflow_internal.entity_columns()) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'key column "%" of table % has the name of a summary column', clash,
			b.table_name
			USING ERRCODE = 'duplicate_column',
				  DETAIL = pg_catalog.format('The summary of each entity has the columns %s.',
											 pg_catalog.array_to_string(statusflow_internal.entity_columns(), ', '));
	END IF;
	base := pg_catalog.format('%I.%I', (SELECT n.nspname FROM pg_catalog.pg_namespace n
										 WHERE n.oid OPERATOR(pg_catalog.=) h.relnamespace),
							  pg_catalog.left(h.relname, 40) || '_summary');
	IF pg_catalog.to_regclass(base) IS NOT NULL
	   OR pg_catalog.to_regclass(base || '_entities') IS NOT NULL THEN
		RAISE EXCEPTION 'relation % or %_entities exists already', base, base
			USING ERRCODE = 'duplicate_table',
				  HINT = 'Summaries are kept in tables named after the history table: rename the table in the way.';
	END IF;
	EXECUTE pg_catalog.format(
		'CREATE TABLE %1$s (kind "char" NOT NULL, bucket timestamptz, from_status %2$s, '
		'status %2$s, x bigint, reached %2$s[], n bigint NOT NULL, total numeric); '
		'CREATE UNIQUE INDEX ON %1$s (kind, status, x, bucket, from_status, reached) '
		'NULLS NOT DISTINCT; '
		'CREATE INDEX ON %1$s (kind, bucket); '
		'CREATE INDEX ON %1$s (kind) WHERE n = 0',
		base, w.status_type);
	EXECUTE pg_catalog.format(
		'CREATE TABLE %1$s_entities (%2$s, first_at timestamptz NOT NULL, '
		'reached %3$s[] NOT NULL, last_id bigint NOT NULL, last_status %3$s NOT NULL, '
		'last_at timestamptz NOT NULL, regular boolean NOT NULL, PRIMARY KEY (%4$s)); '
		'CREATE INDEX ON %1$s_entities (last_status, last_at); '
		'CREATE INDEX ON %1$s_entities (last_at, last_id); '
		'CREATE INDEX ON %1$s_entities (last_id) WHERE NOT regular',
		base,
		(SELECT pg_catalog.string_agg(pg_catalog.format('%I %s NOT NULL', u.k,
									  pg_catalog.format_type(a.atttypid, a.atttypmod)),
									  ', ' ORDER BY u.n)
		 FROM pg_catalog.unnest(b.key_columns) WITH ORDINALITY u(k, n)
		 JOIN pg_catalog.pg_attribute a
		   ON a.attrelid OPERATOR(pg_catalog.=) b.history_table
		  AND a.attname OPERATOR(pg_catalog.=) u.k),
		w.status_type,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ')
		 FROM pg_catalog.unnest(b.key_columns) k));
	counts := pg_catalog.to_regclass(base);
	entities := pg_catalog.to_regclass(base || '_entities');
	FOREACH t IN ARRAY ARRAY[counts, entities] LOOP
		EXECUTE pg_catalog.format(
			'ALTER TABLE %1$s ENABLE ROW LEVEL SECURITY; '
			'CREATE POLICY readers ON %1$s FOR SELECT '
			'USING ((SELECT statusflow_internal.may_read_summaries(%2$s))); '
			'GRANT SELECT ON %1$s TO PUBLIC; '
			'ALTER TABLE %1$s OWNER TO %3$I; '
			'COMMENT ON TABLE %1$s IS %4$L',
			t, b.id, pg_catalog.pg_get_userbyid(h.relowner),
			pg_catalog.format('statusflow summary of %s.%I (see statusflow.summaries)',
							  b.table_name, b.column_name));
	END LOOP;
END
$$;

/*
 * Keep summaries of a binding's history for the reports, in buckets of
 * period; built now.  The caller must own the table.  Returns how many
 * history rows were folded.
 */
CREATE FUNCTION statusflow.enable_summaries(table_name regclass,
											period interval DEFAULT '1 hour',
											column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	t record;
BEGIN
	PERFORM statusflow_internal.require(period IS NOT NULL, 'period');
	PERFORM statusflow_internal.bucket(pg_catalog.now(), period);
	-- transaction ids and snapshots are each node's own on Citus
	PERFORM statusflow_internal.check_not_distributed(b.table_name, 'keeping summaries');
	IF NOT statusflow_internal.owns_relation(b.table_name) THEN
		RAISE EXCEPTION 'must be owner of table % to keep summaries of its history',
			b.table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF EXISTS (SELECT 1 FROM statusflow.summary s
			   WHERE s.binding_id OPERATOR(pg_catalog.=) b.id) THEN
		RAISE EXCEPTION 'table % keeps summaries of its history already', b.table_name
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Change the period with statusflow.disable_summaries(), then enable them again.';
	END IF;
	IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c
		WHERE c.oid OPERATOR(pg_catalog.=) b.history_table) THEN
		RAISE EXCEPTION 'history table % has row-level security', b.history_table
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Summaries count every row of the history.';
	END IF;
	IF (SELECT pg_catalog.count(*) FROM statusflow.status s
		WHERE s.workflow OPERATOR(pg_catalog.=) b.workflow) OPERATOR(pg_catalog.>) 64 THEN
		RAISE EXCEPTION 'workflow "%" has more than 64 statuses, too many for summaries',
			b.workflow
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	t := statusflow_internal.create_summary_tables(b);
	PERFORM statusflow_internal.index_txid(b.history_table);
	INSERT INTO statusflow.summary (binding_id, period, counts, entities)
	VALUES (b.id, period, t.counts, t.entities);
	RETURN statusflow_internal.fold_as_owner(b.id, true, false);
END
$$;

/* Drop the summaries of a binding, if it keeps some (detach() too). */
CREATE FUNCTION statusflow_internal.drop_summaries(b statusflow.binding)
RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s statusflow.summary;
BEGIN
	DELETE FROM statusflow.summary x WHERE x.binding_id OPERATOR(pg_catalog.=) b.id
	RETURNING * INTO s;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	EXECUTE pg_catalog.format('DROP TABLE %s, %s', s.counts, s.entities);
	RETURN true;
END
$$;

/* Stop keeping summaries of a binding's history: drop them. */
CREATE FUNCTION statusflow.disable_summaries(table_name regclass,
											 column_name name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
BEGIN
	IF NOT statusflow_internal.owns_relation(b.table_name) THEN
		RAISE EXCEPTION 'must be owner of table %', b.table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF NOT statusflow_internal.drop_summaries(b) THEN
		RAISE EXCEPTION 'table % keeps no summaries of its history', b.table_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'The view statusflow.summaries lists the tables that keep them.';
	END IF;
END
$$;

/*
 * Fold the rows committed since the last fold into the summaries of a
 * table (NULL: of every table whose summaries the caller may fold: the
 * tables and histories it owns, all of them for a superuser), all of its
 * history with rebuild.  Returns how many history rows it folded.
 */
CREATE FUNCTION statusflow.refresh_summaries(table_name regclass DEFAULT NULL,
											 rebuild boolean DEFAULT false,
											 column_name name DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	one statusflow.binding;
	folded bigint := 0;
BEGIN
	PERFORM statusflow_internal.require(rebuild IS NOT NULL, 'rebuild');
	IF table_name IS NOT NULL THEN
		one := statusflow_internal.binding(table_name, column_name);
		IF NOT EXISTS (SELECT 1 FROM statusflow.summary s
					   WHERE s.binding_id OPERATOR(pg_catalog.=) one.id) THEN
			RAISE EXCEPTION 'table % keeps no summaries of its history', one.table_name
				USING ERRCODE = 'undefined_object',
					  HINT = 'Keep some with statusflow.enable_summaries().';
		END IF;
		RETURN statusflow_internal.fold_as_owner(one.id, rebuild, false);
	END IF;
	SELECT coalesce(pg_catalog.sum(statusflow_internal.fold_as_owner(s.binding_id, rebuild,
																	 false)), 0)::bigint
	INTO folded
	FROM (SELECT x.binding_id FROM statusflow.summary x
		  WHERE statusflow_internal.owns_binding(x.binding_id)
			 OR statusflow_internal.owns_history(x.binding_id)
		  ORDER BY x.binding_id) s;
	RETURN folded;
END
$$;

/*
 * What tick() does for summaries: fold the new rows into every summary the
 * caller may fold that no other fold holds.  A fold that fails is a
 * warning, and the others go on.
 */
CREATE FUNCTION statusflow_internal.tick_summaries()
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding;
BEGIN
	FOR b IN SELECT x.* FROM statusflow.binding x
			 JOIN statusflow.summary s ON s.binding_id OPERATOR(pg_catalog.=) x.id
			 WHERE statusflow_internal.owns_binding(x.id)
				OR statusflow_internal.owns_history(x.id)
			 ORDER BY x.id LOOP
		BEGIN
			PERFORM statusflow_internal.fold_as_owner(b.id, false, true);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'statusflow: the summaries of %.% were not refreshed: %',
				b.table_name, pg_catalog.quote_ident(b.column_name), SQLERRM;
		END;
	END LOOP;
END
$$;

CREATE OR REPLACE VIEW statusflow.summaries AS
SELECT b.table_name, b.column_name, s.period, s.counts AS counts_table,
	   s.entities AS entities_table, s.folded, s.refreshed_at,
	   s.folded IS NOT NULL
	   AND s.system_id OPERATOR(pg_catalog.=) statusflow_internal.system_id()
	   AND s.history_table OPERATOR(pg_catalog.=) b.history_table AS built,
	   s.created_at
FROM statusflow.summary s
JOIN statusflow.binding b ON b.id OPERATOR(pg_catalog.=) s.binding_id;

/*
 * Feeds: a change feed over a binding's history that works behind a
 * connection pooler (no LISTEN), for after-commit side effects.
 *
 * A feed is a named consumer's cursor.  read_feed() returns the changes
 * committed since the last read, and advances the cursor in the caller's
 * transaction: committed with the work done on the changes, or rolled back
 * with it, so that a change is processed once.  Transaction snapshots, not
 * history_id, decide what is new: a change whose transaction commits late,
 * with a lower history_id than changes already read, is delivered by the
 * next read, and no change is delivered twice.
 *
 * The cursor is two snapshots.  Every change visible in seen was
 * delivered.  A read opens a window, the current snapshot, and delivers the
 * changes visible in it and not in seen, in history_id order, at most
 * max_changes at a time (window_after says how far); when the window is
 * exhausted it becomes seen.  Windows follow each other, each seeing more,
 * so each change falls in exactly one; changes arrive in commit order from
 * one window to the next, by history_id within one (the changes of one row
 * are serialized by its row lock, so they arrive in their order).
 *
 * Concurrent workers of one feed take turns: read_feed() locks the feed's
 * row, skipping it when another transaction holds it (that read returns
 * nothing).  The history is scanned by transaction id: create_feed(), run
 * by the table's owner, indexes the history table's txid.
 */

CREATE OR REPLACE VIEW statusflow.feeds AS
SELECT b.table_name, b.column_name, f.consumer, f.reader, f.seen,
	   f.window_snapshot IS NOT NULL AS reading, f.created_at
FROM statusflow.feed f
JOIN statusflow.binding b ON b.id OPERATOR(pg_catalog.=) f.binding_id;

/*
 * A feed of a bound table's changes for a consumer: from now on, or from
 * the start of the history.  reader is the role that may read it (and that
 * must be able to read the history table); the caller must own the table.
 */
CREATE FUNCTION statusflow.create_feed(table_name regclass, consumer text,
									   reader regrole DEFAULT NULL,
									   from_start boolean DEFAULT false,
									   column_name name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
BEGIN
	PERFORM statusflow_internal.require(consumer IS NOT NULL, 'consumer');
	IF consumer = '' OR pg_catalog.octet_length(consumer) > 63 THEN
		RAISE EXCEPTION 'invalid consumer name %', pg_catalog.quote_literal(consumer)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A consumer name has 1 to 63 bytes.';
	END IF;
	IF NOT statusflow_internal.owns_relation(b.table_name) THEN
		RAISE EXCEPTION 'must be owner of table % to create a feed of it', b.table_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM statusflow_internal.check_not_distributed(b.table_name, 'a change feed');
	IF EXISTS (SELECT 1 FROM statusflow.feed f
			   WHERE f.binding_id OPERATOR(pg_catalog.=) b.id
				 AND f.consumer OPERATOR(pg_catalog.=) create_feed.consumer) THEN
		RAISE EXCEPTION 'table % has a feed for consumer "%" already', b.table_name, consumer
			USING ERRCODE = 'duplicate_object';
	END IF;
	-- reads find the history rows of recent transactions by this index
	PERFORM statusflow_internal.index_txid(b.history_table);
	INSERT INTO statusflow.feed (binding_id, consumer, reader, seen)
	VALUES (b.id, consumer, coalesce(reader, current_user::regrole),
			CASE WHEN coalesce(from_start, false) THEN '1:1:'::pg_snapshot
				 ELSE pg_catalog.pg_current_snapshot() END);
END
$$;

CREATE FUNCTION statusflow.drop_feed(table_name regclass, consumer text,
									 column_name name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
BEGIN
	DELETE FROM statusflow.feed f
	WHERE f.binding_id OPERATOR(pg_catalog.=) b.id
	  AND f.consumer OPERATOR(pg_catalog.=) drop_feed.consumer;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % has no feed for consumer "%" that you may drop',
			b.table_name, consumer
			USING ERRCODE = 'undefined_object',
				  HINT = 'The view statusflow.feeds lists the feeds.';
	END IF;
END
$$;

/*
 * The changes of a feed since its last read, at most max_changes, in
 * commit order; the cursor moves on with the caller's transaction.  Returns
 * nothing when another transaction is reading the same feed.
 */
CREATE FUNCTION statusflow.read_feed(table_name regclass, consumer text,
									 max_changes integer DEFAULT 1000,
									 column_name name DEFAULT NULL)
RETURNS TABLE (history_id bigint, key jsonb, from_status text, to_status text,
			   event text, actor text, reason text, metadata jsonb,
			   occurred_at timestamptz, applied boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b statusflow.binding := statusflow_internal.binding(table_name, column_name);
	f statusflow.feed;
	change record;
	delivered integer;
BEGIN
	IF max_changes IS NULL OR max_changes < 1 THEN
		RAISE EXCEPTION 'max_changes must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO f FROM statusflow.feed x
	WHERE x.binding_id OPERATOR(pg_catalog.=) b.id
	  AND x.consumer OPERATOR(pg_catalog.=) read_feed.consumer
	FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		IF NOT EXISTS (SELECT 1 FROM statusflow.feed x
					   WHERE x.binding_id OPERATOR(pg_catalog.=) b.id
						 AND x.consumer OPERATOR(pg_catalog.=) read_feed.consumer) THEN
			RAISE EXCEPTION 'table % has no feed for consumer "%" that you may read',
				b.table_name, consumer
				USING ERRCODE = 'undefined_object',
					  HINT = 'The view statusflow.feeds lists the feeds.';
		END IF;
		RETURN;
	END IF;
	IF f.window_snapshot IS NULL THEN
		f.window_snapshot := pg_catalog.pg_current_snapshot();
		f.window_after := 0;
	END IF;
	delivered := 0;
	FOR change IN EXECUTE pg_catalog.format(
		'SELECT h.history_id, %s AS key, h.from_status::pg_catalog.text AS from_status, '
		'h.to_status::pg_catalog.text AS to_status, h.event, h.actor, h.reason, h.metadata, '
		'h.occurred_at, h.applied FROM %s h '
		'WHERE h.txid OPERATOR(pg_catalog.>=) pg_catalog.pg_snapshot_xmin($1) '
		'AND pg_catalog.pg_visible_in_snapshot(h.txid, $2) '
		'AND NOT pg_catalog.pg_visible_in_snapshot(h.txid, $1) '
		'AND h.txid IS DISTINCT FROM pg_catalog.pg_current_xact_id_if_assigned() '
		'AND h.history_id OPERATOR(pg_catalog.>) $3 '
		'ORDER BY h.history_id LIMIT $4',
		statusflow_internal.key_json_sql(b, 'h'), statusflow_internal.history_sql(b))
	USING f.seen, f.window_snapshot, f.window_after, max_changes LOOP
		history_id := change.history_id;
		key := change.key;
		from_status := change.from_status;
		to_status := change.to_status;
		event := change.event;
		actor := change.actor;
		reason := change.reason;
		metadata := change.metadata;
		occurred_at := change.occurred_at;
		applied := change.applied;
		RETURN NEXT;
		delivered := delivered + 1;
		f.window_after := change.history_id;
	END LOOP;
	-- an exhausted window becomes seen: all it sees was delivered
	IF delivered < max_changes THEN
		f.seen := f.window_snapshot;
		f.window_snapshot := NULL;
		f.window_after := 0;
	END IF;
	UPDATE statusflow.feed x
	SET seen = f.seen, window_snapshot = f.window_snapshot, window_after = f.window_after
	WHERE x.binding_id OPERATOR(pg_catalog.=) f.binding_id
	  AND x.consumer OPERATOR(pg_catalog.=) f.consumer;
END
$$;

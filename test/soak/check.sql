-- After the soak and the crash: every entity's applied history is a chain of
-- declared transitions from its first status to its current one, and no
-- history row is duplicated.  Prints one line per check.
\set ON_ERROR_STOP 1
WITH steps AS (
	SELECT id, from_status, to_status,
		   lag(to_status) OVER (PARTITION BY id ORDER BY history_id) AS previous,
		   row_number() OVER (PARTITION BY id ORDER BY history_id DESC) AS from_end
	FROM soak_items_status_history WHERE applied
)
SELECT 'broken chains ' || count(*) FILTER (WHERE previous IS DISTINCT FROM from_status)
	|| ', undeclared steps ' || count(*) FILTER (WHERE from_status IS NOT NULL AND NOT
		statusflow.can_transition('soak', from_status::text, to_status::text))
	|| ', wrong last status ' || (SELECT count(*) FROM soak_items i JOIN steps s
								  ON s.id = i.id AND s.from_end = 1
								  WHERE s.to_status <> i.status)
	|| ', entities without history ' || (SELECT count(*) FROM soak_items i
										 WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.id = i.id))
FROM steps;
SELECT 'changes ' || count(*) FROM soak_items_status_history WHERE actor = 'soak';
SELECT 'duplicated history ids ' || (count(*) - count(DISTINCT history_id))
FROM soak_items_status_history;

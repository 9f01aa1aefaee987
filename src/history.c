/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Reading history for guards and entries(), keeping history tables
 *	  append-only, pruning them.  (Appending is writer.c's.)
 *
 * Guards that read an entity's history (the uses of a transition, the
 * status held before) read it as the owner of the bound table, so that a
 * role allowed to change rows needs no right on the history: in a
 * security-restricted operation with search_path = pg_catalog, pg_temp, on
 * prepared queries whose every operator is schema-qualified.  Nothing of
 * what they read reaches the changer but the guard's verdict.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "catalog/pg_operator.h"
#include "commands/trigger.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_history_append_only);
PG_FUNCTION_INFO_V1(sf_prune_history);
PG_FUNCTION_INFO_V1(sf_entries);

/* Table whose history statusflow.prune_history() is deleting right now. */
static Oid	pruning_relid = InvalidOid;

/* The earliest and latest years an occurred_at may lie in. */
#define SF_FIRST_YEAR	1900
#define SF_LAST_YEAR	2199

/*
 * Refuse an occurred_at that reports could not work with: infinite, or
 * outside the years 1900 to 2199.
 */
TimestampTz
sf_check_occurred_at(TimestampTz t)
{
	TimestampTz first = (TimestampTz) (date2j(SF_FIRST_YEAR, 1, 1) -
									   POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
	TimestampTz after = (TimestampTz) (date2j(SF_LAST_YEAR + 1, 1, 1) -
									   POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;

	if (TIMESTAMP_NOT_FINITE(t) || t < first || t >= after)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("occurred_at %s is out of range",
						timestamptz_to_str(t)),
				 errdetail("statusflow records times from the year %d to the year %d.",
						   SF_FIRST_YEAR, SF_LAST_YEAR)));
	return t;
}

/* Forget the prune in progress: the transaction is aborting. */
void
sf_history_abort(void)
{
	pruning_relid = InvalidOid;
}

/*
 * " AND h.k1 OPERATOR(s.=) $1 AND ...": the key predicate of history
 * lookups, with the key values as the first parameters; fills their types
 * into argtypes.
 */
static void
append_key_match(StringInfo sql, SfBinding *b, Oid *argtypes)
{
	int			k;

	for (k = 0; k < b->nkeys; k++)
	{
		appendStringInfo(sql, " AND h.%s OPERATOR(%s) $%d",
						 quote_identifier(b->key_names[k]),
						 sf_equality_operator(b->key_types[k]), k + 1);
		argtypes[k] = b->key_types[k];
	}
}

/*
 * Prepare a history lookup of the binding under the pinned search_path
 * (it is kept, and re-planned under whatever path runs it: nothing in it
 * depends on one).
 */
static void
prepare_lookup(SfBinding *b, SfPlanKind kind, const char *sql, int nargs,
			   Oid *argtypes)
{
	int			nest = sf_pin_search_path();

	sf_binding_plan(b, kind, sql, nargs, argtypes);
	sf_unpin_search_path(nest);
}

/*
 * Run a prepared history lookup under the latest snapshot, so that a change
 * another transaction committed while we waited for the row lock is seen.
 */
static bool
run_lookup(SPIPlanPtr plan, Datum *params, Datum *result, bool *isnull)
{
	bool		found;
	int			nest = sf_pin_search_path();

	if (SPI_execute_snapshot(plan, params, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: history lookup failed");
	sf_unpin_search_path(nest);
	found = SPI_processed > 0;
	if (found)
		*result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
								isnull);
	return found;
}

/*
 * Run a history lookup for a guard as the owner of the bound table: whoever
 * may change a row must have its guards checked, history privileges or not.
 */
static bool
run_lookup_as_owner(SfBinding *b, SPIPlanPtr plan, Datum *params, Datum *result,
					bool *isnull)
{
	SfIdentity	saved;
	bool		found;

	sf_become(b->owner, &saved);
	found = run_lookup(plan, params, result, isnull);
	sf_unbecome(&saved);
	return found;
}

/* How many times a key went from one status to another, in its history. */
int64
sf_history_uses(SfBinding *b, Datum *keys, Datum from_status, Datum to_status)
{
	Datum		params[INDEX_MAX_KEYS + 2];
	Oid			argtypes[INDEX_MAX_KEYS + 2];
	Datum		count = Int64GetDatum(0);
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	memcpy(params, keys, sizeof(Datum) * b->nkeys);
	params[b->nkeys] = from_status;
	params[b->nkeys + 1] = to_status;
	if (b->plans[SF_PLAN_USES] == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM %s h WHERE h.applied",
						 b->history_relname);
		append_key_match(&sql, b, argtypes);
		appendStringInfo(&sql, " AND h.from_status OPERATOR(pg_catalog.=) $%d"
						 " AND h.to_status OPERATOR(pg_catalog.=) $%d",
						 b->nkeys + 1, b->nkeys + 2);
		argtypes[b->nkeys] = argtypes[b->nkeys + 1] = b->workflow->type_oid;
		prepare_lookup(b, SF_PLAN_USES, sql.data, b->nkeys + 2, argtypes);
	}
	run_lookup_as_owner(b, b->plans[SF_PLAN_USES], params, &count, &isnull);
	SPI_finish();
	return DatumGetInt64(count);
}

/*
 * The status a key held before its current one: the from_status of its
 * latest applied entry (a repeated event is none), provided that entry
 * entered the current status (history written with the triggers disabled,
 * or pruned, does not tell).  False when it is not known.
 */
bool
sf_history_previous(SfBinding *b, Datum *keys, Datum current, Datum *status)
{
	Oid			argtypes[INDEX_MAX_KEYS];
	bool		isnull = true;
	bool		found;
	Datum		entered;
	bool		entered_null;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	if (b->plans[SF_PLAN_PREVIOUS] == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT h.from_status, h.to_status FROM %s h WHERE h.applied"
						 " AND " SF_ENTRY_SQL, b->history_relname);
		append_key_match(&sql, b, argtypes);
		appendStringInfoString(&sql, " ORDER BY h.history_id DESC LIMIT 1");
		prepare_lookup(b, SF_PLAN_PREVIOUS, sql.data, b->nkeys, argtypes);
	}
	found = run_lookup_as_owner(b, b->plans[SF_PLAN_PREVIOUS], keys, status,
								&isnull);
	if (found)
	{
		entered = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
								&entered_null);
		found = !entered_null && DatumGetObjectId(entered) == DatumGetObjectId(current);
	}
	SPI_finish();
	return found && !isnull;
}

/*
 * Refuse to read the history's event ids to a role without SELECT on its
 * event_id column, as the query reading them would.
 */
static void
require_event_id_select(Relation history, AttrNumber att)
{
	Oid			relid = RelationGetRelid(history);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck(relid, att, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(history));
}

/*
 * Does an index's predicate leave out no non-null event id: none, or
 * "event_id IS NOT NULL" (the one attach() creates)?
 */
static bool
keeps_every_event_id(Relation index, AttrNumber att)
{
	List	   *pred = RelationGetIndexPredicate(index);
	NullTest   *test;

	if (pred == NIL)
		return true;
	if (list_length(pred) != 1 || !IsA(linitial(pred), NullTest))
		return false;
	test = linitial_node(NullTest, pred);
	return test->nulltesttype == IS_NOT_NULL && !test->argisrow &&
		IsA(test->arg, Var) && ((Var *) test->arg)->varattno == att;
}

/*
 * The index of a history table that finds an event id as "event_id = $1"
 * would: a valid btree on event_id (text) alone whose equality is text's =
 * in the column's collation, that leaves out no non-null id; InvalidOid
 * when there is none, or the table is partitioned.
 */
static Oid
find_event_id_index(Relation history, AttrNumber att)
{
	Form_pg_attribute a = TupleDescAttr(RelationGetDescr(history), att - 1);
	List	   *indexes;
	ListCell   *lc;
	Oid			found = InvalidOid;

	if (a->atttypid != TEXTOID || history->rd_rel->relkind != RELKIND_RELATION)
		return InvalidOid;
	indexes = RelationGetIndexList(history);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);

		if (index->rd_rel->relam == BTREE_AM_OID && index->rd_index->indisvalid &&
			index->rd_index->indnkeyatts == 1 &&
			index->rd_index->indkey.values[0] == att &&
			index->rd_indcollation[0] == a->attcollation &&
			get_opfamily_member(index->rd_opfamily[0], TEXTOID, TEXTOID,
								BTEqualStrategyNumber) == TextEqualOperator &&
			keeps_every_event_id(index, att))
			found = RelationGetRelid(index);
		index_close(index, AccessShareLock);
		if (OidIsValid(found))
			break;
	}
	return found;
}

/* Is an event id in the history, looking it up in the index of event ids? */
static bool
probe_event_id(Relation history, Relation index, Snapshot snapshot,
			   TupleTableSlot *slot, text *event_id)
{
	IndexScanDesc scan;
	ScanKeyData key;
	bool		found;

	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, TEXTOID,
						   index->rd_indcollation[0], F_TEXTEQ,
						   PointerGetDatum(event_id));
	scan = sf_index_beginscan(history, index, snapshot, 1);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	return found;
}

/* Is an event id in the history, by a query (SPI connected)? */
static bool
query_event_id(SfBinding *b, text *event_id)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		params[1] = {PointerGetDatum(event_id)};
	Datum		unused;
	bool		isnull;

	if (b->plans[SF_PLAN_SEEN] == NULL)
		prepare_lookup(b, SF_PLAN_SEEN,
					   psprintf("SELECT FROM %s h WHERE h.event_id OPERATOR(pg_catalog.=) $1",
								b->history_relname),
					   1, argtypes);
	return run_lookup(b->plans[SF_PLAN_SEEN], params, &unused, &isnull);
}

/*
 * Which of n event ids the history of a binding holds already (seen[i]),
 * as the caller sees it (who needs SELECT on its event_id), with the
 * latest snapshot: a receipt another transaction committed while we
 * waited for the row lock is seen.  The index of event ids is probed
 * directly (found once per relcache invalidation of the history table); a
 * history table without one, under row-level security, or distributed by
 * Citus, is queried
 * (SPI connected).  History rows still pending in the writer's batches go
 * in first, as before any query, so that the probe sees them.
 */
void
sf_history_seen(SfBinding *b, int n, text **event_ids, bool *seen)
{
	Relation	history;
	AttrNumber	att;
	Relation	index = NULL;
	int			i;

	sf_history_flush_all();
	history = table_open(b->history_relid, AccessShareLock);
	att = SPI_fnumber(RelationGetDescr(history), "event_id");
	if (!b->event_index_known)
	{
		b->event_index = att > 0 ? find_event_id_index(history, att) : InvalidOid;
		b->event_index_known = true;
	}
	/* a Citus-distributed history has its rows on the shards: queried */
	if (OidIsValid(b->event_index) && !sf_citus_distributed(b) &&
		check_enable_rls(b->history_relid, InvalidOid, true) == RLS_NONE)
		index = index_open(b->event_index, AccessShareLock);
	if (index == NULL)
	{
		for (i = 0; i < n; i++)
			seen[i] = event_ids[i] != NULL && query_event_id(b, event_ids[i]);
	}
	else
	{
		Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
		TupleTableSlot *slot = table_slot_create(history, NULL);

		require_event_id_select(history, att);
		for (i = 0; i < n; i++)
			seen[i] = event_ids[i] != NULL &&
				probe_event_id(history, index, snapshot, slot, event_ids[i]);
		ExecDropSingleTupleTableSlot(slot);
		UnregisterSnapshot(snapshot);
		index_close(index, AccessShareLock);
	}
	table_close(history, AccessShareLock);
}

/*
 * statusflow.entries(table_name, key, status, column_name): how many times a
 * row entered a status, from its history ("opened at least once").  Uses
 * the history's (key, history_id) index: the cost is one entity's history.
 * Runs with the caller's rights; a row that the table's row-level security
 * hides from the caller has no history for it.
 */
Datum
sf_entries(PG_FUNCTION_ARGS)
{
	SfBinding  *b;
	Datum		params[INDEX_MAX_KEYS + 1];
	Oid			argtypes[INDEX_MAX_KEYS + 1];
	Datum		count = Int64GetDatum(0);
	bool		isnull;
	bool		visible;
	SfPlanKind	kind;
	int			s;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name, key and status must not be null")));
	b = sf_binding_for_table(PG_GETARG_OID(0),
							 PG_ARGISNULL(3) ? NULL : NameStr(*PG_GETARG_NAME(3)));
	sf_require_select(b);
	s = sf_require_status(b->workflow, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	sf_key_values(b, PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1),
				  params);
	params[b->nkeys] = ObjectIdGetDatum(b->workflow->statuses[s].enum_oid);

	/* under row-level security, only the history of a row the caller sees */
	visible = check_enable_rls(b->relid, InvalidOid, true) == RLS_ENABLED;
	kind = visible ? SF_PLAN_ENTRIES_VISIBLE : SF_PLAN_ENTRIES;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	if (b->plans[kind] == NULL)
	{
		StringInfoData sql;
		int			k;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM %s h WHERE h.applied"
						 " AND " SF_ENTRY_SQL, b->history_relname);
		append_key_match(&sql, b, argtypes);
		appendStringInfo(&sql, " AND h.to_status OPERATOR(pg_catalog.=) $%d",
						 b->nkeys + 1);
		if (visible)
		{
			appendStringInfo(&sql, " AND EXISTS (SELECT FROM %s t WHERE true", b->relname);
			for (k = 0; k < b->nkeys; k++)
				appendStringInfo(&sql, " AND t.%s OPERATOR(%s) $%d",
								 quote_identifier(b->key_names[k]),
								 sf_equality_operator(b->key_types[k]), k + 1);
			appendStringInfoChar(&sql, ')');
		}
		argtypes[b->nkeys] = b->workflow->type_oid;
		prepare_lookup(b, kind, sql.data, b->nkeys + 1, argtypes);
	}
	run_lookup(b->plans[kind], params, &count, &isnull);
	SPI_finish();
	PG_RETURN_INT64(DatumGetInt64(count));
}

/*
 * Statement trigger on every history table: UPDATE, DELETE and TRUNCATE are
 * refused, except the DELETE that statusflow.prune_history() runs (on a
 * Citus worker, on the shards of the history it prunes from the
 * coordinator: sf_citus_pruning_shard()).
 */
Datum
sf_history_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Oid			shell;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("statusflow_internal.history_append_only() was not called by the trigger manager")));
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event) &&
		(RelationGetRelid(td->tg_relation) == pruning_relid ||
		 sf_citus_pruning_shard(td->tg_relation)))
		PG_RETURN_POINTER(NULL);
	shell = sf_citus_shell_of(td->tg_relation);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("history table %s is append-only",
					sf_relation_name(OidIsValid(shell) ? shell : RelationGetRelid(td->tg_relation))),
			 errdetail("Rows of a statusflow history table cannot be updated, deleted or truncated."),
			 errhint("Remove old history with statusflow.prune_history().")));
	PG_RETURN_POINTER(NULL);
}

/*
 * The summaries of a binding no longer count its history once rows are
 * deleted: mark them to be built again (folded NULL), which their next
 * refresh does; reports read the history meanwhile.  Waits for a fold
 * under way.  (A 1.0 catalog has no summaries.)
 */
static void
forget_summaries(SfBinding *b)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(b->id)};
	Oid			schema = get_namespace_oid("statusflow", false);

	if (!OidIsValid(get_relname_relid("summary", schema)))
		return;
	if (SPI_execute_with_args("UPDATE statusflow.summary s SET folded = NULL "
							  "WHERE s.binding_id OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "statusflow: could not mark summaries to be built again");
}

/*
 * statusflow.prune_history(table, older_than, keep_latest, column_name)
 *
 * Deletes the history rows recorded before older_than.  With keep_latest
 * (the default) each entity keeps its latest row, so its history still ends
 * at its current status.  Only the owner of the history table may prune.
 * Summaries of a pruned history are built again at their next refresh.
 */
Datum
sf_prune_history(PG_FUNCTION_ARGS)
{
	SfBinding  *b;
	StringInfoData sql;
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		args[1];
	int			nest;
	uint64		deleted;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name, older_than and keep_latest must not be null")));
	b = sf_binding_for_table(PG_GETARG_OID(0),
							 PG_ARGISNULL(3) ? NULL : NameStr(*PG_GETARG_NAME(3)));
	if (!sf_class_ownercheck(b->history_relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to prune it",
						sf_relation_name(b->history_relid))));

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "DELETE FROM %s h WHERE h.recorded_at OPERATOR(pg_catalog.<) $1",
					 sf_relation_name(b->history_relid));
	if (PG_GETARG_BOOL(2))
	{
		appendStringInfo(&sql,
						 " AND EXISTS (SELECT 1 FROM %s l WHERE"
						 " l.history_id OPERATOR(pg_catalog.>) h.history_id AND %s)",
						 sf_relation_name(b->history_relid), sf_same_key(b, "l", "h"));
	}
	args[0] = PG_GETARG_DATUM(1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	pruning_relid = b->history_relid;
	nest = sf_pin_search_path();
	PG_TRY();
	{
		/* on Citus, the shards' append-only triggers must know it too */
		sf_citus_send_pruning(b, true);
		if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, false, 0)
			!= SPI_OK_DELETE)
			elog(ERROR, "statusflow: pruning query failed");
		deleted = SPI_processed;
		sf_citus_send_pruning(b, false);
	}
	PG_FINALLY();
	{
		pruning_relid = InvalidOid;
	}
	PG_END_TRY();
	if (deleted > 0)
		forget_summaries(b);
	sf_unpin_search_path(nest);
	SPI_finish();
	PG_RETURN_INT64((int64) deleted);
}

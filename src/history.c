/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Appending to history tables, keeping them append-only, pruning them.
 *
 * History rows are written by the AFTER row trigger without SQL: a "writer"
 * keeps the history table and its indexes open for the rest of the current
 * statement, and each row costs one heap insert plus its index entries,
 * like the INSERT a user would write.  Writers are closed when any query
 * ends (ExecutorEnd hook) or at commit, and forgotten on abort; they are
 * opened under the top transaction's resource owner, so a subtransaction
 * ending in between does not touch them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_history_append_only);
PG_FUNCTION_INFO_V1(sf_prune_history);
PG_FUNCTION_INFO_V1(sf_entries);

/* The fixed columns of a history table, besides the key columns. */
typedef enum SfHistoryColumn
{
	HC_ID,
	HC_FROM,
	HC_TO,
	HC_EVENT,
	HC_ACTOR,
	HC_ROLE,
	HC_REASON,
	HC_METADATA,
	HC_OCCURRED,
	HC_RECORDED,
	HC_TXID,
	HC_APPLIED,
	HC_EVENT_ID,
	HC_COUNT
} SfHistoryColumn;

StaticAssertDecl(HC_COUNT == SF_HISTORY_COLUMNS, "history columns");

static const char *const history_column_names[HC_COUNT] = {
	"history_id", "from_status", "to_status", "event", "actor", "db_role",
	"reason", "metadata", "occurred_at", "recorded_at", "txid", "applied",
	"event_id"
};

/* An open history table, ready for inserts. */
typedef struct SfWriter
{
	Oid			relid;
	bool		stale;			/* relcache invalidation: reopen before use */
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	struct SfWriter *next;
} SfWriter;

static SfWriter *writers = NULL;

/* Table whose history statusflow.prune_history() is deleting right now. */
static Oid	pruning_relid = InvalidOid;

/* current_user's name, looked up once per role */
static Oid	role_cached = InvalidOid;
static text *role_name = NULL;

/* Attribute number of a named column of a history table, or an error. */
static AttrNumber
history_attnum(Relation rel, const char *colname)
{
	AttrNumber	att = SPI_fnumber(RelationGetDescr(rel), colname);

	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("history table %s has no column \"%s\"",
						sf_relation_name(RelationGetRelid(rel)), colname),
				 errhint("Do not drop or rename the columns of a history table.")));
	return att;
}

/*
 * Find the columns of the history table and its identity sequence, once per
 * cache generation and relcache invalidation of the history table.
 */
static void
describe_history(SfBinding *b, Relation rel)
{
	SfHistoryLayout *h = &b->history;
	int			i;

	if (h->valid)
		return;
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("history of %s.%s must be a plain table",
						b->relname, quote_identifier(b->column))));
	for (i = 0; i < HC_COUNT; i++)
		h->att[i] = history_attnum(rel, history_column_names[i]);
	for (i = 0; i < b->nkeys; i++)
		h->att_keys[i] = history_attnum(rel, b->key_names[i]);
	h->id_seq = getIdentitySequence(RelationGetRelid(rel), h->att[HC_ID], true);
	if (!OidIsValid(h->id_seq))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("column \"history_id\" of history table %s is not an identity column",
						sf_relation_name(RelationGetRelid(rel)))));
	h->valid = true;
}

/* Release what writer_open acquired; runs under the top resource owner. */
static void
writer_release(SfWriter *w)
{
	ResourceOwner oldowner = CurrentResourceOwner;

	CurrentResourceOwner = TopTransactionResourceOwner;
	if (w->slot)
		ExecDropSingleTupleTableSlot(w->slot);
	if (w->rri)
		ExecCloseIndices(w->rri);
	if (w->estate)
		FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
	CurrentResourceOwner = oldowner;
	pfree(w);
}

/* Open the history table of a binding for inserts. */
static SfWriter *
writer_open(SfBinding *b)
{
	ResourceOwner oldowner = CurrentResourceOwner;
	MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	SfWriter   *w = palloc0(sizeof(SfWriter));

	w->relid = b->history_relid;
	CurrentResourceOwner = TopTransactionResourceOwner;
	w->rel = table_open(w->relid, RowExclusiveLock);
	CurrentResourceOwner = oldowner;
	PG_TRY();
	{
		describe_history(b, w->rel);
		CurrentResourceOwner = TopTransactionResourceOwner;
		w->estate = CreateExecutorState();
		w->rri = makeNode(ResultRelInfo);
		InitResultRelInfo(w->rri, w->rel, 0, NULL, 0);
		ExecOpenIndices(w->rri, false);
		w->slot = MakeSingleTupleTableSlot(RelationGetDescr(w->rel),
										   &TTSOpsVirtual);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		CurrentResourceOwner = oldowner;
		writer_release(w);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	w->next = writers;
	writers = w;
	return w;
}

/* The open writer of a binding's history table, opening it if needed. */
static SfWriter *
writer_for(SfBinding *b)
{
	SfWriter  **link = &writers;

	while (*link != NULL)
	{
		SfWriter   *w = *link;

		if (w->relid == b->history_relid)
		{
			if (!w->stale)
				return w;
			*link = w->next;
			writer_release(w);
			break;
		}
		link = &w->next;
	}
	return writer_open(b);
}

/* Close every open writer (end of a query, or commit). */
void
sf_history_close_all(void)
{
	while (writers != NULL)
	{
		SfWriter   *w = writers;

		writers = w->next;
		writer_release(w);
	}
}

/* Abort: the resource owner and TopTransactionContext clean up for us. */
void
sf_history_forget_all(void)
{
	writers = NULL;
	pruning_relid = InvalidOid;
}

/* Relcache invalidation of relid (or of everything) marks writers stale. */
void
sf_history_invalidate(Oid relid)
{
	SfWriter   *w;

	for (w = writers; w != NULL; w = w->next)
		if (relid == InvalidOid || w->relid == relid)
			w->stale = true;
}

/* Role renamed or dropped: forget the cached name. */
static void
sf_role_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	role_cached = InvalidOid;
}

void
sf_history_init(void)
{
	CacheRegisterSyscacheCallback(AUTHOID, sf_role_callback, (Datum) 0);
}

/* current_user as text, cached across rows. */
static Datum
current_role_name(void)
{
	Oid			role = GetUserId();

	if (role != role_cached)
	{
		char	   *name = GetUserNameFromId(role, false);

		if (role_name)
			pfree(role_name);
		role_name = (text *) MemoryContextAlloc(TopMemoryContext,
												VARHDRSZ + strlen(name));
		SET_VARSIZE(role_name, VARHDRSZ + strlen(name));
		memcpy(VARDATA(role_name), name, strlen(name));
		role_cached = role;
	}
	return PointerGetDatum(role_name);
}

/* A text value for the history row: the API's, else a setting's, else null. */
static bool
context_text(text *api_value, const char *setting, const char *what,
			 int max_chars, Datum *out)
{
	text	   *t = api_value;
	int			len;

	if (t == NULL)
	{
		if (setting == NULL || setting[0] == '\0')
			return false;
		t = cstring_to_text(setting);
	}
	len = pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if (len > max_chars)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long (%d characters)", what, len),
				 errdetail("statusflow keeps at most %d characters of %s in history.",
						   max_chars, what)));
	*out = PointerGetDatum(t);
	return true;
}

/* The metadata for the history row, checked; false when there is none. */
static bool
context_metadata(Jsonb *api_value, Datum *out)
{
	Jsonb	   *j = api_value ? api_value : sf_guc_metadata();

	if (j == NULL)
		return false;
	if (!JB_ROOT_IS_OBJECT(j) || JB_ROOT_IS_SCALAR(j))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("history metadata must be a JSON object")));
	if (VARSIZE(j) > SF_MAX_METADATA_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("history metadata is too large (%zu bytes)",
						(size_t) VARSIZE(j)),
				 errdetail("statusflow keeps at most %d bytes of metadata per history row.",
						   SF_MAX_METADATA_BYTES)));
	*out = JsonbPGetDatum(j);
	return true;
}

/*
 * Append one history row for a binding.  The who and why come from the
 * transition API's context when it is the API's change, else from the
 * statusflow.* settings.
 */
void
sf_history_append(SfBinding *b, SfHistoryRow *row)
{
	SfContext  *ctx = sf_current_context(b->id);
	SfWriter   *w = writer_for(b);
	SfHistoryLayout *h = &b->history;
	TupleTableSlot *slot = w->slot;
	Datum	   *values;
	bool	   *nulls;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int			k;

	describe_history(b, w->rel);
	ExecClearTuple(slot);
	values = slot->tts_values;
	nulls = slot->tts_isnull;
	memset(nulls, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);

#define SET(att, datum) \
	(values[(att) - 1] = (datum), nulls[(att) - 1] = false)

	SET(h->att[HC_ID], Int64GetDatum(nextval_internal(h->id_seq, false)));
	for (k = 0; k < b->nkeys; k++)
	{
		values[h->att_keys[k] - 1] = row->keys[k];
		nulls[h->att_keys[k] - 1] = row->key_nulls[k];
	}
	if (!row->from_null)
		SET(h->att[HC_FROM], row->from_status);
	if (!row->to_null)
		SET(h->att[HC_TO], row->to_status);
	if (row->event)
		SET(h->att[HC_EVENT], CStringGetTextDatum(row->event));
	nulls[h->att[HC_ACTOR] - 1] =
		!context_text(ctx ? ctx->actor : NULL, sf_guc_actor, "actor",
					  SF_MAX_ACTOR_CHARS, &values[h->att[HC_ACTOR] - 1]);
	nulls[h->att[HC_REASON] - 1] =
		!context_text(ctx ? ctx->reason : NULL, sf_guc_reason, "reason",
					  SF_MAX_REASON_CHARS, &values[h->att[HC_REASON] - 1]);
	nulls[h->att[HC_METADATA] - 1] =
		!context_metadata(ctx ? ctx->metadata : NULL,
						  &values[h->att[HC_METADATA] - 1]);
	SET(h->att[HC_ROLE], current_role_name());
	SET(h->att[HC_OCCURRED],
		TimestampTzGetDatum(ctx && ctx->has_occurred_at ? ctx->occurred_at : now));
	SET(h->att[HC_RECORDED], TimestampTzGetDatum(now));
	SET(h->att[HC_TXID], FullTransactionIdGetDatum(GetTopFullTransactionId()));
		SET(h->att[HC_APPLIED], BoolGetDatum(row->applied));
	if (ctx && ctx->event_id)
		SET(h->att[HC_EVENT_ID], PointerGetDatum(ctx->event_id));
#undef SET

	ExecStoreVirtualTuple(slot);
	if (w->rel->rd_att->constr)
		ExecConstraints(w->rri, slot, w->estate);
	table_tuple_insert(w->rel, slot, GetCurrentCommandId(true), 0, NULL);
	if (w->rri->ri_NumIndices > 0)
		ExecInsertIndexTuples(w->rri, slot, w->estate, false, false, NULL, NIL);
	ResetPerTupleExprContext(w->estate);
	ExecClearTuple(slot);
}

/*
 * " AND h.k1 = $1 AND h.k2 = $2": the key predicate of history lookups, with
 * the key values as the first parameters; fills their types into argtypes.
 */
static void
append_key_match(StringInfo sql, SfBinding *b, Oid *argtypes)
{
	int			k;

	for (k = 0; k < b->nkeys; k++)
	{
		appendStringInfo(sql, " AND h.%s = $%d", quote_identifier(b->key_names[k]),
						 k + 1);
		argtypes[k] = b->key_types[k];
	}
}

/*
 * Run a prepared history lookup under the latest snapshot, so that a change
 * another transaction committed while we waited for the row lock is seen.
 */
static bool
run_lookup(SPIPlanPtr plan, Datum *params, Datum *result, bool *isnull)
{
	bool		found;

	if (SPI_execute_snapshot(plan, params, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: history lookup failed");
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
	Oid			save_userid;
	int			save_sec_context;
	bool		found;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(b->owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	found = run_lookup(plan, params, result, isnull);
	SetUserIdAndSecContext(save_userid, save_sec_context);
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
		appendStringInfo(&sql, " AND h.from_status = $%d AND h.to_status = $%d",
						 b->nkeys + 1, b->nkeys + 2);
		argtypes[b->nkeys] = argtypes[b->nkeys + 1] = b->workflow->type_oid;
		sf_binding_plan(b, SF_PLAN_USES, sql.data, b->nkeys + 2, argtypes);
	}
	run_lookup_as_owner(b, b->plans[SF_PLAN_USES], params, &count, &isnull);
	SPI_finish();
	return DatumGetInt64(count);
}

/*
 * The status a key held before its current one: the from_status of its
 * latest applied history row, provided that row entered the current status
 * (history written with the triggers disabled, or pruned, does not tell).
 * False when it is not known.
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
		appendStringInfo(&sql, "SELECT h.from_status, h.to_status FROM %s h WHERE h.applied",
						 b->history_relname);
		append_key_match(&sql, b, argtypes);
		appendStringInfoString(&sql, " ORDER BY h.history_id DESC LIMIT 1");
		sf_binding_plan(b, SF_PLAN_PREVIOUS, sql.data, b->nkeys, argtypes);
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
 * statusflow.entries(table_name, key, status, column_name): how many times a
 * row entered a status, from its history ("opened at least once").  Uses
 * the history's (key, history_id) index: the cost is one entity's history.
 */
Datum
sf_entries(PG_FUNCTION_ARGS)
{
	SfBinding  *b;
	Datum		params[INDEX_MAX_KEYS + 1];
	Oid			argtypes[INDEX_MAX_KEYS + 1];
	Datum		count = Int64GetDatum(0);
	bool		isnull;
	int			s;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name, key and status must not be null")));
	b = sf_binding_for_table(PG_GETARG_OID(0),
							 PG_ARGISNULL(3) ? NULL : NameStr(*PG_GETARG_NAME(3)));
	s = sf_require_status(b->workflow, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	sf_key_values(b, PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1),
				  params);
	params[b->nkeys] = ObjectIdGetDatum(b->workflow->statuses[s].enum_oid);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	if (b->plans[SF_PLAN_ENTRIES] == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM %s h WHERE h.applied",
						 b->history_relname);
		append_key_match(&sql, b, argtypes);
		appendStringInfo(&sql, " AND h.to_status = $%d", b->nkeys + 1);
		argtypes[b->nkeys] = b->workflow->type_oid;
		sf_binding_plan(b, SF_PLAN_ENTRIES, sql.data, b->nkeys + 1, argtypes);
	}
	run_lookup(b->plans[SF_PLAN_ENTRIES], params, &count, &isnull);
	SPI_finish();
	PG_RETURN_INT64(DatumGetInt64(count));
}

/*
 * Statement trigger on every history table: UPDATE, DELETE and TRUNCATE are
 * refused, except the DELETE that statusflow.prune_history() runs.
 */
Datum
sf_history_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("statusflow.history_append_only() was not called by the trigger manager")));
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event) &&
		RelationGetRelid(td->tg_relation) == pruning_relid)
		PG_RETURN_POINTER(NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("history table %s is append-only",
					sf_relation_name(RelationGetRelid(td->tg_relation))),
			 errdetail("Rows of a statusflow history table cannot be updated, deleted or truncated."),
			 errhint("Remove old history with statusflow.prune_history().")));
	PG_RETURN_POINTER(NULL);
}

/*
 * statusflow.prune_history(table, older_than, keep_latest, column_name)
 *
 * Deletes the history rows recorded before older_than.  With keep_latest
 * (the default) each entity keeps its latest row, so its history still ends
 * at its current status.  Only the owner of the history table may prune.
 */
Datum
sf_prune_history(PG_FUNCTION_ARGS)
{
	SfBinding  *b;
	StringInfoData sql;
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		args[1];
	int			k;
	uint64		deleted;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name, older_than and keep_latest must not be null")));
	b = sf_binding_for_table(PG_GETARG_OID(0),
							 PG_ARGISNULL(3) ? NULL : NameStr(*PG_GETARG_NAME(3)));
	if (!pg_class_ownercheck(b->history_relid, GetUserId()))
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
						 " l.history_id OPERATOR(pg_catalog.>) h.history_id",
						 sf_relation_name(b->history_relid));
		for (k = 0; k < b->nkeys; k++)
			appendStringInfo(&sql, " AND l.%s = h.%s",
							 quote_identifier(b->key_names[k]),
							 quote_identifier(b->key_names[k]));
		appendStringInfoChar(&sql, ')');
	}
	args[0] = PG_GETARG_DATUM(1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	pruning_relid = b->history_relid;
	PG_TRY();
	{
		if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, false, 0)
			!= SPI_OK_DELETE)
			elog(ERROR, "statusflow: pruning query failed");
		deleted = SPI_processed;
	}
	PG_FINALLY();
	{
		pruning_relid = InvalidOid;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT64((int64) deleted);
}

/*-------------------------------------------------------------------------
 *
 * writer.c
 *	  Appending history rows, without SQL.
 *
 * The AFTER row trigger writes each change's history row straight into the
 * history table and its indexes, as an INSERT would: a "writer" keeps the
 * history table open for the rest of the current query, and each row costs
 * one heap insert plus its index entries.
 *
 * A history table belongs to the owner of the bound table, who may change
 * it.  The writer trusts none of it: the columns statusflow fills must have
 * the types it writes (checked whenever the table's definition changes),
 * and the row goes through what an INSERT would apply: defaults of the
 * other columns, generated columns, NOT NULL and CHECK constraints, the
 * partition bounds of a history table that is a partition, and routing to
 * the partitions of a partitioned history table (to drop old history by
 * partition, as pg_partman does).
 *
 * Rows are checked at once and stored in batches: the writer keeps them
 * "pending" and inserts them with multi-inserts (one WAL record and one
 * buffer lock per page rather than per row), one per table (partition) and
 * command, followed by their index entries.  Rows whose table is not a
 * heap, or whose partition orders its columns differently, are stored at
 * once.  Pending rows are flushed
 * before anything could read them: when any query starts or any utility
 * command runs (hooks in statusflow.c), when the query whose triggers wrote
 * them finishes, at commit, and when SF_BATCH_ROWS rows or SF_BATCH_BYTES
 * bytes wait.  Each is inserted with the command id it was written under,
 * so that what reads it sees what an immediate insert would have shown.
 *
 * A pending row may be flushed by a subtransaction that began after its
 * change (a trigger's exception block running a query): the insert then
 * belongs to that subtransaction, so a copy is kept until it commits, and
 * is pending again if it aborts.  The pending rows of an aborted
 * subtransaction are dropped with it.
 *
 * Writers are opened, used and closed under the top transaction's resource
 * owner, whatever subtransaction or portal is current, so that what an
 * index access method keeps between inserts (BRIN keeps a pinned page) is
 * released by the owner that acquired it.  They are closed when a query
 * ends (ExecutorEnd hook) unless a row is being appended or flushed (a
 * CHECK constraint, a default or an index expression of the history table
 * may run queries of its own), and at commit; forgotten on abort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/heapam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "compat.h"
#include "statusflow.h"


/* An open history table, ready for inserts. */
typedef struct SfWriter
{
	Oid			relid;
	bool		stale;			/* relcache invalidation: reopen before use */
	Relation	rel;
	EState	   *estate;
	EState	   *flush_estate;	/* flushes may run while estate is in use */
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* in the history table's row type */
	ModifyTableState *mtstate;	/* partitioned history: tuple routing */
	PartitionTupleRouting *proute;
	int			ndefaults;		/* other columns with a default */
	AttrNumber *default_atts;
	ExprState **defaults;
	int			binding_id;
	bool		flushing;		/* pending[] is being inserted */
	int			npending;
	int			nslots;			/* slots of pending[] made so far */
	Size		pending_bytes;
	TupleTableSlot **pending;	/* [SF_BATCH_ROWS] heap slots */
	ResultRelInfo **pending_rri;	/* the table (partition) each goes to */
	CommandId  *pending_cid;	/* the command that wrote it */
	SubTransactionId *pending_sub;	/* the subtransaction of its change */
	struct SfWriter *next;
} SfWriter;

/* A multi-insert takes at most this many rows, or about this many bytes. */
#define SF_BATCH_ROWS	1000
#define SF_BATCH_BYTES	65536

static SfWriter *writers = NULL;

/* How many appends and flushes are running (a nested query may end during one). */
static int	appending = 0;

/*
 * A pending row inserted by a subtransaction its change does not belong
 * to, kept until that subtransaction's outcome is known.
 */
typedef struct SfKeptRow
{
	int			binding_id;
	HeapTuple	tuple;
	CommandId	cid;
	SubTransactionId change_sub;	/* where the change was made */
	SubTransactionId insert_sub;	/* where it was inserted; invalid: insert
									 * it again */
} SfKeptRow;

static List *kept_rows = NIL;	/* of SfKeptRow, in TopTransactionContext */

/* current_user's name, looked up once per role */
static Oid	role_cached = InvalidOid;
static text *role_name = NULL;


/* Compile the defaults of the columns statusflow does not fill. */
static void
writer_defaults(SfWriter *w, SfBinding *b)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	AttrNumber	att;

	w->default_atts = palloc(sizeof(AttrNumber) * desc->natts);
	w->defaults = palloc(sizeof(ExprState *) * desc->natts);
	for (att = 1; att <= desc->natts; att++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, att - 1);
		Node	   *expr;

		if (a->attisdropped || a->attgenerated || sf_is_history_column(b, att))
			continue;
		expr = build_column_default(w->rel, att);
		if (expr == NULL)
			continue;
		w->default_atts[w->ndefaults] = att;
		w->defaults[w->ndefaults++] =
			ExecInitExpr(expression_planner((Expr *) expr), NULL);
	}
}

/* Release what writer_open acquired. */
static void
writer_release(SfWriter *w)
{
	int			i;

	for (i = 0; i < w->nslots; i++)
		ExecDropSingleTupleTableSlot(w->pending[i]);
	if (w->proute)
		ExecCleanupTupleRouting(w->mtstate, w->proute);
	if (w->slot)
		ExecDropSingleTupleTableSlot(w->slot);
	if (w->rri)
		ExecCloseIndices(w->rri);
	if (w->flush_estate)
		FreeExecutorState(w->flush_estate);
	if (w->estate)
	{
		/* the slots tuple routing made for partitions */
		ExecResetTupleTable(w->estate->es_tupleTable, false);
		FreeExecutorState(w->estate);
	}
	table_close(w->rel, NoLock);
	pfree(w);
}

/* Open the history table of a binding for inserts. */
static SfWriter *
writer_open(SfBinding *b)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	SfWriter   *w = palloc0(sizeof(SfWriter));

	w->relid = b->history_relid;
	w->binding_id = b->id;
	w->rel = try_table_open(w->relid, RowExclusiveLock);
	if (w->rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the history table of %s.%s does not exist", b->relname,
						quote_identifier(b->column)),
				 errhint("Detach the column with statusflow.detach() and attach it again.")));
	PG_TRY();
	{
		sf_describe_history(b, w->rel);
		w->estate = CreateExecutorState();
		w->flush_estate = CreateExecutorState();
		w->rri = makeNode(ResultRelInfo);
		InitResultRelInfo(w->rri, w->rel, 0, NULL, 0);
		w->slot = MakeSingleTupleTableSlot(RelationGetDescr(w->rel),
										   &TTSOpsVirtual);
		MemoryContextSwitchTo(w->estate->es_query_cxt);
		writer_defaults(w, b);
		if (w->rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		{
			w->mtstate = makeNode(ModifyTableState);
			w->mtstate->ps.state = w->estate;
			w->mtstate->operation = CMD_INSERT;
			w->mtstate->mt_nrels = 1;
			w->mtstate->resultRelInfo = w->rri;
			w->mtstate->rootResultRelInfo = w->rri;
			w->proute = ExecSetupPartitionTupleRouting(w->estate, w->rel);
		}
		else
			ExecOpenIndices(w->rri, false);
		w->pending = palloc(sizeof(TupleTableSlot *) * SF_BATCH_ROWS);
		w->pending_rri = palloc(sizeof(ResultRelInfo *) * SF_BATCH_ROWS);
		w->pending_cid = palloc(sizeof(CommandId) * SF_BATCH_ROWS);
		w->pending_sub = palloc(sizeof(SubTransactionId) * SF_BATCH_ROWS);
	}
	PG_CATCH();
	{
		writer_release(w);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	w->next = writers;
	writers = w;
	return w;
}

/* The next free slot of the writer's pending rows, made on first use. */
static TupleTableSlot *
pending_slot(SfWriter *w)
{
	if (w->npending == w->nslots)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(w->estate->es_query_cxt);

		w->pending[w->nslots++] =
			MakeSingleTupleTableSlot(RelationGetDescr(w->rel),
									 &TTSOpsBufferHeapTuple);
		MemoryContextSwitchTo(oldcxt);
	}
	return w->pending[w->npending];
}

/* Add a row to the kept rows, in the transaction's memory. */
static void
remember_kept(SfKeptRow *k)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);

	kept_rows = lappend(kept_rows, k);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Keep a copy of pending row i, which the current subtransaction inserts
 * although its change belongs to an enclosing one.
 */
static void
keep_row(SfWriter *w, int i)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	SfKeptRow  *k = palloc(sizeof(SfKeptRow));

	k->binding_id = w->binding_id;
	k->tuple = ExecCopySlotHeapTuple(w->pending[i]);
	k->cid = w->pending_cid[i];
	k->change_sub = w->pending_sub[i];
	k->insert_sub = GetCurrentSubTransactionId();
	MemoryContextSwitchTo(oldcxt);
	remember_kept(k);
}

/*
 * Insert a writer's pending rows: one multi-insert per run of rows written
 * by the same command, then their index entries.  The rows are taken out
 * first, so that an error leaves none of them pending.  The index entries
 * are made with an executor state of their own: a flush may run inside the
 * check of a row being appended (a CHECK constraint running a query),
 * whose expression context it must leave alone.
 */
static void
flush_writer(SfWriter *w)
{
	int			n = w->npending;
	int			first,
				run,
				i;

	w->npending = 0;
	w->pending_bytes = 0;
	for (i = 0; i < n; i++)
		if (w->pending_sub[i] != GetCurrentSubTransactionId())
			keep_row(w, i);
	w->flushing = true;
	appending++;
	PG_TRY();
	{
		for (first = 0; first < n; first += run)
		{
			ResultRelInfo *rri = w->pending_rri[first];
			CommandId	cid = w->pending_cid[first];

			for (run = 1; first + run < n && w->pending_rri[first + run] == rri &&
				 w->pending_cid[first + run] == cid; run++)
				;
			if (run == 1)
				table_tuple_insert(rri->ri_RelationDesc, w->pending[first], cid,
								   0, NULL);
			else
				table_multi_insert(rri->ri_RelationDesc, &w->pending[first], run,
								   cid, 0, NULL);
			for (i = first; i < first + run; i++)
			{
				if (rri->ri_NumIndices > 0)
					sf_insert_index_tuples(rri, w->pending[i], w->flush_estate);
				ResetPerTupleExprContext(w->flush_estate);
				ExecClearTuple(w->pending[i]);
			}
		}
	}
	PG_FINALLY();
	{
		w->flushing = false;
		appending--;
	}
	PG_END_TRY();
}

/*
 * Make the filled slot pending[npending] a pending row for table rri; cid
 * and sub are the command that wrote it and the subtransaction of its
 * change.  Flushes when the batch is full.
 */
static void
add_pending(SfWriter *w, ResultRelInfo *rri, CommandId cid, SubTransactionId sub)
{
	TupleTableSlot *slot = w->pending[w->npending];

	w->pending_rri[w->npending] = rri;
	w->pending_cid[w->npending] = cid;
	w->pending_sub[w->npending] = sub;
	w->pending_bytes += ExecFetchSlotHeapTuple(slot, true, NULL)->t_len;
	w->npending++;
	if (w->npending == SF_BATCH_ROWS || w->pending_bytes >= SF_BATCH_BYTES)
		flush_writer(w);
}

/*
 * Apply to a filled slot what an INSERT into the history table applies
 * before storing the row: routing to a partition, generated columns,
 * constraints, partition bounds.  Returns the slot to store, in the row
 * type of *target, the table it goes to.
 */
static TupleTableSlot *
check_row(SfWriter *w, TupleTableSlot *slot, ResultRelInfo **target)
{
	ResultRelInfo *rri = w->rri;
	Relation	rel;

	if (w->proute)
	{
		TupleConversionMap *map;

		rri = ExecFindPartition(w->mtstate, w->rri, w->proute, slot, w->estate);
		map = sf_root_to_child_map(rri, w->estate);
		if (map != NULL)
			slot = execute_attr_map_slot(map->attrMap, slot,
										 rri->ri_PartitionTupleSlot);
	}
	rel = rri->ri_RelationDesc;
	slot->tts_tableOid = RelationGetRelid(rel);
	if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
		ExecComputeStoredGenerated(rri, w->estate, slot, CMD_INSERT);
	if (rel->rd_att->constr)
		ExecConstraints(rri, slot, w->estate);
	if (rel->rd_rel->relispartition && w->proute == NULL)
		ExecPartitionCheck(rri, slot, w->estate, true);
	*target = rri;
	return slot;
}

/*
 * Check the row in the writer's slot and store it: pending when its table
 * is a heap and it has the root's layout, else at once.  cid and sub are
 * the command that wrote it and the subtransaction of its change.
 */
static void
store_row(SfWriter *w, CommandId cid, SubTransactionId sub)
{
	ResultRelInfo *rri;
	TupleTableSlot *slot = check_row(w, w->slot, &rri);

	if (slot != w->slot || w->flushing ||
		rri->ri_RelationDesc->rd_tableam != GetHeapamTableAmRoutine())
	{
		table_tuple_insert(rri->ri_RelationDesc, slot, cid, 0, NULL);
		if (rri->ri_NumIndices > 0)
			sf_insert_index_tuples(rri, slot, w->estate);
		return;
	}
	ExecCopySlot(pending_slot(w), slot)->tts_tableOid = slot->tts_tableOid;
	add_pending(w, rri, cid, sub);
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
			if ((!w->stale && b->history.valid) || w->flushing)
				return w;
			/* the table's shape is unchanged: DDL would have flushed it */
			if (w->npending > 0)
				flush_writer(w);
			*link = w->next;
			writer_release(w);
			break;
		}
		link = &w->next;
	}
	return writer_open(b);
}

/* Run fn(arg) with the top transaction's resource owner. */
static void
as_top_owner(void (*fn) (void *), void *arg)
{
	ResourceOwner oldowner = CurrentResourceOwner;

	CurrentResourceOwner = TopTransactionResourceOwner;
	PG_TRY();
	{
		fn(arg);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
}

/*
 * Make the kept rows whose insert was undone (by an aborted subtransaction)
 * pending again.
 */
static void
requeue_kept(void)
{
	List	   *requeued = NIL;
	ListCell   *lc;

	foreach(lc, kept_rows)
		if (((SfKeptRow *) lfirst(lc))->insert_sub == InvalidSubTransactionId)
		{
			requeued = lappend(requeued, lfirst(lc));
			kept_rows = foreach_delete_current(kept_rows, lc);
		}
	foreach(lc, requeued)
	{
		SfKeptRow  *k = lfirst(lc);
		SfBinding  *b = sf_binding_by_id(k->binding_id);
		SfWriter   *w;
		TupleTableSlot *slot;
		ResultRelInfo *rri;

		/* requeued rows are flushed before any query, detach() included */
		if (b == NULL)
			elog(ERROR, "statusflow: binding %d of a pending history row is gone",
				 k->binding_id);
		w = writer_for(b);
		if (w->flushing)
		{
			/* an index expression of the table runs this query: later */
			remember_kept(k);
			continue;
		}
		/* checked when it was first stored: route it only */
		slot = pending_slot(w);
		ExecForceStoreHeapTuple(k->tuple, slot, true);
		rri = w->proute ?
			ExecFindPartition(w->mtstate, w->rri, w->proute, slot, w->estate) :
			w->rri;
		slot->tts_tableOid = RelationGetRelid(rri->ri_RelationDesc);
		add_pending(w, rri, k->cid, k->change_sub);
		pfree(k);
	}
	list_free(requeued);
}

static void
flush_all(void *arg)
{
	SfWriter   *w;

	/* requeued rows are routed with the writer's state: not inside a row's */
	if (appending == 0)
		requeue_kept();
	for (w = writers; w != NULL; w = w->next)
		if (w->npending > 0 && !w->flushing)
			flush_writer(w);
}

/*
 * Insert every pending row: before a query starts or a utility command
 * runs, and when a query's triggers have fired.
 */
void
sf_history_flush_all(void)
{
	if (writers != NULL || kept_rows != NIL)
		as_top_owner(flush_all, NULL);
}

static void
close_all(void *arg)
{
	flush_all(NULL);
	while (writers != NULL)
	{
		SfWriter   *w = writers;

		writers = w->next;
		writer_release(w);
	}
}

/*
 * Flush and close every open writer: at the end of a query (unless a row
 * is being appended), or before commit.
 */
void
sf_history_close_all(void)
{
	if ((writers != NULL || kept_rows != NIL) && appending == 0)
		as_top_owner(close_all, NULL);
}

/*
 * The transaction ended (after sf_history_close_all at commit): the
 * resource owner and TopTransactionContext clean up for us.
 */
void
sf_history_forget_all(void)
{
	writers = NULL;
	kept_rows = NIL;
	appending = 0;
}

/* A subtransaction committed: its rows and inserts are its parent's now. */
static void
subxact_committed(SubTransactionId sub, SubTransactionId parent)
{
	SfWriter   *w;
	ListCell   *lc;
	int			i;

	for (w = writers; w != NULL; w = w->next)
		for (i = 0; i < w->npending; i++)
			if (w->pending_sub[i] == sub)
				w->pending_sub[i] = parent;
	foreach(lc, kept_rows)
	{
		SfKeptRow  *k = lfirst(lc);

		if (k->insert_sub != sub)
			continue;
		k->insert_sub = parent;
		/* inserted where its change belongs: nothing left to undo */
		if (k->change_sub >= parent)
			kept_rows = foreach_delete_current(kept_rows, lc);
	}
}

/*
 * A subtransaction aborted: its pending rows go with it, and the rows of
 * enclosing subtransactions it inserted are pending again.
 */
static void
subxact_aborted(SubTransactionId sub)
{
	SfWriter   *w;
	ListCell   *lc;
	int			i,
				kept;

	for (w = writers; w != NULL; w = w->next)
	{
		for (i = 0, kept = 0; i < w->npending; i++)
		{
			TupleTableSlot *slot = w->pending[i];

			if (w->pending_sub[i] >= sub)
			{
				ExecClearTuple(slot);
				continue;
			}
			w->pending[i] = w->pending[kept];
			w->pending[kept] = slot;
			w->pending_rri[kept] = w->pending_rri[i];
			w->pending_cid[kept] = w->pending_cid[i];
			w->pending_sub[kept++] = w->pending_sub[i];
		}
		w->npending = kept;
	}
	foreach(lc, kept_rows)
	{
		SfKeptRow  *k = lfirst(lc);

		if (k->change_sub >= sub)
			kept_rows = foreach_delete_current(kept_rows, lc);
		else if (k->insert_sub >= sub)
			k->insert_sub = InvalidSubTransactionId;
	}
}

static void
sf_history_subxact(SubXactEvent event, SubTransactionId sub,
				   SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_COMMIT_SUB)
		subxact_committed(sub, parent);
	else if (event == SUBXACT_EVENT_ABORT_SUB)
		subxact_aborted(sub);
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
	RegisterSubXactCallback(sf_history_subxact, NULL);
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
 * Fill the writer's slot with a history row's values, defaults included;
 * returns its history_id.
 */
static int64
fill_row(SfWriter *w, SfBinding *b, SfHistoryRow *row)
{
	TupleTableSlot *slot = w->slot;
	SfContext  *ctx = sf_change_context(b, row->keys, row->key_nulls);
	SfHistoryLayout *h = &b->history;
	ExprContext *econtext = GetPerTupleExprContext(w->estate);
	Datum	   *values = slot->tts_values;
	bool	   *nulls = slot->tts_isnull;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int64		id;
	int			k;

	ExecClearTuple(slot);
	memset(nulls, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);

#define SET(att, datum) \
	(values[(att) - 1] = (datum), nulls[(att) - 1] = false)

	id = nextval_internal(h->id_seq, false);
	SET(h->att[HC_ID], Int64GetDatum(id));
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
	nulls[h->att[HC_EVENT_ID] - 1] =
		!context_text(ctx ? ctx->event_id : NULL, NULL, "event_id",
					  SF_MAX_EVENT_ID_CHARS, &values[h->att[HC_EVENT_ID] - 1]);
	SET(h->att[HC_ROLE], current_role_name());
	SET(h->att[HC_OCCURRED],
		TimestampTzGetDatum(ctx && ctx->has_occurred_at ? ctx->occurred_at : now));
	SET(h->att[HC_RECORDED], TimestampTzGetDatum(now));
	SET(h->att[HC_TXID], FullTransactionIdGetDatum(GetTopFullTransactionId()));
	SET(h->att[HC_APPLIED], BoolGetDatum(row->applied));
#undef SET

	for (k = 0; k < w->ndefaults; k++)
		values[w->default_atts[k] - 1] =
			ExecEvalExprSwitchContext(w->defaults[k], econtext,
									  &nulls[w->default_atts[k] - 1]);
	ExecStoreVirtualTuple(slot);
	return id;
}

/* Open the writer and append the row, under the top resource owner. */
typedef struct SfAppend
{
	SfBinding  *binding;
	SfHistoryRow *row;
	int64		history_id;		/* out */
} SfAppend;

static void
append_row(void *arg)
{
	SfAppend   *a = arg;
	SfWriter   *w = writer_for(a->binding);

	a->history_id = fill_row(w, a->binding, a->row);
	store_row(w, GetCurrentCommandId(true), GetCurrentSubTransactionId());
	ExecClearTuple(w->slot);
	ResetPerTupleExprContext(w->estate);
}

/*
 * Append one history row for a binding.  The who and why come from the
 * transition API's context when it is the API's change, else from the
 * statusflow.* settings.  Returns its history_id.
 */
int64
sf_history_append(SfBinding *b, SfHistoryRow *row)
{
	SfAppend	a;

	a.binding = b;
	a.row = row;
	appending++;
	PG_TRY();
	{
		as_top_owner(append_row, &a);
	}
	PG_FINALLY();
	{
		appending--;
	}
	PG_END_TRY();
	return a.history_id;
}

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
 * Writers are opened, used and closed under the top transaction's resource
 * owner, whatever subtransaction or portal is current, so that what an
 * index access method keeps between inserts (BRIN keeps a pinned page) is
 * released by the owner that acquired it.  They are closed when a query
 * ends (ExecutorEnd hook) unless a row is being appended (a CHECK
 * constraint or a default of the history table may run queries of its
 * own), and at commit; forgotten on abort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
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
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_adopt_history);

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

/* The types of those columns; InvalidOid: the workflow's enum type. */
static const Oid history_column_types[HC_COUNT] = {
	INT8OID, InvalidOid, InvalidOid, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID, XID8OID, BOOLOID,
	TEXTOID
};

/* An open history table, ready for inserts. */
typedef struct SfWriter
{
	Oid			relid;
	bool		stale;			/* relcache invalidation: reopen before use */
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* in the history table's row type */
	ModifyTableState *mtstate;	/* partitioned history: tuple routing */
	PartitionTupleRouting *proute;
	int			ndefaults;		/* other columns with a default */
	AttrNumber *default_atts;
	ExprState **defaults;
	struct SfWriter *next;
} SfWriter;

static SfWriter *writers = NULL;

/* How many appends are running (a nested query may end during one). */
static int	appending = 0;

/* current_user's name, looked up once per role */
static Oid	role_cached = InvalidOid;
static text *role_name = NULL;

/*
 * Raise an error about a history table the writer cannot use; adopting
 * names the bound table when attach() was to take the table over.
 */
static void
bad_history(Relation rel, const char *column, const char *problem,
			const char *hint, const char *adopting)
{
	char	   *name = sf_relation_name(RelationGetRelid(rel));
	char	   *sentence = psprintf("%s.", problem);

	sentence[0] = pg_toupper((unsigned char) sentence[0]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
			 adopting ?
			 errmsg("existing table %s cannot be the history table of %s", name, adopting) :
			 errmsg("history table %s cannot be written: %s", name, problem),
			 adopting ? errdetail_internal("%s", sentence) : 0,
			 adopting ?
			 errhint("Choose another name with history_table: an existing table is taken over only when it has the columns of a history table.") :
			 hint ? errhint("%s", hint) : 0,
			 column ? errtablecol(rel, SPI_fnumber(RelationGetDescr(rel), column)) :
			 errtable(rel)));
}

/*
 * The attribute number of a column of the history table, checked to have
 * type typid (and, for a key, the typmod of the bound table's key column).
 */
static AttrNumber
history_column(Relation rel, const char *colname, Oid typid, int32 typmod,
			   const char *adopting)
{
	AttrNumber	att = SPI_fnumber(RelationGetDescr(rel), colname);
	Form_pg_attribute a;

	if (att <= 0)
		bad_history(rel, NULL,
					psprintf("it has no column \"%s\"", colname),
					"Do not drop or rename the columns of a history table.", adopting);
	a = TupleDescAttr(RelationGetDescr(rel), att - 1);
	if (a->atttypid != typid || (typmod >= 0 && a->atttypmod != typmod) ||
		a->attgenerated)
		bad_history(rel, colname,
					psprintf("column \"%s\" has type %s, not %s", colname,
							 format_type_with_typemod(a->atttypid, a->atttypmod),
							 format_type_with_typemod(typid, typmod)),
					psprintf("Change it back with ALTER TABLE %s ALTER COLUMN %s TYPE %s.",
							 sf_relation_name(RelationGetRelid(rel)),
							 quote_identifier(colname),
							 format_type_with_typemod(typid, typmod)),
					adopting);
	return att;
}

/*
 * Find the columns of history table rel for a status type and keys (names,
 * types and typmods of the bound table's key columns), checking their
 * types, and its identity sequence, into h (att_keys allocated).  adopting:
 * see bad_history().
 */
static void
history_layout(Relation rel, Oid status_type, int nkeys, char **key_names,
			   const Oid *key_types, const int32 *key_typmods, const char *adopting,
			   SfHistoryLayout *h)
{
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		bad_history(rel, NULL, "it is not a table", NULL, adopting);
	for (i = 0; i < HC_COUNT; i++)
		h->att[i] = history_column(rel, history_column_names[i],
								   OidIsValid(history_column_types[i]) ?
								   history_column_types[i] : status_type,
								   -1, adopting);
	for (i = 0; i < nkeys; i++)
		h->att_keys[i] = history_column(rel, key_names[i], key_types[i],
										key_typmods[i], adopting);
	h->id_seq = sf_identity_sequence(rel, h->att[HC_ID]);
	if (!OidIsValid(h->id_seq))
		bad_history(rel, "history_id", "column \"history_id\" is not an identity column",
					NULL, adopting);
}

/*
 * The layout of a binding's history table, found once per cache generation
 * and relcache invalidation.
 */
static void
describe_history(SfBinding *b, Relation rel)
{
	if (b->history.valid)
		return;
	history_layout(rel, b->workflow->type_oid, b->nkeys, b->key_names,
				   b->key_types, b->key_typmods, NULL, &b->history);
	b->history.valid = true;
}

/* Refuse to take over a table statusflow already binds or writes. */
static void
check_not_bound(Oid history, Oid table)
{
	int			i;
	bool		taken = (history == table);

	for (i = 0; i < sf_binding_count() && !taken; i++)
		taken = (sf_binding_at(i)->relid == history ||
				 sf_binding_at(i)->history_relid == history);
	if (taken)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("table %s cannot be the history table of %s: it is a bound table or a history table already",
						sf_relation_name(history), sf_relation_name(table)),
				 errhint("Choose another name with history_table.")));
}

/*
 * statusflow_internal.adopt_history(history regclass, table_name regclass,
 * keys name[], status_type regtype): may attach() take the existing table
 * history over as the history table of table_name's binding of these key
 * columns to a workflow of status_type?  Both tables must be the caller's,
 * history no table statusflow uses, and of the shape the writer needs.
 */
Datum
sf_adopt_history(PG_FUNCTION_ARGS)
{
	Oid			history,
				table;
	Datum	   *keys;
	int			nkeys,
				i;
	char	  **names;
	Oid		   *types;
	int32	   *typmods;
	SfHistoryLayout layout;
	Relation	rel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("history, table_name, keys and status_type must not be null")));
	history = PG_GETARG_OID(0);
	table = PG_GETARG_OID(1);
	if (!sf_class_ownercheck(table, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", sf_relation_name(table))));
	if (!sf_class_ownercheck(history, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to make it a history table",
						sf_relation_name(history))));
	check_not_bound(history, table);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), NAMEOID, NAMEDATALEN, false,
					  TYPALIGN_CHAR, &keys, NULL, &nkeys);
	names = palloc(sizeof(char *) * Max(nkeys, 1));
	types = palloc(sizeof(Oid) * Max(nkeys, 1));
	typmods = palloc(sizeof(int32) * Max(nkeys, 1));
	for (i = 0; i < nkeys; i++)
	{
		AttrNumber	att;
		Oid			collation;

		names[i] = NameStr(*DatumGetName(keys[i]));
		att = get_attnum(table, names[i]);
		if (att <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of table %s does not exist", names[i],
							sf_relation_name(table))));
		get_atttypetypmodcoll(table, att, &types[i], &typmods[i], &collation);
	}
	layout.att_keys = palloc(sizeof(AttrNumber) * Max(nkeys, 1));
	rel = table_open(history, AccessShareLock);
	history_layout(rel, PG_GETARG_OID(3), nkeys, names, types, typmods,
				   sf_relation_name(table), &layout);
	table_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}

/* Is att one of the columns statusflow fills? */
static bool
is_history_column(SfBinding *b, AttrNumber att)
{
	int			i;

	for (i = 0; i < HC_COUNT; i++)
		if (b->history.att[i] == att)
			return true;
	for (i = 0; i < b->nkeys; i++)
		if (b->history.att_keys[i] == att)
			return true;
	return false;
}

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

		if (a->attisdropped || a->attgenerated || is_history_column(b, att))
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
	if (w->proute)
		ExecCleanupTupleRouting(w->mtstate, w->proute);
	if (w->slot)
		ExecDropSingleTupleTableSlot(w->slot);
	if (w->rri)
		ExecCloseIndices(w->rri);
	if (w->estate)
		FreeExecutorState(w->estate);
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
	w->rel = try_table_open(w->relid, RowExclusiveLock);
	if (w->rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the history table of %s.%s does not exist", b->relname,
						quote_identifier(b->column)),
				 errhint("Detach the column with statusflow.detach() and attach it again.")));
	PG_TRY();
	{
		describe_history(b, w->rel);
		w->estate = CreateExecutorState();
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
			if (!w->stale && b->history.valid)
				return w;
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

static void
close_all(void *arg)
{
	while (writers != NULL)
	{
		SfWriter   *w = writers;

		writers = w->next;
		writer_release(w);
	}
}

/*
 * Close every open writer: at the end of a query (unless a row is being
 * appended), or before commit.
 */
void
sf_history_close_all(void)
{
	if (writers != NULL && appending == 0)
		as_top_owner(close_all, NULL);
}

/* Abort: the resource owner and TopTransactionContext clean up for us. */
void
sf_history_forget_all(void)
{
	writers = NULL;
	appending = 0;
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
 * Fill the slot with a history row's values, defaults included; returns
 * its history_id.
 */
static int64
fill_row(SfWriter *w, SfBinding *b, SfHistoryRow *row)
{
	SfContext  *ctx = sf_change_context(b, row->keys, row->key_nulls);
	SfHistoryLayout *h = &b->history;
	TupleTableSlot *slot = w->slot;
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

/* Insert the filled slot as an INSERT into the history table would. */
static void
insert_row(void *arg)
{
	SfWriter   *w = arg;
	ResultRelInfo *rri = w->rri;
	TupleTableSlot *slot = w->slot;
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
	table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
	if (rri->ri_NumIndices > 0)
		sf_insert_index_tuples(rri, slot, w->estate);
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
	insert_row(w);
	ResetPerTupleExprContext(w->estate);
	ExecClearTuple(w->slot);
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

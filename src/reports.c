/*-------------------------------------------------------------------------
 *
 * reports.c
 *	  One pass over history rows, folding them into a hash table of their
 *	  entities, for the reports that look at each entity's own rows.
 *
 * A funnel needs, per entity, which steps it reached and when it entered;
 * counts at a past time need each entity's last status; time in status needs
 * each entity's consecutive rows, to pair the one that entered a status with
 * the one that left it.  In SQL these are a hash aggregate over millions of
 * groups and a sort of the whole history by entity, which cost tens of times
 * a plain scan.  Here the rows of a query (built by src/sql/70_reports.sql,
 * run through SPI with the caller's rights) go into a DestReceiver that
 * keeps one small entry per entity: the history is read once, not sorted.
 *
 * The query's columns are the entity's key columns, then history_id,
 * to_status (an enum: its value is the pg_enum OID), occurred_at, and for
 * sf_entities an int4 mask.  $1 and $2 are the window's bounds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "parser/parse_node.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_entities);
PG_FUNCTION_INFO_V1(sf_stay_stats);

/*
 * What is kept of an entity while its rows go by.  Small, as there may be
 * millions: its key is the key column's value itself, or, for a key of
 * several columns, a pointer to their values.
 */
typedef struct SfEntity
{
	Datum		key;
	int64		last_id;		/* history_id of its latest row so far */
	TimestampTz at;				/* earliest occurred_at (sf_entities), or
								 * that of the latest row (sf_stay_stats) */
	uint32		hash;
	Oid			last_status;	/* to_status of its latest row */
	int32		mask;			/* OR of the rows' masks */
	char		status;			/* used by simplehash */
} SfEntity;

/* A row of the query, waiting in a batch to be folded. */
typedef struct SfRow
{
	Datum		key;
	uint32		hash;
	int64		id;
	Oid			status;
	TimestampTz at;
	int32		mask;
} SfRow;

/*
 * Rows are folded by batches: the entries of a batch's entities are
 * prefetched first, so that the cache misses of a hash table of millions of
 * entities overlap instead of following one another.
 */
#define SF_BATCH 16

#define SH_PREFIX		sf_entities
#define SH_ELEMENT_TYPE SfEntity
#define SH_KEY_TYPE		Datum
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	sf_key_hash((SfKeyInfo *) (tb)->private_data, k)
#define SH_EQUAL(tb, a, b)	sf_key_equal((SfKeyInfo *) (tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a)	((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* The durations of the stays in one status, in seconds. */
typedef struct SfStays
{
	Oid			status;
	int64		open;
	int64		count;
	int64		size;
	int128		sum;			/* of the durations, in microseconds */
	double	   *seconds;
} SfStays;

/* The receiver of the query's rows, and what it folds them into. */
typedef struct SfFold
{
	DestReceiver pub;
	MemoryContext cxt;			/* for the entities and stays */
	MemoryContext batch_cxt;	/* for the keys of the rows of a batch */
	SfKeyInfo	keys;
	int			nrows;
	SfRow		rows[SF_BATCH];
	sf_entities_hash *entities;
	bool		pair;			/* pair consecutive rows into stays */
	TimestampTz since;			/* with pair: the window, and now */
	TimestampTz until;
	TimestampTz now;
	bool		has_since;
	bool		include_open;
	int			nstays;
	SfStays    *stays;
} SfFold;

/*
 * Refuse a query whose columns are not the key columns, then history_id,
 * to_status (an enum), occurred_at, and maybe an int4 mask: the fold reads
 * them as such.
 */
static void
check_shape(TupleDesc desc, int nkeys)
{
	if (nkeys < 1 || nkeys > INDEX_MAX_KEYS ||
		desc->natts < nkeys + 3 || desc->natts > nkeys + 4 ||
		TupleDescAttr(desc, nkeys)->atttypid != INT8OID ||
		get_typtype(TupleDescAttr(desc, nkeys + 1)->atttypid) != TYPTYPE_ENUM ||
		TupleDescAttr(desc, nkeys + 2)->atttypid != TIMESTAMPTZOID ||
		(desc->natts == nkeys + 4 &&
		 TupleDescAttr(desc, nkeys + 3)->atttypid != INT4OID))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("a report query must return %d key columns, then a bigint, an enum, a timestamptz and an optional integer",
						nkeys)));
}

/* Check the query's shape, then look up how to hash its key columns. */
static void
key_info_init(SfKeyInfo *info, TupleDesc desc, int nkeys)
{
	check_shape(desc, nkeys);
	sf_key_info_init(info, desc, nkeys);
}

/* The stays of one status, added on first use. */
static SfStays *
stays_of(SfFold *fold, Oid status)
{
	int			i;

	for (i = 0; i < fold->nstays; i++)
		if (fold->stays[i].status == status)
			return &fold->stays[i];
	fold->stays = fold->nstays == 0 ?
		MemoryContextAlloc(fold->cxt, sizeof(SfStays)) :
		repalloc(fold->stays, sizeof(SfStays) * (fold->nstays + 1));
	memset(&fold->stays[fold->nstays], 0, sizeof(SfStays));
	fold->stays[fold->nstays].status = status;
	return &fold->stays[fold->nstays++];
}

/*
 * A stay in status from entered until left (or still going on, when open),
 * counted by its part inside the window, as time_in_status() documents.
 */
static void
add_stay(SfFold *fold, Oid status, TimestampTz entered, TimestampTz left,
		 bool open)
{
	TimestampTz start = fold->has_since ? Max(entered, fold->since) : entered;
	TimestampTz end = Min(open ? fold->now : left, fold->until);
	int64		usecs;
	SfStays    *stays;

	if ((open && !fold->include_open) || (fold->has_since && end <= fold->since))
		return;
	stays = stays_of(fold, status);
	if (stays->count == stays->size)
	{
		stays->size = Max(64, stays->size * 2);
		stays->seconds = stays->seconds == NULL ?
			MemoryContextAllocHuge(fold->cxt, sizeof(double) * stays->size) :
			repalloc_huge(stays->seconds, sizeof(double) * stays->size);
	}
	usecs = end > start ? end - start : 0;
	stays->seconds[stays->count] = usecs / (double) USECS_PER_SEC;
	stays->sum += usecs;
	stays->count++;
	if (open)
		stays->open++;
}

/* Fold one row into its entity. */
static void
fold_row(SfFold *fold, SfRow *row)
{
	SfEntity   *entity;
	bool		found;

	entity = sf_entities_insert_hash(fold->entities, row->key, row->hash, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(fold->cxt);

		entity->key = sf_key_copy_key(&fold->keys, row->key);
		MemoryContextSwitchTo(old);
		entity->at = row->at;
		entity->mask = 0;
		entity->last_id = PG_INT64_MIN;
	}
	else if (fold->pair)
	{
		/* the query is ordered by history_id: this row ends the last stay */
		if (row->id < entity->last_id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the rows of a report query on stays must come in history_id order")));
		add_stay(fold, entity->last_status, entity->at, row->at, false);
		entity->at = row->at;
	}
	else
		entity->at = Min(entity->at, row->at);
	entity->mask |= row->mask;
	if (row->id > entity->last_id)
	{
		entity->last_id = row->id;
		entity->last_status = row->status;
	}
}

/* Fold the rows of the batch, their entries prefetched first. */
static void
fold_batch(SfFold *fold)
{
	int			i;

	for (i = 0; i < fold->nrows; i++)
	{
		SfRow	   *row = &fold->rows[i];

		row->hash = sf_key_hash(&fold->keys, row->key);
#ifdef __GNUC__
		__builtin_prefetch(&fold->entities->data[row->hash & fold->entities->sizemask]);
#endif
	}
	for (i = 0; i < fold->nrows; i++)
		fold_row(fold, &fold->rows[i]);
	fold->nrows = 0;
	MemoryContextReset(fold->batch_cxt);
}

/* Receive a row of the query into the batch. */
static bool
fold_receive(TupleTableSlot *slot, DestReceiver *self)
{
	SfFold	   *fold = (SfFold *) self;
	int			nkeys = fold->keys.nkeys;
	SfRow	   *row = &fold->rows[fold->nrows];
	MemoryContext old;
	int			k;

	slot_getallattrs(slot);
	for (k = 0; k < nkeys + 3; k++)
		if (slot->tts_isnull[k])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a report query returned a null key, id, status or time")));
	old = MemoryContextSwitchTo(fold->batch_cxt);
	row->key = sf_key_copy(&fold->keys, slot->tts_values);
	MemoryContextSwitchTo(old);
	row->id = DatumGetInt64(slot->tts_values[nkeys]);
	row->status = DatumGetObjectId(slot->tts_values[nkeys + 1]);
	row->at = DatumGetTimestampTz(slot->tts_values[nkeys + 2]);
	row->mask = (slot->tts_tupleDescriptor->natts > nkeys + 3 &&
				 !slot->tts_isnull[nkeys + 3]) ?
		DatumGetInt32(slot->tts_values[nkeys + 3]) : 0;
	if (++fold->nrows == SF_BATCH)
		fold_batch(fold);
	return true;
}

static void
fold_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	SfFold	   *fold = (SfFold *) self;
	MemoryContext old = MemoryContextSwitchTo(fold->cxt);

	key_info_init(&fold->keys, desc, fold->keys.nkeys);
	fold->entities = sf_entities_create(fold->cxt, 1024, &fold->keys);
	MemoryContextSwitchTo(old);
}

/* Fold what is left in the batch. */
static void
fold_shutdown(DestReceiver *self)
{
	fold_batch((SfFold *) self);
}

static void
fold_destroy(DestReceiver *self)
{
}

/*
 * Run the query with $1 = since and $2 = until (timestamptz, maybe null)
 * and fold its rows; the fold lives in a child of the current context.
 */
static void
fold_query(SfFold *fold, FunctionCallInfo fcinfo, int nkeys)
{
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	ParamListInfo params = makeParamList(2);
	SPIExecuteOptions options;
	SPIPlanPtr	plan;
	int			i;

	for (i = 0; i < 2; i++)
	{
		params->params[i].ptype = TIMESTAMPTZOID;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].isnull = PG_ARGISNULL(i + 2);
		params->params[i].value = PG_ARGISNULL(i + 2) ? (Datum) 0 : PG_GETARG_DATUM(i + 2);
	}
	fold->cxt = AllocSetContextCreate(CurrentMemoryContext, "statusflow report",
									  ALLOCSET_DEFAULT_SIZES);
	fold->batch_cxt = AllocSetContextCreate(fold->cxt, "statusflow report batch",
											ALLOCSET_DEFAULT_SIZES);
	fold->keys.nkeys = nkeys;
	fold->pub.receiveSlot = fold_receive;
	fold->pub.rStartup = fold_startup;
	fold->pub.rShutdown = fold_shutdown;
	fold->pub.rDestroy = fold_destroy;
	fold->pub.mydest = DestNone;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	plan = SPI_prepare_cursor(query, 2, types, 0);
	if (plan == NULL)
		elog(ERROR, "statusflow: cannot prepare a report query: %s",
			 SPI_result_code_string(SPI_result));
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = &fold->pub;
	/* the rows go to the receiver: SPI says SPI_OK_UTILITY, as for DestNone */
	if (SPI_execute_plan_extended(plan, &options) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a report query must be a query")));
	SPI_finish();
}

/*
 * statusflow_internal.entities(query text, nkeys integer, since timestamptz,
 *						until timestamptz)
 * RETURNS TABLE (first_at timestamptz, last_status oid, mask integer)
 *
 * One row per entity of the query's rows: its earliest occurred_at, the
 * to_status of its row of highest history_id, and the OR of its masks.
 * The rows may come in any order.  They are read by one process: parallel
 * workers would only add the cost of passing them to the one that folds.
 */
Datum
sf_entities(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SfFold		fold;
	sf_entities_iterator it;
	SfEntity   *entity;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query and nkeys must not be null")));
	InitMaterializedSRF(fcinfo, 0);
	memset(&fold, 0, sizeof(fold));
	fold_query(&fold, fcinfo, PG_GETARG_INT32(1));
	if (fold.entities == NULL)
		return (Datum) 0;
	sf_entities_start_iterate(fold.entities, &it);
	while ((entity = sf_entities_iterate(fold.entities, &it)) != NULL)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = TimestampTzGetDatum(entity->at);
		values[1] = ObjectIdGetDatum(entity->last_status);
		values[2] = Int32GetDatum(entity->mask);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(fold.cxt);
	return (Datum) 0;
}

/* Swap two doubles. */
static inline void
swap_seconds(double *a, double *b)
{
	double		t = *a;

	*a = *b;
	*b = t;
}

/*
 * The k-th smallest of v[0 .. n-1] (0-based), moving v about: quickselect,
 * with the median of three as pivot.
 */
static double
select_kth(double *v, int64 n, int64 k)
{
	int64		lo = 0,
				hi = n - 1;

	while (hi > lo)
	{
		int64		mid = lo + (hi - lo) / 2;
		double		pivot;
		int64		i = lo,
					j = hi;

		if (v[mid] < v[lo])
			swap_seconds(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap_seconds(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap_seconds(&v[hi], &v[mid]);
		pivot = v[mid];
		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
				swap_seconds(&v[i++], &v[j--]);
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/*
 * Where the fraction-th percentile of n values lies, like percentile_cont():
 * between the value of 0-based rank *lower and the next one, the returned
 * fraction of the way.
 */
double
sf_percentile_rank(double fraction, int64 n, int64 *lower)
{
	double		pos = fraction * (n - 1);

	*lower = (int64) floor(pos);
	return pos - *lower;
}

/* The value a fraction of the way from low to high. */
double
sf_interpolate(double low, double high, double fraction)
{
	return low + fraction * (high - low);
}

/* The mean of count stays of sum microseconds in all, in seconds. */
double
sf_mean_seconds(int128 sum, int64 count)
{
	return (double) sum / count / USECS_PER_SEC;
}

/* The fraction-th percentile of v[0 .. n-1], moving v about. */
static double
percentile(double *v, int64 n, double fraction)
{
	int64		lower;
	double		past = sf_percentile_rank(fraction, n, &lower);
	double		low = select_kth(v, n, lower);
	double		high = low;
	int64		i;

	if (past > 0)
	{
		/* after selecting, every value above lower is at least low */
		high = v[lower + 1];
		for (i = lower + 2; i < n; i++)
			high = Min(high, v[i]);
	}
	return sf_interpolate(low, high, past);
}

/*
 * statusflow_internal.stay_stats(query text, nkeys integer, since timestamptz,
 *						  until timestamptz, include_open boolean)
 * RETURNS TABLE (status oid, stays bigint, open_stays bigint,
 *				  mean float8, median float8, p90 float8)
 *
 * The stays of the entities of the query's rows, which must be ordered by
 * history_id: each row starts a stay in its to_status that the entity's next
 * row ends; the last one is open.  Each stay counts by its part inside
 * [since, until), an open one lasting until now; stays outside the window
 * are left out, and open ones too unless include_open.  Durations in
 * seconds, per status.
 */
Datum
sf_stay_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SfFold		fold;
	sf_entities_iterator it;
	SfEntity   *entity;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query, nkeys and include_open must not be null")));
	InitMaterializedSRF(fcinfo, 0);
	memset(&fold, 0, sizeof(fold));
	fold.pair = true;
	fold.has_since = !PG_ARGISNULL(2);
	fold.since = fold.has_since ? PG_GETARG_TIMESTAMPTZ(2) : DT_NOBEGIN;
	fold.until = PG_ARGISNULL(3) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(3);
	fold.now = GetCurrentTransactionStartTimestamp();
	fold.include_open = PG_GETARG_BOOL(4);
	fold_query(&fold, fcinfo, PG_GETARG_INT32(1));
	if (fold.entities != NULL)
	{
		/* what is left of each entity is its open stay */
		sf_entities_start_iterate(fold.entities, &it);
		while ((entity = sf_entities_iterate(fold.entities, &it)) != NULL)
			add_stay(&fold, entity->last_status, entity->at, 0, true);
	}
	for (i = 0; i < fold.nstays; i++)
	{
		SfStays    *s = &fold.stays[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = ObjectIdGetDatum(s->status);
		values[1] = Int64GetDatum(s->count);
		values[2] = Int64GetDatum(s->open);
		values[3] = Float8GetDatum(sf_mean_seconds(s->sum, s->count));
		values[4] = Float8GetDatum(percentile(s->seconds, s->count, 0.5));
		values[5] = Float8GetDatum(percentile(s->seconds, s->count, 0.9));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(fold.cxt);
	return (Datum) 0;
}

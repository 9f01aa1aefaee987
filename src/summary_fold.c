/*-------------------------------------------------------------------------
 *
 * summary_fold.c
 *	  The fold behind history summaries: a binding's history rows, each
 *	  entity's in history_id order, turned into changes of the counts that
 *	  summaries keep (src/sql/65_summaries.sql says what each is for).
 *
 * A summary counts every history row whose transaction is visible in one
 * snapshot, "folded", and no other.  Bringing it up to date with a later
 * snapshot "upto" must change the counts of each entity that has new rows,
 * and what an entity counts for depends on all its rows (its stays pair
 * each row with the next one in history_id order; a row that commits late
 * may come between rows already folded).  So the fold folds each such
 * entity twice: its rows visible in folded (what the summary counts now,
 * subtracted) and all its rows (added).  The counts of its rows that were
 * already folded cancel out, except those of the entity as a whole (its
 * last stay, the statuses it reached).  When all its new rows come after
 * its last folded one, the folded rows add up to what the summary's table
 * of entities says of it, and only the new rows are read, going on from
 * there; the others are read whole.  Without folded, every row is new: the
 * fold of the whole history.  Without upto, the rows are those the current
 * snapshot sees: a report adds the fold of the rows not folded yet (the
 * tail) to the summary.
 *
 * Each change is a row (kind, ...) of statusflow_internal.fold(), one kind
 * per count a summary keeps:
 *
 *	m	applied rows by (bucket of occurred_at, from_status, to_status): n
 *	n	by (bucket, status): entries into the status minus entries into the
 *		next status of the same entity (in history_id order), both counted
 *		in the bucket of the later row.  Their sum over the buckets before
 *		a time is the number of entities in each status then, for entities
 *		whose rows occurred in history_id order ("regular" ones).
 *	f	entities by (bucket of their first entry, the statuses they reached)
 *	F	entities by the statuses they reached, whenever they entered: a
 *		funnel over the whole history reads a row per set of statuses,
 *		not one per bucket and set
 *	o	open stays (each entity's last one) by (bucket entered, status)
 *	M, N, O	the counts of m, n and o by block of SF_PERIODS_PER_BLOCK
 *		buckets instead of by bucket: a report over a long window reads
 *		the blocks that lie in it and the buckets at its ends, not a row
 *		per bucket (summaries only: a fold without a period has no blocks)
 *	u	open stays per status: n, total = the sum of the times entered
 *	h	closed stays by (status, duration bucket x)
 *	s	closed stays by (status, duration x in microseconds)
 *	t	closed stays per status: n, total = the sum of their durations
 *	r	history rows read that were not folded: n
 *	a	open stays by (status, entered at): n (only when asked for)
 *	E	an entity as all its rows leave it: its keys, first entry (bucket),
 *		last entry (at, its history_id x and status), the statuses it
 *		reached, and whether its rows occurred in history_id order
 *
 * Only applied rows that enter their status (no repeated event) make up an
 * entity's stays, as in the reports.  Counts of the same key are summed
 * before they are returned (in memory, flushed when there are many).
 * Buckets are the multiples of the summary's period since 2000-01-01 UTC;
 * without a period, times are kept exact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_fold_summary);
PG_FUNCTION_INFO_V1(sf_bucket);
PG_FUNCTION_INFO_V1(sf_block);

/* Distinct counts kept in memory before they are handed on. */
#define SF_FOLD_FLUSH 262144

/* What the rows of one entity add up to, so far. */
typedef struct SfEntityFold
{
	bool		exists;			/* any row entering a status */
	bool		regular;		/* occurred_at never went back */
	TimestampTz first_at;
	TimestampTz last_at;
	int64		last_id;
	Oid			last_status;
	uint64		reached;		/* bit i: status run->statuses[i] */
} SfEntityFold;

/* An entity: its key, all its rows, and those already folded. */
typedef struct SfFoldEntity
{
	Datum		key;
	uint32		hash;
	char		status;			/* used by simplehash */
	SfEntityFold after;
	SfEntityFold *before;		/* NULL until a folded row comes */
} SfFoldEntity;

#define SH_PREFIX		sf_folds
#define SH_ELEMENT_TYPE SfFoldEntity
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

/* The key of a count: unused fields are zero (padding too, for hashing). */
typedef struct SfCountKey
{
	char		kind;
	Oid			from_status;	/* InvalidOid: null */
	Oid			status;			/* InvalidOid: null */
	TimestampTz bucket;
	int64		x;
	uint64		reached;
} SfCountKey;

typedef struct SfCount
{
	SfCountKey	key;
	int64		n;
	int128		total;
} SfCount;

/* A fold under way: the query's rows come to its receiver. */
typedef struct SfFoldRun
{
	DestReceiver pub;
	SfBinding  *binding;
	MemoryContext cxt;
	SfKeyInfo	keys;
	Datum		rowkey[INDEX_MAX_KEYS];	/* the key of the row at hand */
	int64		period;			/* microseconds; 0: exact times */
	bool		open_rows;		/* count O */
	sf_folds_hash *entities;
	HTAB	   *counts;
	int			nstatuses;		/* statuses met, by their bit */
	Oid			statuses[SF_MAX_SUMMARY_STATUSES];
	SfFoldSink	sink;
	void	   *sink_arg;
} SfFoldRun;

/* The columns a fold query returns after the key columns. */
enum
{
	FQ_ID, FQ_FROM, FQ_TO, FQ_AT, FQ_APPLIED, FQ_FOLDED, FQ_COUNT
};

/*
 * The microseconds of a summary's period: from a minute to a day, dividing
 * a day, so that days start on a bucket in whole-hour time zones.
 */
int64
sf_period_usecs(Interval *period)
{
	int64		usecs = period->time + (int64) period->day * USECS_PER_DAY;

	if (period->month != 0 || usecs < USECS_PER_MINUTE || usecs > USECS_PER_DAY ||
		USECS_PER_DAY % usecs != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a summary period must divide a day and last at least a minute"),
				 errhint("For example '1 hour', '15 minutes' or '1 day'.")));
	return usecs;
}

/* The start of the bucket of t: a multiple of period since 2000-01-01 UTC. */
TimestampTz
sf_bucket_of(TimestampTz t, int64 period)
{
	int64		offset;

	if (period == 0 || TIMESTAMP_NOT_FINITE(t))
		return t;
	offset = t % period;
	return offset < 0 ? t - offset - period : t - offset;
}

/*
 * statusflow_internal.block(t timestamptz, period interval, next boolean):
 * the start of the block of SF_PERIODS_PER_BLOCK buckets of period that
 * holds t or, with next, the first start at or after t (infinity past the
 * last time there is).
 */
Datum
sf_block(PG_FUNCTION_ARGS)
{
	TimestampTz t;
	TimestampTz start;
	int64		len;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	t = PG_GETARG_TIMESTAMPTZ(0);
	len = sf_period_usecs(PG_GETARG_INTERVAL_P(1)) * SF_PERIODS_PER_BLOCK;
	start = sf_bucket_of(t, len);
	if (PG_GETARG_BOOL(2) && start < t)
		start = t < END_TIMESTAMP - len ? start + len : DT_NOEND;
	PG_RETURN_TIMESTAMPTZ(start);
}

/*
 * statusflow_internal.bucket(t timestamptz, period interval): the start of
 * the summary bucket of t.
 */
Datum
sf_bucket(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(sf_bucket_of(PG_GETARG_TIMESTAMPTZ(0),
									   sf_period_usecs(PG_GETARG_INTERVAL_P(1))));
}

/*
 * The bucket of a duration in microseconds: exact below 256 µs, then 128
 * buckets per doubling (each under 1% wide), so that a rank among millions
 * of stays is found in the stays of one bucket.
 */
int64
sf_duration_bucket(int64 usecs)
{
	int			bits;

	if (usecs < 256)
		return Max(usecs, 0);
	bits = pg_leftmost_one_pos64((uint64) usecs);
	return (int64) (bits - 6) * 128 + ((usecs >> (bits - 7)) - 128);
}

/* The first duration of a bucket; PG_INT64_MAX past the last one. */
int64
sf_duration_bucket_start(int64 bucket)
{
	int			bits;

	if (bucket < 256)
		return Max(bucket, 0);
	bits = bucket / 128 + 6;
	if (bits > 62)
		return PG_INT64_MAX;
	return (int64) ((bucket % 128) + 128) << (bits - 7);
}

/* The bit of a status in the sets of statuses reached. */
static uint64
status_bit(SfFoldRun *run, Oid status)
{
	int			i;

	for (i = 0; i < run->nstatuses; i++)
		if (run->statuses[i] == status)
			return UINT64CONST(1) << i;
	if (run->nstatuses == SF_MAX_SUMMARY_STATUSES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the history of %s has more than %d statuses, too many for a summary",
						run->binding->relname, SF_MAX_SUMMARY_STATUSES)));
	run->statuses[run->nstatuses] = status;
	return UINT64CONST(1) << run->nstatuses++;
}

/*
 * The statuses of a set reached, into oids, in OID order (so that equal
 * sets give equal lists); how many.
 */
int
sf_reached_oids(const SfFoldOut *out, Oid *oids)
{
	int			n = 0;
	int			i;

	for (i = 0; i < SF_MAX_SUMMARY_STATUSES; i++)
		if (out->reached & (UINT64CONST(1) << i))
			oids[n++] = out->statuses[i];
	qsort(oids, n, sizeof(Oid), oid_cmp);
	return n;
}

/* Hand every count on to the sink, and forget them. */
static void
flush_counts(SfFoldRun *run)
{
	HASH_SEQ_STATUS seq;
	SfCount    *c;
	SfFoldOut	out;

	hash_seq_init(&seq, run->counts);
	while ((c = hash_seq_search(&seq)) != NULL)
	{
		if (c->n == 0 && c->total == 0)
			continue;
		memset(&out, 0, sizeof(out));
		out.kind = c->key.kind;
		out.from_status = c->key.from_status;
		out.status = c->key.status;
		out.bucket = c->key.bucket;
		out.at = c->key.bucket;
		out.x = c->key.x;
		out.reached = c->key.reached;
		out.statuses = run->statuses;
		out.n = c->n;
		out.total = c->total;
		run->sink(run->sink_arg, &out);
	}
	hash_destroy(run->counts);
	run->counts = NULL;
}

/* Add n (and total) to a count. */
static void
add_count(SfFoldRun *run, char kind, TimestampTz bucket, Oid from_status, Oid status,
	  int64 x, uint64 reached, int64 n, int128 total)
{
	SfCountKey	key;
	SfCount    *c;
	bool		found;

	if (run->counts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(SfCountKey);
		ctl.entrysize = sizeof(SfCount);
		ctl.hcxt = run->cxt;
		run->counts = hash_create("statusflow summary counts", 1024, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.kind = kind;
	key.from_status = from_status;
	key.status = status;
	key.bucket = bucket;
	key.x = x;
	key.reached = reached;
	c = hash_search(run->counts, &key, HASH_ENTER, &found);
	if (!found)
	{
		c->n = 0;
		c->total = 0;
	}
	c->n += n;
	c->total += total;
	if (hash_get_num_entries(run->counts) >= SF_FOLD_FLUSH)
		flush_counts(run);
}

/*
 * Add n to a count kept by bucket of time at (m, n, o) and, in a fold with
 * a period, to the same count by block (M, N, O).
 */
static void
add_bucketed(SfFoldRun *run, char kind, TimestampTz at, Oid from_status, Oid status,
			 int64 n)
{
	add_count(run, kind, sf_bucket_of(at, run->period), from_status, status, 0, 0, n, 0);
	if (run->period > 0)
		add_count(run, pg_ascii_toupper(kind),
				  sf_bucket_of(at, run->period * SF_PERIODS_PER_BLOCK), from_status, status,
				  0, 0, n, 0);
}

/* b - a in microseconds, at least 0, at most PG_INT64_MAX. */
static int64
duration(TimestampTz a, TimestampTz b)
{
	int64		d;

	if (b <= a)
		return 0;
	if (pg_sub_s64_overflow(b, a, &d))
		return PG_INT64_MAX;
	return d;
}

/*
 * Fold a row entering status at time at into what an entity's rows add up
 * to; sign is 1 for all rows, -1 for the rows already folded.
 */
static void
fold_entry(SfFoldRun *run, SfEntityFold *f, int64 id, Oid status, TimestampTz at,
		   int sign)
{
	if (!f->exists)
	{
		f->exists = true;
		f->regular = true;
		f->first_at = at;
		f->reached = 0;
	}
	else
	{
		int64		stay = duration(f->last_at, at);

		if (id <= f->last_id)
			elog(ERROR, "statusflow: the rows of a fold came out of history_id order");
		add_count(run, 's', 0, InvalidOid, f->last_status, stay, 0, sign, 0);
		add_count(run, 'h', 0, InvalidOid, f->last_status, sf_duration_bucket(stay), 0,
			  sign, 0);
		add_count(run, 't', 0, InvalidOid, f->last_status, 0, 0, sign,
			  (int128) sign * stay);
		add_bucketed(run, 'n', at, InvalidOid, f->last_status, -sign);
		if (at < f->last_at)
			f->regular = false;
		f->first_at = Min(f->first_at, at);
	}
	add_bucketed(run, 'n', at, InvalidOid, status, sign);
	f->reached |= status_bit(run, status);
	f->last_at = at;
	f->last_id = id;
	f->last_status = status;
}

/* The counts of an entity as a whole: sign 1 for all rows, -1 for folded. */
static void
finish_entity(SfFoldRun *run, SfEntityFold *f, int sign)
{
	if (!f->exists)
		return;
	add_count(run, 'f', sf_bucket_of(f->first_at, run->period), InvalidOid, InvalidOid,
		  0, f->reached, sign, 0);
	add_count(run, 'F', 0, InvalidOid, InvalidOid, 0, f->reached, sign, 0);
	add_bucketed(run, 'o', f->last_at, InvalidOid, f->last_status, sign);
	add_count(run, 'u', 0, InvalidOid, f->last_status, 0, 0, sign, (int128) sign * f->last_at);
	if (run->open_rows)
		add_count(run, 'a', f->last_at, InvalidOid, f->last_status, 0, 0, sign, 0);
}

/* Hand on every entity with its counts as a whole. */
static void
finish_entities(SfFoldRun *run)
{
	sf_folds_iterator it;
	SfFoldEntity *e;
	SfFoldOut	out;

	sf_folds_start_iterate(run->entities, &it);
	while ((e = sf_folds_iterate(run->entities, &it)) != NULL)
	{
		finish_entity(run, &e->after, 1);
		if (e->before != NULL)
			finish_entity(run, e->before, -1);
		if (!e->after.exists)
			continue;
		memset(&out, 0, sizeof(out));
		out.kind = 'E';
		out.bucket = e->after.first_at;
		out.at = e->after.last_at;
		out.status = e->after.last_status;
		out.x = e->after.last_id;
		out.reached = e->after.reached;
		out.statuses = run->statuses;
		out.regular = e->after.regular;
		out.key = e->key;
		out.keys = &run->keys;
		run->sink(run->sink_arg, &out);
	}
}

/* The entity of the row at hand, added on first sight. */
static SfFoldEntity *
entity_of(SfFoldRun *run)
{
	Datum		key = run->keys.nkeys == 1 ? run->rowkey[0] : PointerGetDatum(run->rowkey);
	SfFoldEntity *e;
	bool		found;

	e = sf_folds_insert(run->entities, key, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(run->cxt);

		e->key = sf_key_copy(&run->keys, run->rowkey);
		MemoryContextSwitchTo(old);
		memset(&e->after, 0, sizeof(e->after));
		e->before = NULL;
	}
	return e;
}

/*
 * Receive a row: key columns, history_id, from_status, to_status,
 * occurred_at, applied, folded.
 */
static bool
fold_receive(TupleTableSlot *slot, DestReceiver *self)
{
	SfFoldRun  *run = (SfFoldRun *) self;
	int			nkeys = run->keys.nkeys;
	Datum	   *v = slot->tts_values;
	bool	   *isnull = slot->tts_isnull;
	bool		folded,
				entry;
	int64		id;
	Oid			from,
				to;
	TimestampTz at;
	SfFoldEntity *e;
	int			k;

	slot_getallattrs(slot);
	for (k = 0; k < nkeys; k++)
	{
		if (isnull[k])
			break;
		run->rowkey[k] = v[k];
	}
	if (k < nkeys || isnull[nkeys + FQ_ID] || isnull[nkeys + FQ_AT] ||
		isnull[nkeys + FQ_APPLIED] || isnull[nkeys + FQ_FOLDED])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a report query returned a null key, id, status or time")));
	id = DatumGetInt64(v[nkeys + FQ_ID]);
	from = isnull[nkeys + FQ_FROM] ? InvalidOid : DatumGetObjectId(v[nkeys + FQ_FROM]);
	to = isnull[nkeys + FQ_TO] ? InvalidOid : DatumGetObjectId(v[nkeys + FQ_TO]);
	at = DatumGetTimestampTz(v[nkeys + FQ_AT]);
	folded = DatumGetBool(v[nkeys + FQ_FOLDED]);
	if (!folded)
	{
		add_count(run, 'r', 0, InvalidOid, InvalidOid, 0, 0, 1, 0);
		if (DatumGetBool(v[nkeys + FQ_APPLIED]))
			add_bucketed(run, 'm', at, from, to, 1);
	}
	/* the rows of stays: applied, and not a repeated event */
	entry = DatumGetBool(v[nkeys + FQ_APPLIED]) &&
		(from == InvalidOid || to == InvalidOid || from != to);
	if (!entry)
		return true;
	if (to == InvalidOid)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a report query returned a null key, id, status or time")));
	e = entity_of(run);
	fold_entry(run, &e->after, id, to, at, 1);
	if (folded)
	{
		if (e->before == NULL)
			e->before = MemoryContextAllocZero(run->cxt, sizeof(SfEntityFold));
		fold_entry(run, e->before, id, to, at, -1);
	}
	return true;
}

/*
 * The tail, as a CTE: the history rows not visible in the folded snapshot
 * $1 (and visible in upto $2, when given), found through the txid index.
 */
static char *
tail_cte(SfBinding *b, bool has_upto)
{
	return psprintf("WITH tail AS MATERIALIZED (SELECT %s, t.history_id, t.from_status, "
					"t.to_status, t.occurred_at, t.applied FROM %s t "
					"WHERE t.txid OPERATOR(pg_catalog.>=) pg_catalog.pg_snapshot_xmin($1) "
					"AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)%s) ",
					sf_key_columns(b, "t"), b->history_relname,
					has_upto ? " AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)" : "");
}

/*
 * The query of the rows to fold, with $1 the folded snapshot and $2 the
 * snapshot to fold up to: all rows (visible in upto), in history_id order;
 * or, with folded, the rows of the entities that have rows not folded yet,
 * in history_id order: every row of those that must be folded again (all
 * of them, or, given the summary's table of entities, those with a row not
 * folded before their last folded one: reread says whether there are
 * any), the rows not folded of the others.
 */
static char *
fold_query(SfBinding *b, bool has_folded, bool has_upto, const char *entities,
		   bool reread)
{
	const char *columns = "h.history_id, h.from_status, h.to_status, h.occurred_at, h.applied";
	const char *visible = has_upto ?
		"pg_catalog.pg_visible_in_snapshot(h.txid, $2)" : "true";

	if (!has_folded)
		return psprintf("SELECT %s, %s, false AS folded FROM %s h WHERE %s "
						"ORDER BY h.history_id",
						sf_key_columns(b, "h"), columns, b->history_relname, visible);
	if (entities != NULL && !reread)
		return psprintf("%sSELECT %s, %s, false AS folded FROM tail h ORDER BY h.history_id",
						tail_cte(b, has_upto), sf_key_columns(b, "h"), columns);
	return psprintf("%s, again AS MATERIALIZED (SELECT DISTINCT %s FROM tail n%s) "
					"SELECT %s, %s, h.folded FROM ("
					"SELECT %s, %s, false AS folded FROM tail h "
					"WHERE NOT EXISTS (SELECT FROM again n WHERE %s) "
					"UNION ALL "
					"SELECT %s, %s, pg_catalog.pg_visible_in_snapshot(h.txid, $1) "
					"FROM again n CROSS JOIN LATERAL (SELECT %s, %s, h.txid FROM %s h "
					"WHERE %s AND %s) h) h ORDER BY h.history_id",
					tail_cte(b, has_upto), sf_key_columns(b, "n"),
					entities == NULL ? "" :
					psprintf(" JOIN %s e ON %s WHERE n.history_id OPERATOR(pg_catalog.<) e.last_id",
							 entities, sf_same_key(b, "n", "e")),
					sf_key_columns(b, "h"), columns,
					sf_key_columns(b, "h"), columns, sf_same_key(b, "n", "h"),
					sf_key_columns(b, "h"), columns,
					sf_key_columns(b, "h"), columns, b->history_relname,
					visible, sf_same_key(b, "h", "n"));
}

/*
 * The query of what the summary's table of entities says of the entities
 * that have rows not folded (their state after the folded rows), with the
 * first of those rows: an entity whose rows not folded all come after its
 * last folded one goes on from that state (seed_entities()).
 */
static char *
seed_query(SfBinding *b, bool has_upto, const char *entities)
{
	return psprintf("%sSELECT %s, e.first_at, e.reached, e.last_id, e.last_status, "
					"e.last_at, e.regular, n.lo FROM (SELECT %s, pg_catalog.min(t.history_id) AS lo "
					"FROM tail t GROUP BY %s) n JOIN %s e ON %s",
					tail_cte(b, has_upto), sf_key_columns(b, "n"), sf_key_columns(b, "t"),
					sf_key_columns(b, "t"), entities, sf_same_key(b, "n", "e"));
}

/*
 * The summary's table of entities, when it describes the rows visible in
 * folded (it is the summary's folded snapshot) and the caller may read it
 * (summary_for()); else NULL.
 */
static char *
summary_entities(SfBinding *b, Datum folded)
{
	SfSummary	summary;

	if (!sf_summary_for(b->id, &summary) ||
		strcmp(DatumGetCString(DirectFunctionCall1(pg_snapshot_out, summary.folded)),
			   DatumGetCString(DirectFunctionCall1(pg_snapshot_out, folded))) != 0)
		return NULL;
	return summary.entities;
}

/*
 * Whether columns first... of desc have types, in order (InvalidOid: the
 * workflow's type; ANYARRAYOID: an array of it), or with types NULL, the
 * binding's key types.  Summary queries and fold() check their results
 * with it: a summary or history table whose columns changed type.
 */
bool
sf_columns_are(SfBinding *b, TupleDesc desc, int first, const Oid *types, int ntypes)
{
	int			i;

	if (types == NULL)
		ntypes = b->nkeys;
	if (first + ntypes > desc->natts)
		return false;
	for (i = 0; i < ntypes; i++)
	{
		Oid			want = types ? types[i] : b->key_types[i];

		if (want == InvalidOid)
			want = b->workflow->type_oid;
		else if (want == ANYARRAYOID)
			want = get_array_type(b->workflow->type_oid);
		if (TupleDescAttr(desc, first + i)->atttypid != want)
			return false;
	}
	return true;
}

/* Whether desc is the binding's key columns, then columns of types. */
static bool
keys_then(SfBinding *b, TupleDesc desc, const Oid *types, int ntypes)
{
	return desc->natts == b->nkeys + ntypes && sf_columns_are(b, desc, 0, NULL, 0) &&
		sf_columns_are(b, desc, b->nkeys, types, ntypes);
}

/* Look up how to hash the keys of desc, once, and start the entities. */
static void
start_entities(SfFoldRun *run, TupleDesc desc)
{
	MemoryContext old;

	if (run->entities != NULL)
		return;
	old = MemoryContextSwitchTo(run->cxt);
	sf_key_info_init(&run->keys, desc, run->binding->nkeys);
	run->entities = sf_folds_create(run->cxt, 1024, &run->keys);
	MemoryContextSwitchTo(old);
}

/*
 * Refuse a query result that is not the key columns of the binding, then
 * history_id, from_status and to_status (the workflow's type), occurred_at,
 * applied and folded: a history table whose columns changed type.
 */
static void
fold_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	static const Oid types[FQ_COUNT] = {INT8OID, InvalidOid, InvalidOid,
	TIMESTAMPTZOID, BOOLOID, BOOLOID};
	SfFoldRun  *run = (SfFoldRun *) self;
	SfBinding  *b = run->binding;

	if (!keys_then(b, desc, types, FQ_COUNT))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("history table %s does not have the column types of a history table",
						b->history_relname),
				 errhint("Its key columns must have the types of the key columns of %s, from_status and to_status the type %s.",
						 b->relname, format_type_be(b->workflow->type_oid))));
	start_entities(run, desc);
}

/* The columns of seed_query() after the key columns. */
enum
{
	FS_FIRST_AT, FS_REACHED, FS_LAST_ID, FS_LAST_STATUS, FS_LAST_AT, FS_REGULAR, FS_LO,
	FS_COUNT
};

/* The statuses of an array read from a summary, as a set of bits. */
static uint64
reached_bits(SfFoldRun *run, Datum array)
{
	ArrayType  *a = DatumGetArrayTypeP(array);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	uint64		bits = 0;

	deconstruct_array(a, run->binding->workflow->type_oid, sizeof(Oid), true,
					  TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (!nulls[i])
			bits |= status_bit(run, DatumGetObjectId(elems[i]));
	return bits;
}

/*
 * Start the entities whose rows not folded all come after their last
 * folded one from what the summary's table of entities says of them (the
 * state their folded rows add up to): their new rows go on from there, as
 * if all their rows had been read (seed_query()).  Returns whether any
 * other entity the table knows has rows not folded: those must be read
 * again, whole.
 */
static bool
seed_entities(SfFoldRun *run, const char *entities, bool has_upto, Oid *types,
			  SPIExecuteOptions *options)
{
	static const Oid seed_types[FS_COUNT] = {TIMESTAMPTZOID, ANYARRAYOID, INT8OID,
	InvalidOid, TIMESTAMPTZOID, BOOLOID, INT8OID};
	SfBinding  *b = run->binding;
	bool		reread = false;
	SPIPlanPtr	plan = SPI_prepare(seed_query(b, has_upto, entities), 2, types);
	TupleDesc	desc;
	uint64		i;

	if (plan == NULL || SPI_execute_plan_extended(plan, options) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not read the summary entities of binding %d", b->id);
	desc = SPI_tuptable->tupdesc;
	if (!keys_then(b, desc, seed_types, FS_COUNT))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("summary table %s does not have the columns of a summary's entities",
						entities),
				 errhint("Build the summaries again: disable_summaries(), then enable_summaries().")));
	start_entities(run, desc);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull[INDEX_MAX_KEYS + FS_COUNT];
		Datum		v[INDEX_MAX_KEYS + FS_COUNT];
		SfFoldEntity *e;
		int			k;

		heap_deform_tuple(SPI_tuptable->vals[i], desc, v, isnull);
		for (k = 0; k < b->nkeys + FS_LO; k++)
			if (isnull[k])
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("summary table %s has an entity with a null column", entities),
						 errhint("Build the summaries again with statusflow.refresh_summaries(rebuild => true).")));
		if (isnull[b->nkeys + FS_LO] ||
			DatumGetInt64(v[b->nkeys + FS_LO]) <= DatumGetInt64(v[b->nkeys + FS_LAST_ID]))
		{
			reread = true;
			continue;
		}
		memcpy(run->rowkey, v, b->nkeys * sizeof(Datum));
		e = entity_of(run);
		e->after.exists = true;
		e->after.first_at = DatumGetTimestampTz(v[b->nkeys + FS_FIRST_AT]);
		e->after.reached = reached_bits(run, v[b->nkeys + FS_REACHED]);
		e->after.last_id = DatumGetInt64(v[b->nkeys + FS_LAST_ID]);
		e->after.last_status = DatumGetObjectId(v[b->nkeys + FS_LAST_STATUS]);
		e->after.last_at = DatumGetTimestampTz(v[b->nkeys + FS_LAST_AT]);
		e->after.regular = DatumGetBool(v[b->nkeys + FS_REGULAR]);
		e->before = MemoryContextAlloc(run->cxt, sizeof(SfEntityFold));
		*e->before = e->after;
	}
	return reread;
}

static void
fold_shutdown(DestReceiver *self)
{
}

static void
fold_destroy(DestReceiver *self)
{
}

/*
 * Fold the history of a binding: the rows visible in upto (NULL: in the
 * current snapshot), with those visible in folded (NULL: none) counted as
 * already folded; period in microseconds (0: exact times).  Every count
 * and entity goes to sink, in a memory context that lives until the fold
 * returns.  Runs with the caller's rights.
 */
void
sf_fold(SfBinding *b, Datum *folded, Datum *upto, int64 period, bool open_rows,
		SfFoldSink sink, void *sink_arg)
{
	SfFoldRun	run;
	Oid			types[2] = {PG_SNAPSHOTOID, PG_SNAPSHOTOID};
	ParamListInfo params = makeParamList(2);
	SPIExecuteOptions options;
	SPIPlanPtr	plan;
	char	   *entities;
	bool		reread = false;
	int			nest;

	memset(&run, 0, sizeof(run));
	run.binding = b;
	run.period = period;
	run.open_rows = open_rows;
	run.sink = sink;
	run.sink_arg = sink_arg;
	run.cxt = AllocSetContextCreate(CurrentMemoryContext, "statusflow fold",
									ALLOCSET_DEFAULT_SIZES);
	run.pub.receiveSlot = fold_receive;
	run.pub.rStartup = fold_startup;
	run.pub.rShutdown = fold_shutdown;
	run.pub.rDestroy = fold_destroy;
	run.pub.mydest = DestNone;
	params->params[0].ptype = PG_SNAPSHOTOID;
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].isnull = folded == NULL;
	params->params[0].value = folded ? *folded : (Datum) 0;
	params->params[1].ptype = PG_SNAPSHOTOID;
	params->params[1].pflags = PARAM_FLAG_CONST;
	params->params[1].isnull = upto == NULL;
	params->params[1].value = upto ? *upto : (Datum) 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	nest = sf_pin_search_path();
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	entities = folded != NULL ? summary_entities(b, *folded) : NULL;
	if (entities != NULL)
		reread = seed_entities(&run, entities, upto != NULL, types, &options);
	plan = SPI_prepare(fold_query(b, folded != NULL, upto != NULL, entities, reread),
					   2, types);
	if (plan == NULL)
		elog(ERROR, "statusflow: cannot prepare a fold query: %s",
			 SPI_result_code_string(SPI_result));
	options.dest = &run.pub;
	if (SPI_execute_plan_extended(plan, &options) < 0)
		elog(ERROR, "statusflow: fold query failed");
	sf_unpin_search_path(nest);
	SPI_finish();
	if (run.entities != NULL)
		finish_entities(&run);
	if (run.counts != NULL)
		flush_counts(&run);
	MemoryContextDelete(run.cxt);
}

/* The columns of statusflow_internal.fold(), before the key columns. */
enum
{
	FO_KIND, FO_BUCKET, FO_AT, FO_FROM, FO_STATUS, FO_X, FO_REACHED, FO_N,
	FO_TOTAL, FO_REGULAR, FO_COUNT
};

/* Where the fold's rows go: the function's result. */
typedef struct SfFoldResult
{
	ReturnSetInfo *rsinfo;
	SfBinding  *binding;
} SfFoldResult;

/* A 128-bit integer as a numeric. */
static Datum
int128_numeric(int128 v)
{
	char		buf[48];
	int			i = sizeof(buf) - 1;
	uint128		u = v < 0 ? -(uint128) v : (uint128) v;

	buf[i] = '\0';
	do
	{
		buf[--i] = '0' + (int) (u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		buf[--i] = '-';
	return DirectFunctionCall3(numeric_in, CStringGetDatum(&buf[i]),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* A set of statuses reached as an array of the workflow's type. */
static Datum
reached_array(SfBinding *b, const SfFoldOut *out)
{
	Oid			oids[SF_MAX_SUMMARY_STATUSES];
	Datum		elems[SF_MAX_SUMMARY_STATUSES];
	int			n = sf_reached_oids(out, oids);
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = ObjectIdGetDatum(oids[i]);
	return PointerGetDatum(construct_array(elems, n, b->workflow->type_oid,
										   sizeof(Oid), true, TYPALIGN_INT));
}

/* Put a count or an entity into the function's result. */
static void
put_fold_row(void *arg, const SfFoldOut *out)
{
	SfFoldResult *r = arg;
	int			natts = r->rsinfo->setDesc->natts;
	Datum	   *values = palloc0(sizeof(Datum) * natts);
	bool	   *nulls = palloc(sizeof(bool) * natts);
	const char *cols;
	int			k;

	memset(nulls, true, sizeof(bool) * natts);
	values[FO_KIND] = CharGetDatum(out->kind);
	nulls[FO_KIND] = false;
	/* the columns each kind fills: b, a, f, s, x, r, n, t, g, k */
	switch (out->kind)
	{
		case 'm':
		case 'M':
			cols = "bfsn";
			break;
		case 'n':
		case 'o':
		case 'N':
		case 'O':
			cols = "bsn";
			break;
		case 'f':
			cols = "brn";
			break;
		case 'F':
			cols = "rn";
			break;
		case 'u':
		case 't':
			cols = "snt";
			break;
		case 'h':
		case 's':
			cols = "sxn";
			break;
		case 'a':
			cols = "asn";
			break;
		case 'E':
			cols = "basxrgk";
			break;
		default:
			cols = "n";
			break;
	}
	for (; *cols; cols++)
	{
		switch (*cols)
		{
			case 'b':
				values[FO_BUCKET] = TimestampTzGetDatum(out->bucket);
				nulls[FO_BUCKET] = false;
				break;
			case 'a':
				values[FO_AT] = TimestampTzGetDatum(out->at);
				nulls[FO_AT] = false;
				break;
			case 'f':
				values[FO_FROM] = ObjectIdGetDatum(out->from_status);
				nulls[FO_FROM] = !OidIsValid(out->from_status);
				break;
			case 's':
				values[FO_STATUS] = ObjectIdGetDatum(out->status);
				nulls[FO_STATUS] = !OidIsValid(out->status);
				break;
			case 'x':
				values[FO_X] = Int64GetDatum(out->x);
				nulls[FO_X] = false;
				break;
			case 'r':
				values[FO_REACHED] = reached_array(r->binding, out);
				nulls[FO_REACHED] = false;
				break;
			case 'n':
				values[FO_N] = Int64GetDatum(out->n);
				nulls[FO_N] = false;
				break;
			case 't':
				values[FO_TOTAL] = int128_numeric(out->total);
				nulls[FO_TOTAL] = false;
				break;
			case 'g':
				values[FO_REGULAR] = BoolGetDatum(out->regular);
				nulls[FO_REGULAR] = false;
				break;
			case 'k':
				for (k = 0; k < out->keys->nkeys; k++)
				{
					values[FO_COUNT + k] = sf_key_column(out->keys, out->key, k);
					nulls[FO_COUNT + k] = false;
				}
				break;
		}
	}
	tuplestore_putvalues(r->rsinfo->setResult, r->rsinfo->setDesc, values, nulls);
	pfree(values);
	pfree(nulls);
}

/*
 * Refuse a column definition list other than (kind "char", bucket
 * timestamptz, at timestamptz, from_status S, status S, x bigint, reached
 * S[], n bigint, total numeric, regular boolean, keys...), S the workflow's
 * type and the keys those of the binding.
 */
static void
check_fold_result(SfBinding *b, TupleDesc desc)
{
	static const Oid types[FO_COUNT] = {CHAROID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	InvalidOid, InvalidOid, INT8OID, ANYARRAYOID, INT8OID, NUMERICOID, BOOLOID};
	Oid			status = b->workflow->type_oid;

	if (desc->natts != FO_COUNT + b->nkeys || !sf_columns_are(b, desc, 0, types, FO_COUNT) ||
		!sf_columns_are(b, desc, FO_COUNT, NULL, 0))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("statusflow_internal.fold() returns (kind \"char\", bucket timestamptz, at timestamptz, from_status %s, status %s, x bigint, reached %s[], n bigint, total numeric, regular boolean) and the key columns of %s",
						format_type_be(status), format_type_be(status),
						format_type_be(status), b->relname)));
}

/*
 * statusflow_internal.fold(binding integer, folded pg_snapshot,
 *							upto pg_snapshot, period interval)
 * RETURNS SETOF record
 *
 * The changes to a summary of the binding's history (see the top of this
 * file): from counting the rows visible in folded to counting those visible
 * in upto (NULL: in the current snapshot), in buckets of period (NULL:
 * exact times).  The caller needs SELECT on the history table.
 */
Datum
sf_fold_summary(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SfFoldResult result;
	SfBinding  *b;
	Datum		folded = PG_GETARG_DATUM(1);
	Datum		upto = PG_GETARG_DATUM(2);

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("binding must not be null")));
	b = sf_binding_arg(PG_GETARG_INT32(0));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	check_fold_result(b, rsinfo->setDesc);
	result.rsinfo = rsinfo;
	result.binding = b;
	sf_fold(b, PG_ARGISNULL(1) ? NULL : &folded, PG_ARGISNULL(2) ? NULL : &upto,
			PG_ARGISNULL(3) ? 0 : sf_period_usecs(PG_GETARG_INTERVAL_P(3)),
			PG_ARGISNULL(2), put_fold_row, &result);
	return (Datum) 0;
}

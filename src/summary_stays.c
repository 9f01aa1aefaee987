/*-------------------------------------------------------------------------
 *
 * summary_stays.c
 *	  Time in status from a binding's summaries: per status, how many
 *	  stays, their mean, median and 90th percentile, as
 *	  statusflow_internal.stay_stats() finds them in the whole history
 *	  (without a time window), but from counts that do not grow with it.
 *
 * A summary keeps the closed stays per status by exact duration (kind s)
 * and by duration bucket (h), with their number and total (t); and the
 * open ones, each entity's last stay, which lasts until now, by the bucket
 * of the time they began (o) and by block of SF_PERIODS_PER_BLOCK buckets
 * (O), with their number and the total of those times (u), and exactly in
 * the table of entities (last_status, last_at).
 * The tail, the history rows not folded yet, is folded here (exact times)
 * and its changes are added.
 *
 * A percentile is the value at a rank.  A binary search over the duration
 * buckets finds the bucket holding that rank, counting the stays shorter
 * than a bucket's first duration: closed ones from the h counts, open ones
 * from the O counts of the blocks that began late enough, the o counts of
 * the one block that straddles the limit and the entities of the one period
 * that does (each read only when the counts before cannot decide the step).
 * The blocks are what is read whole: their number grows with the history's
 * span 64 times slower than the periods'.  A bucket of long stays
 * spans many periods of starts (1% of a year is three days), so a second
 * search over the periods' starts inside the bucket finds the one period
 * holding the rank, counting the bucket's closed stays from their exact
 * durations.  Then the stays of that part are read (one period's open
 * stays: their number does not grow with the history's span), sorted, and
 * counted up to the rank.  Values, mean and interpolation are computed as
 * stay_stats() computes them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_summary_stays);

/* A value with how many times it counts (a change of the tail may be -1). */
typedef struct SfValue
{
	int64		v;
	int64		n;
} SfValue;

/* A growing list of values. */
typedef struct SfValues
{
	int			len;
	int			size;
	SfValue    *items;
} SfValues;

/* The stays of one status. */
typedef struct SfStatusStays
{
	Oid			status;
	int64		closed;			/* closed stays, their durations' total */
	int128		closed_sum;
	int64		open;			/* open stays, the total of their starts */
	int128		open_started;
	SfValues	buckets;		/* closed stays by duration bucket, sorted */
	SfValues	blocks;			/* open stays by the block they began in */
	List	   *block_periods;	/* SfBlock: the blocks read by period */
	SfValues	tail_closed;	/* the tail's changes: durations */
	SfValues	tail_open;		/* and times open stays began */
} SfStatusStays;

/* The open stays of a status begun in each period of a block. */
typedef struct SfBlock
{
	TimestampTz start;
	SfValues	periods;
} SfBlock;

/* Everything a call works with. */
typedef struct SfStaysRun
{
	SfBinding  *binding;
	char	   *counts;			/* the summary tables' names */
	char	   *entities;
	int64		period;
	int64		block;			/* SF_PERIODS_PER_BLOCK periods */
	TimestampTz now;
	bool		include_open;
	int			nstatuses;
	SfStatusStays statuses[SF_MAX_SUMMARY_STATUSES];
	SPIPlanPtr	count_open;		/* open stays begun in (t, end) */
	SPIPlanPtr	read_closed;	/* closed stays of durations in [lo, hi) */
	SPIPlanPtr	read_open;		/* starts of open stays in (t1, t2] */
	SPIPlanPtr	read_periods;	/* open stays by period in [t1, t2) */
	/* the stays read last: their durations, sorted, and how many are shorter */
	bool		have_read;
	int64		read_below;
	SfValues	read;
} SfStaysRun;

static void
add_value(SfValues *list, int64 v, int64 n)
{
	if (list->len == list->size)
	{
		list->size = Max(16, list->size * 2);
		list->items = list->items == NULL ?
			palloc(sizeof(SfValue) * list->size) :
			repalloc(list->items, sizeof(SfValue) * list->size);
	}
	list->items[list->len].v = v;
	list->items[list->len].n = n;
	list->len++;
}

/* The stays of a status, added on first use. */
static SfStatusStays *
status_stays(SfStaysRun *run, Oid status)
{
	int			i;

	for (i = 0; i < run->nstatuses; i++)
		if (run->statuses[i].status == status)
			return &run->statuses[i];
	if (run->nstatuses == SF_MAX_SUMMARY_STATUSES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the summaries of %s have more than %d statuses",
						run->binding->relname, SF_MAX_SUMMARY_STATUSES)));
	memset(&run->statuses[run->nstatuses], 0, sizeof(SfStatusStays));
	run->statuses[run->nstatuses].status = status;
	return &run->statuses[run->nstatuses++];
}

/* A numeric total of a summary as a 128-bit integer. */
static int128
numeric_int128(Datum num, const char *table)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, num));
	bool		negative = (*s == '-');
	int128		v = 0;

	if (negative)
		s++;
	if (*s == '\0')
		goto bad;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9' || v > (((int128) PG_INT64_MAX) << 56))
			goto bad;
		v = v * 10 + (*s - '0');
	}
	return negative ? -v : v;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("summary table %s holds a total that is not an integer", table),
			 errhint("Build the summaries again with statusflow.refresh_summaries(rebuild => true).")));
	return 0;
}

/* Refuse a summary query result whose columns are not of these types. */
static void
check_result(SfStaysRun *run, const char *table, int ntypes, const Oid *types)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;

	if (desc->natts != ntypes || !sf_columns_are(run->binding, desc, 0, types, ntypes))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("summary table %s does not have the columns of a summary", table),
				 errhint("Build the summaries again: disable them, then enable them.")));
}

/*
 * Read the summary row of the binding, readable and built, and check the
 * columns of its entities; or raise.  Returns the snapshot it was folded
 * up to.
 */
static Datum
read_summary(SfStaysRun *run)
{
	static const Oid entity_types[2] = {InvalidOid, TIMESTAMPTZOID};
	SfSummary	summary;

	if (!sf_summary_for(run->binding->id, &summary))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s keeps no summaries the current role may read",
						run->binding->relname),
				 errhint("Reports use summaries when statusflow.summaries shows them built and the role may read the whole history.")));
	run->counts = summary.counts;
	run->entities = summary.entities;
	run->period = summary.period;
	run->block = summary.period * SF_PERIODS_PER_BLOCK;
	if (SPI_execute(psprintf("SELECT e.last_status, e.last_at FROM %s e LIMIT 0",
							 run->entities), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not read summary entities");
	check_result(run, run->entities, 2, entity_types);
	return summary.folded;
}

/* Order values by v. */
static int
compare_values(const void *a, const void *b)
{
	int64		x = ((const SfValue *) a)->v;
	int64		y = ((const SfValue *) b)->v;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * Load the counts of stays: totals (t, u), durations (h, in order), starts
 * by block (O).  Ordered here, not by the query: sorting by an enum costs more.
 */
static void
read_counts(SfStaysRun *run)
{
	static const Oid types[6] = {CHAROID, InvalidOid, INT8OID, TIMESTAMPTZOID, INT8OID,
	NUMERICOID};
	uint64		i;

	if (SPI_execute(psprintf("SELECT c.kind, c.status, c.x, c.bucket, c.n, c.total FROM %s c "
							 "WHERE c.kind OPERATOR(pg_catalog.=) ANY ('{t,u,h,O}'::\"char\"[]) "
							 "AND c.status IS NOT NULL",
							 run->counts), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not read summary counts");
	check_result(run, run->counts, 6, types);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull,
					xnull,
					bucketnull,
					totalnull;
		char		kind = DatumGetChar(SPI_getbinval(tup, desc, 1, &isnull));
		SfStatusStays *st = status_stays(run, DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull)));
		int64		x = DatumGetInt64(SPI_getbinval(tup, desc, 3, &xnull));
		TimestampTz bucket = DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &bucketnull));
		int64		n = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
		Datum		total = SPI_getbinval(tup, desc, 6, &totalnull);

		if (((kind == 't' || kind == 'u') && totalnull) ||
			(kind == 'h' && xnull) || (kind == 'O' && bucketnull))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("summary table %s lacks a total or a bucket", run->counts),
					 errhint("Build the summaries again with statusflow.refresh_summaries(rebuild => true).")));
		switch (kind)
		{
			case 't':
				st->closed += n;
				st->closed_sum += numeric_int128(total, run->counts);
				break;
			case 'u':
				st->open += n;
				st->open_started += numeric_int128(total, run->counts);
				break;
			case 'h':
				add_value(&st->buckets, x, n);
				break;
			case 'O':
				add_value(&st->blocks, bucket, n);
				break;
		}
	}
	/* the duration buckets in order: closed_below() counts up to one */
	for (i = 0; i < (uint64) run->nstatuses; i++)
		qsort(run->statuses[i].buckets.items, run->statuses[i].buckets.len, sizeof(SfValue),
			  compare_values);
}

/* Add a change of the tail to the stays it concerns. */
static void
add_tail(void *arg, const SfFoldOut *out)
{
	SfStaysRun *run = arg;
	SfStatusStays *st;

	if (strchr("tusa", out->kind) == NULL)
		return;
	st = status_stays(run, out->status);
	switch (out->kind)
	{
		case 't':
			st->closed += out->n;
			st->closed_sum += out->total;
			break;
		case 'u':
			st->open += out->n;
			st->open_started += out->total;
			break;
		case 's':
			add_value(&st->tail_closed, out->x, out->n);
			break;
		case 'a':
			add_value(&st->tail_open, out->at, out->n);
			break;
	}
}

/* now - v, or the earliest time when that is before it. */
static TimestampTz
time_before_now(SfStaysRun *run, int64 v)
{
	TimestampTz t;

	if (pg_sub_s64_overflow(run->now, v, &t))
		return DT_NOBEGIN;
	return t;
}

/* Prepare the queries that read the stays of one status. */
static void
prepare_reads(SfStaysRun *run)
{
	Oid			argtypes[3] = {run->binding->workflow->type_oid, INT8OID, INT8OID};

	run->read_closed = SPI_prepare(psprintf("SELECT c.x, c.n FROM %s c "
											"WHERE c.kind OPERATOR(pg_catalog.=) 's' "
											"AND c.status OPERATOR(pg_catalog.=) $1 "
											"AND c.x OPERATOR(pg_catalog.>=) $2 "
											"AND c.x OPERATOR(pg_catalog.<) $3",
											run->counts), 3, argtypes);
	argtypes[1] = argtypes[2] = TIMESTAMPTZOID;
	run->read_periods = SPI_prepare(psprintf("SELECT c.bucket, c.n FROM %s c "
											 "WHERE c.kind OPERATOR(pg_catalog.=) 'o' "
											 "AND c.status OPERATOR(pg_catalog.=) $1 "
											 "AND c.x IS NULL "
											 "AND c.bucket OPERATOR(pg_catalog.>=) $2 "
											 "AND c.bucket OPERATOR(pg_catalog.<) $3",
											 run->counts), 3, argtypes);
	run->read_open = SPI_prepare(psprintf("SELECT e.last_at FROM %s e "
										  "WHERE e.last_status OPERATOR(pg_catalog.=) $1 "
										  "AND e.last_at OPERATOR(pg_catalog.>) $2 "
										  "AND e.last_at OPERATOR(pg_catalog.<=) $3",
										  run->entities), 3, argtypes);
	run->count_open = SPI_prepare(psprintf("SELECT pg_catalog.count(*) FROM %s e "
										   "WHERE e.last_status OPERATOR(pg_catalog.=) $1 "
										   "AND e.last_at OPERATOR(pg_catalog.>) $2 "
										   "AND e.last_at OPERATOR(pg_catalog.<) $3",
										   run->entities), 3, argtypes);
	if (run->read_closed == NULL || run->read_periods == NULL || run->read_open == NULL ||
		run->count_open == NULL)
		elog(ERROR, "statusflow: could not prepare a summary query: %s",
			 SPI_result_code_string(SPI_result));
}

/* Run a prepared query on the stays of a status; its rows in SPI_tuptable. */
static void
run_read(SPIPlanPtr plan, SfStatusStays *st, Datum a, Datum b)
{
	Datum		args[3] = {ObjectIdGetDatum(st->status), a, b};

	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not read the stays of a summary");
}

/* The value of column col of row i of the last query. */
static Datum
result_value(uint64 i, int col)
{
	bool		isnull;

	return SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col, &isnull);
}

/*
 * How many open stays of a status began after t in the summary period of
 * t, from the table of entities.
 */
static int64
count_open_after(SfStaysRun *run, SfStatusStays *st, TimestampTz t)
{
	TimestampTz end = sf_bucket_of(t, run->period) + run->period;

	run_read(run->count_open, st, TimestampTzGetDatum(t), TimestampTzGetDatum(end));
	return DatumGetInt64(result_value(0, 1));
}

/*
 * How many closed stays of a status last less than v microseconds, v the
 * first duration of a bucket: those of the buckets below it, and the tail's.
 */
static int64
closed_below(SfStaysRun *run, SfStatusStays *st, int64 v)
{
	int64		below = 0;
	int64		bucket = sf_duration_bucket(v);
	int			i;

	if (v <= 0)
		return 0;
	for (i = 0; i < st->buckets.len && st->buckets.items[i].v < bucket; i++)
		below += st->buckets.items[i].n;
	for (i = 0; i < st->tail_closed.len; i++)
		if (st->tail_closed.items[i].v < v)
			below += st->tail_closed.items[i].n;
	return below;
}

/*
 * The open stays of a status begun in each period of the block starting at
 * start, read on first use.
 */
static SfValues *
periods_of_block(SfStaysRun *run, SfStatusStays *st, TimestampTz start)
{
	ListCell   *lc;
	SfBlock    *block;
	uint64		i;

	foreach(lc, st->block_periods)
	{
		block = lfirst(lc);
		if (block->start == start)
			return &block->periods;
	}
	block = palloc0(sizeof(SfBlock));
	block->start = start;
	run_read(run->read_periods, st, TimestampTzGetDatum(start),
			 TimestampTzGetDatum(start + run->block));
	for (i = 0; i < SPI_processed; i++)
		add_value(&block->periods, DatumGetTimestampTz(result_value(i, 1)),
				  DatumGetInt64(result_value(i, 2)));
	st->block_periods = lappend(st->block_periods, block);
	return &block->periods;
}

/*
 * Of the open stays of a status begun in list's blocks or periods, each
 * of length len: add to *after those begun after t, and return the number
 * of those of the one that straddles t (begun before or after it).
 */
static int64
split_at(SfValues *list, int64 len, TimestampTz t, int64 *after)
{
	TimestampTz straddling = sf_bucket_of(t, len);
	int64		n = 0;
	int			i;

	for (i = 0; i < list->len; i++)
	{
		if (list->items[i].v > t)
			*after += list->items[i].n;
		else if (list->items[i].v == straddling && !TIMESTAMP_NOT_FINITE(t))
			n += list->items[i].n;
	}
	return n;
}

/*
 * Whether a count of stays shorter than a limit decides whether more than
 * r are: below of them counted, and up to unsure more.
 */
static inline bool
decided(int64 below, int64 unsure, int64 r)
{
	return below > r || below + unsure <= r;
}

/*
 * How many open stays of a status (lasting from their start until now, at
 * least 0) last less than v microseconds, each counted from the blocks,
 * the periods of the block straddling now - v and the entities of the
 * period straddling it, as far as needed to decide whether more than r
 * stays last less than v, closed of them closed; r < 0: counted exactly.
 */
static int64
open_below(SfStaysRun *run, SfStatusStays *st, int64 closed, int64 v, int64 r)
{
	TimestampTz t;
	int64		below = 0;
	int64		unsure;
	int			i;

	if (v <= 0 || !run->include_open)
		return 0;
	t = time_before_now(run, v);
	for (i = 0; i < st->tail_open.len; i++)
		if (st->tail_open.items[i].v > t)
			below += st->tail_open.items[i].n;
	unsure = split_at(&st->blocks, run->block, t, &below);
	if (unsure == 0 || (r >= 0 && decided(closed + below, unsure, r)))
		return below;
	unsure = split_at(periods_of_block(run, st, sf_bucket_of(t, run->block)), run->period, t,
					  &below);
	if (unsure == 0 || (r >= 0 && decided(closed + below, unsure, r)))
		return below;
	return below + count_open_after(run, st, t);
}

/* Whether more than r stays of a status last less than v, closed of them closed. */
static bool
more_below(SfStaysRun *run, SfStatusStays *st, int64 closed, int64 v, int64 r)
{
	return closed + open_below(run, st, closed, v, r) > r;
}

/*
 * The starts of the open stays of a status that began after after, until
 * until (inclusive), each with how many times it counts: the entities'
 * and the tail's.
 */
static void
read_open_starts(SfStaysRun *run, SfStatusStays *st, TimestampTz after,
				 TimestampTz until, SfValues *into)
{
	uint64		i;
	int			j;

	run_read(run->read_open, st, TimestampTzGetDatum(after), TimestampTzGetDatum(until));
	for (i = 0; i < SPI_processed; i++)
		add_value(into, DatumGetTimestampTz(result_value(i, 1)), 1);
	for (j = 0; j < st->tail_open.len; j++)
		if (st->tail_open.items[j].v > after && st->tail_open.items[j].v <= until)
			add_value(into, st->tail_open.items[j].v, st->tail_open.items[j].n);
}

/*
 * Sum the counts of equal values of a sorted list (a stay of the summary
 * and the tail's change that takes it back cancel out), dropping those
 * that come to nothing.
 */
static void
merge_values(SfValues *list)
{
	int			len = 0;
	int			i;

	for (i = 0; i < list->len; i++)
	{
		if (len > 0 && list->items[len - 1].v == list->items[i].v)
			list->items[len - 1].n += list->items[i].n;
		else
			list->items[len++] = list->items[i];
		if (list->items[len - 1].n == 0)
			len--;
	}
	list->len = len;
}

/* The first duration bucket whose stays of a status reach past rank r. */
static int64
bucket_of_rank(SfStaysRun *run, SfStatusStays *st, int64 r)
{
	int64		lo = 0,
				hi = SF_DURATION_BUCKETS - 1;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		int64		v = sf_duration_bucket_start(mid + 1);

		if (more_below(run, st, closed_below(run, st, v), v, r))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The number of values of a sorted list below v. */
static int64
values_below(SfValues *list, int64 v)
{
	int64		below = 0;
	int			i;

	for (i = 0; i < list->len && list->items[i].v < v; i++)
		below += list->items[i].n;
	return below;
}

/*
 * The closed stays of a status whose durations fall in [lo, hi), sorted:
 * the summary's exact durations and the tail's.
 */
static void
read_closed(SfStaysRun *run, SfStatusStays *st, int64 lo, int64 hi, SfValues *into)
{
	uint64		i;
	int			j;

	run_read(run->read_closed, st, Int64GetDatum(lo), Int64GetDatum(hi));
	for (i = 0; i < SPI_processed; i++)
		add_value(into, DatumGetInt64(result_value(i, 1)), DatumGetInt64(result_value(i, 2)));
	for (j = 0; j < st->tail_closed.len; j++)
		if (st->tail_closed.items[j].v >= lo && st->tail_closed.items[j].v < hi)
			add_value(into, st->tail_closed.items[j].v, st->tail_closed.items[j].n);
	qsort(into->items, into->len, sizeof(SfValue), compare_values);
}

/*
 * Narrow the durations [*lo, *hi) of a bucket holding rank r to those of
 * the open stays begun in one summary period, so that one period's starts
 * are read rather than the bucket's (a bucket of stays months long spans
 * a day of starts, whose number grows with the entities).  A binary search
 * over the starts of the periods counts the stays shorter than each: closed
 * ones from closed_before (those of the buckets below) and the bucket's
 * (closed, sorted), open ones from the periods.
 */
static void
narrow_to_period(SfStaysRun *run, SfStatusStays *st, SfValues *closed,
				 int64 closed_before, int64 r, int64 *lo, int64 *hi)
{
	TimestampTz after = time_before_now(run, *hi);
	TimestampTz newest;
	int64		first = -1,
				cuts,
				next;

	if (!run->include_open || *lo <= 0 || TIMESTAMP_NOT_FINITE(after))
		return;
	/* cut j is the duration until now of newest - j periods, after now - *hi */
	newest = sf_bucket_of(time_before_now(run, *lo), run->period);
	if (newest <= after)
		return;
	cuts = (newest - after + run->period - 1) / run->period;
	/* the last cut with at most r stays below it, and the next one */
	next = cuts;
	while (next - first > 1)
	{
		int64		mid = first + (next - first) / 2;
		int64		v = run->now - (newest - mid * run->period);

		if (more_below(run, st, closed_before + values_below(closed, v), v, r))
			next = mid;
		else
			first = mid;
	}
	if (first >= 0)
		*lo = run->now - (newest - first * run->period);
	if (next < cuts)
		*hi = run->now - (newest - next * run->period);
}

/*
 * Read the stays of a status around rank r into run->read, sorted, with
 * run->read_below the number of stays shorter: those of the bucket holding
 * the rank or, with open stays, of the part of it narrow_to_period() finds.
 */
static void
read_stays(SfStaysRun *run, SfStatusStays *st, int64 r)
{
	int64		bucket = bucket_of_rank(run, st, r);
	int64		lo = sf_duration_bucket_start(bucket);
	int64		hi = sf_duration_bucket_start(bucket + 1);
	int64		closed_before = closed_below(run, st, lo);
	SfValues	closed = {0};
	SfValues	starts = {0};
	int			j;

	read_closed(run, st, lo, hi, &closed);
	narrow_to_period(run, st, &closed, closed_before, r, &lo, &hi);
	run->read_below = closed_before + values_below(&closed, lo) + open_below(run, st, 0, lo, -1);
	run->read.len = 0;
	for (j = 0; j < closed.len; j++)
		if (closed.items[j].v >= lo && closed.items[j].v < hi)
			add_value(&run->read, closed.items[j].v, closed.items[j].n);
	if (run->include_open)
	{
		/* lasting from start until now: at least lo, less than hi */
		read_open_starts(run, st, time_before_now(run, hi),
						 lo > 0 ? time_before_now(run, lo) : DT_NOEND, &starts);
		for (j = 0; j < starts.len; j++)
			add_value(&run->read, Max(run->now - starts.items[j].v, 0), starts.items[j].n);
	}
	qsort(run->read.items, run->read.len, sizeof(SfValue), compare_values);
	merge_values(&run->read);
	run->have_read = true;
}

/*
 * The duration, in seconds, of the stay of 0-based rank r among the stays
 * of a status.  The bucket read last is kept: the next rank is often in it.
 */
static double
stay_at_rank(SfStaysRun *run, SfStatusStays *st, int64 r)
{
	int			tries;

	for (tries = 0; tries < 2; tries++)
	{
		int64		seen;
		int			i;

		if (!run->have_read || r < run->read_below)
			read_stays(run, st, r);
		seen = run->read_below;
		for (i = 0; i < run->read.len; i++)
		{
			seen += run->read.items[i].n;
			if (seen > r)
				return run->read.items[i].v / (double) USECS_PER_SEC;
		}
		/* the rank lies in later stays */
		run->have_read = false;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the summaries of %s do not add up", run->binding->relname),
			 errhint("Build them again with statusflow.refresh_summaries(rebuild => true).")));
	return 0;
}

/* The fraction-th percentile of the stays of a status, as stay_stats(). */
static double
stays_percentile(SfStaysRun *run, SfStatusStays *st, int64 n, double fraction)
{
	int64		lower;
	double		past = sf_percentile_rank(fraction, n, &lower);
	double		low = stay_at_rank(run, st, lower);

	return sf_interpolate(low, past > 0 ? stay_at_rank(run, st, lower + 1) : low, past);
}

/*
 * The total of the open stays of a status, in microseconds: from each
 * start until now, 0 for those that begin after now.
 */
static int128
open_total(SfStaysRun *run, SfStatusStays *st)
{
	int128		total = (int128) st->open * run->now - st->open_started;
	SfValues	later = {0};
	int			j;

	read_open_starts(run, st, run->now, DT_NOEND, &later);
	for (j = 0; j < later.len; j++)
		total += (int128) later.items[j].n * (later.items[j].v - run->now);
	return total;
}

/*
 * statusflow_internal.summary_stays(binding integer, include_open boolean)
 * RETURNS TABLE (status oid, stays bigint, open_stays bigint,
 *				  mean float8, median float8, p90 float8)
 *
 * What stay_stats() returns for all of the binding's history, from its
 * summaries and their tail; the caller must be able to read them.
 */
Datum
sf_summary_stays(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SfStaysRun *run;
	Datum		folded;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("binding and include_open must not be null")));
	run = palloc0(sizeof(SfStaysRun));
	run->binding = sf_binding_arg(PG_GETARG_INT32(0));
	run->include_open = PG_GETARG_BOOL(1);
	run->now = GetCurrentTransactionStartTimestamp();
	InitMaterializedSRF(fcinfo, 0);

	/* one connection: what is read lives in its memory until the end */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	folded = read_summary(run);
	read_counts(run);
	sf_fold(run->binding, &folded, NULL, 0, true, add_tail, run);
	prepare_reads(run);
	for (i = 0; i < run->nstatuses; i++)
	{
		SfStatusStays *st = &run->statuses[i];
		int64		open = run->include_open ? st->open : 0;
		int64		n = st->closed + open;
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		if (n <= 0)
			continue;
		values[0] = ObjectIdGetDatum(st->status);
		values[1] = Int64GetDatum(n);
		values[2] = Int64GetDatum(open);
		values[3] = Float8GetDatum(sf_mean_seconds(st->closed_sum +
												   (open > 0 ? open_total(run, st) : 0), n));
		/* the stays read last are another status's */
		run->have_read = false;
		values[4] = Float8GetDatum(stays_percentile(run, st, n, 0.5));
		values[5] = Float8GetDatum(stays_percentile(run, st, n, 0.9));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * automation.c
 *	  Statuses that move by themselves: timers applied by statusflow.tick().
 *
 * Every move goes through an UPDATE of the bound table, so the triggers
 * check it and write its history like any other change.
 *
 * tick() looks for rows due in each timer's status with an index scan (the
 * binding's (status, time) index), locks them with FOR UPDATE SKIP LOCKED
 * (rows an application holds are left for the next tick, and two ticks
 * never take the same row) and moves them with one UPDATE per timer, in a
 * subtransaction.  If that fails, for instance because a guard refuses one
 * row, the batch is rolled back and its rows are moved one by one, each in
 * a subtransaction of its own, and the rows refused are reported.
 *
 * tick() may run as a superuser (from pg_cron) over every tenant's tables:
 * it moves only the rows of tables the caller may UPDATE, and moves them as
 * the table's owner, in a security-restricted operation with search_path =
 * pg_catalog, pg_temp, as VACUUM runs a table's index functions: the
 * triggers of a tenant's table never run with the caller's rights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_tick);

/* Columns of the rows tick() returns. */
#define TICK_COLUMNS 6

/* What tick() is doing for one timer of one binding. */
typedef struct SfTickState
{
	SfBinding  *binding;
	Relation	rel;			/* the bound table */
	SfTimer    *timer;
	int			timer_index;
	ReturnSetInfo *rsinfo;
	MemoryContext callercxt;
} SfTickState;

/*
 * The query of the rows due for a timer, oldest first, locked, whole:
 * "SELECT d FROM rel AS d WHERE status = $1 AND time <= now() - $2 ORDER BY
 * time LIMIT $3 FOR UPDATE SKIP LOCKED".  Prepared once per timer.  On a
 * Citus-distributed table, which Citus does not lock over several shards,
 * without the lock: lock_due() then locks each row by itself.
 */
static SPIPlanPtr
due_plan(SfBinding *b, int ti)
{
	SfTimer    *t = &b->workflow->timers[ti];
	Oid			argtypes[3] = {b->workflow->type_oid, INTERVALOID, INT4OID};
	const char *time = quote_identifier(t->at_column ? t->at_column :
										b->entered_at_column);
	char	   *sql;
	SPIPlanPtr	plan;

	if (b->timer_plans == NULL)
		b->timer_plans = MemoryContextAllocZero(b->cxt, sizeof(SPIPlanPtr) *
												Max(b->workflow->ntimers, 1));
	if (b->timer_plans[ti])
		return b->timer_plans[ti];
	sql = psprintf("SELECT d FROM %s AS d WHERE d.%s OPERATOR(pg_catalog.=) $1"
				   " AND d.%s OPERATOR(pg_catalog.<=)"
				   " (pg_catalog.now() OPERATOR(pg_catalog.-) $2)"
				   " ORDER BY d.%s LIMIT $3%s",
				   b->relname, quote_identifier(b->column), time, time,
				   sf_citus_distributed(b) ? "" : " FOR UPDATE OF d SKIP LOCKED");
	plan = SPI_prepare(sql, 3, argtypes);
	if (plan == NULL)
		elog(ERROR, "statusflow: could not prepare timer query: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	b->timer_plans[ti] = plan;
	return plan;
}

/*
 * Return one row of tick(): what happened to one row of a bound table (row
 * NULL: to the timer as a whole).
 */
static void
tick_row(SfTickState *st, HeapTuple row, const char *to, const char *outcome)
{
	Datum		values[TICK_COLUMNS];
	bool		nulls[TICK_COLUMNS] = {false};
	Datum		keys[INDEX_MAX_KEYS];
	bool		key_nulls[INDEX_MAX_KEYS];
	SfBinding  *b = st->binding;
	SfWorkflow *wf = b->workflow;
	MemoryContext old;

	if (row != NULL)
		sf_row_keys(b, sf_binding_relinfo(b, st->rel), RelationGetDescr(st->rel),
					row, keys, key_nulls);
	old = MemoryContextSwitchTo(st->callercxt);
	values[0] = ObjectIdGetDatum(b->relid);
	nulls[1] = (row == NULL);
	if (row != NULL)
		values[1] = datumCopy(sf_key_json(b, keys), false, -1);
	values[2] = CStringGetTextDatum(wf->statuses[st->timer->status].label);
	nulls[3] = (to == NULL);
	if (to)
		values[3] = CStringGetTextDatum(to);
	nulls[4] = (st->timer->event == NULL);
	if (st->timer->event)
		values[4] = CStringGetTextDatum(st->timer->event);
	values[5] = CStringGetTextDatum(outcome);
	tuplestore_putvalues(st->rsinfo->setResult, st->rsinfo->setDesc, values, nulls);
	MemoryContextSwitchTo(old);
}

/* Start a subtransaction, keeping the current memory context. */
void
sf_begin_sub(SfSub *sub)
{
	sub->cxt = CurrentMemoryContext;
	sub->owner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(sub->cxt);
}

/* Commit or roll back the subtransaction begun by sf_begin_sub(). */
void
sf_end_sub(SfSub *sub, bool commit)
{
	if (commit)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(sub->cxt);
	CurrentResourceOwner = sub->owner;
}

/* Roll back a subtransaction whose work failed; its error, copied. */
ErrorData *
sf_fail_sub(SfSub *sub)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(sub->cxt);
	edata = CopyErrorData();
	FlushErrorState();
	sf_end_sub(sub, false);
	return edata;
}

/*
 * lock_due() on a Citus-distributed table: lock each of the n rows found
 * due with a router query of its key, keeping those still in the timer's
 * status (status); returns how many, compacted at the start of rows.
 */
static int
lock_each_due(SfTickState *st, int n, HeapTuple *rows, Datum status)
{
	SfBinding  *b = st->binding;
	SfRelInfo  *ri = sf_binding_relinfo(b, st->rel);
	TupleDesc	desc = RelationGetDescr(st->rel);
	int			kept = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		Datum		keys[INDEX_MAX_KEYS];
		bool		key_nulls[INDEX_MAX_KEYS];
		HeapTuple	row;
		bool		isnull;

		sf_row_keys(b, ri, desc, rows[i], keys, key_nulls);
		if (SPI_execute_plan(sf_update_plan(b, SF_PLAN_LOCK), keys, NULL, false, 1)
			!= SPI_OK_SELECT)
			elog(ERROR, "statusflow: could not lock a row of %s", b->relname);
		if (SPI_processed == 0)
			continue;
		row = sf_locked_row(st->rel, 0);
		if (DatumGetObjectId(heap_getattr(row, ri->status_attnum, desc, &isnull)) !=
			DatumGetObjectId(status) || isnull)
			continue;
		rows[kept++] = row;
	}
	return kept;
}

/*
 * Lock the rows due for the timer, at most limit of them; returns how many,
 * the rows in *rows (whole tuples of the bound table).
 */
static int
lock_due(SfTickState *st, int limit, HeapTuple **rows)
{
	SfWorkflow *wf = st->binding->workflow;
	SfTimer    *t = st->timer;
	Datum		params[3];
	uint64		i;

	params[0] = ObjectIdGetDatum(wf->statuses[t->status].enum_oid);
	params[1] = DirectFunctionCall3(interval_in,
									CStringGetDatum(t->after ? t->after : "0"),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	params[2] = Int32GetDatum(limit);
	if (SPI_execute_plan(due_plan(st->binding, st->timer_index), params, NULL,
						 false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: timer query failed");
	*rows = palloc(sizeof(HeapTuple) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
		(*rows)[i] = sf_locked_row(st->rel, i);
	if (sf_citus_distributed(st->binding))
		return lock_each_due(st, (int) SPI_processed, *rows, params[0]);
	return (int) SPI_processed;
}

/* Where the timer takes a due row: its target, or its event's. */
static int
timer_target(SfTickState *st, HeapTuple row, SfContext *ctx)
{
	if (st->timer->event == NULL)
		return st->timer->to;
	return sf_event_status(st->binding, st->rel, row, st->timer->event, ctx);
}

/*
 * Move the due rows of a timer with one UPDATE.  Returns how many moved,
 * or -1 when that failed (and was rolled back).
 */
static int
tick_batch(SfTickState *st, int limit, SfContext *ctx)
{
	SfWorkflow *wf = st->binding->workflow;
	SfSub		sub;
	volatile int moved = -1;	/* set in PG_TRY, read after its catch */

	sf_begin_sub(&sub);
	PG_TRY();
	{
		HeapTuple  *rows;
		int			n = lock_due(st, limit, &rows);
		int		   *targets = palloc(sizeof(int) * Max(n, 1));
		int			i;

		for (i = 0; i < n; i++)
			targets[i] = timer_target(st, rows[i], ctx);
		if (n > 0)
			sf_move_rows(st->binding, st->rel, n, rows, targets, ctx);
		for (i = 0; i < n; i++)
			tick_row(st, rows[i], wf->statuses[targets[i]].label, "applied");
		moved = n;
		sf_end_sub(&sub, true);
	}
	PG_CATCH();
	{
		(void) sf_fail_sub(&sub);
	}
	PG_END_TRY();
	return moved;
}

/*
 * Move the due rows of a timer one at a time, each in a subtransaction,
 * reporting the ones refused.  Returns how many rows it went through.
 */
static int
tick_one_by_one(SfTickState *st, int limit, SfContext *ctx)
{
	SfBinding  *b = st->binding;
	HeapTuple  *rows;
	int			n = lock_due(st, limit, &rows);
	int			i;

	for (i = 0; i < n; i++)
	{
		SfSub		sub;

		sf_begin_sub(&sub);
		PG_TRY();
		{
			int			to = timer_target(st, rows[i], ctx);

			sf_move_rows(b, st->rel, 1, &rows[i], &to, ctx);
			tick_row(st, rows[i], b->workflow->statuses[to].label, "applied");
			sf_end_sub(&sub, true);
		}
		PG_CATCH();
		{
			ErrorData  *edata = sf_fail_sub(&sub);

			tick_row(st, rows[i], NULL, psprintf("failed: %s", edata->message));
		}
		PG_END_TRY();
	}
	return n;
}

/*
 * Apply one timer of one binding to at most limit rows, as the table's
 * owner; how many it took.  A timer that cannot run at all (its table
 * changed under it, say) is reported once, and the other timers run.
 */
static int
tick_timer(SfTickState *st, int limit)
{
	SfContext	ctx;
	SfIdentity	saved;
	SfSub		sub;
	volatile int n = 0;			/* set in PG_TRY, read after its catch */

	memset(&ctx, 0, sizeof(ctx));
	ctx.binding_id = st->binding->id;
	ctx.event = st->timer->event;
	ctx.actor = cstring_to_text("statusflow.tick");
	ctx.reason = cstring_to_text(psprintf("timer %d", st->timer->id));
	sf_become(st->binding->owner, &saved);
	sf_begin_sub(&sub);
	PG_TRY();
	{
		n = tick_batch(st, limit, &ctx);
		if (n < 0)
			n = tick_one_by_one(st, limit, &ctx);
		sf_end_sub(&sub, true);
	}
	PG_CATCH();
	{
		ErrorData  *edata = sf_fail_sub(&sub);

		tick_row(st, NULL, NULL, psprintf("failed: %s", edata->message));
	}
	PG_END_TRY();
	sf_unbecome(&saved);
	return n;
}

/* May tick() move the rows of this binding: usable, and may we update it? */
static bool
tick_may_move(SfBinding *b)
{
	return b->broken.message == NULL && b->workflow->broken.message == NULL &&
		b->workflow->ntimers > 0 &&
		pg_class_aclcheck(b->relid, GetUserId(), ACL_UPDATE) == ACLCHECK_OK;
}

/*
 * statusflow.tick(max_rows): apply the timers that are due, to at most
 * max_rows rows in all, of the tables the caller may update; returns one
 * row per row it moved or could not move.
 */
Datum
sf_tick(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			max_rows = PG_ARGISNULL(0) ? 1000 : PG_GETARG_INT32(0);
	SfTickState st;
	int			done = 0;
	int			nbindings,
				bi,
				ti;
	SfBinding **bindings;

	if (max_rows <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must be positive")));
	InitMaterializedSRF(fcinfo, 0);
	st.rsinfo = rsinfo;
	st.callercxt = CurrentMemoryContext;
	sf_tick_summaries();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	MemoryContextSwitchTo(st.callercxt);
	/* the cache may be reloaded while we run: keep this generation's bindings */
	nbindings = sf_binding_count();
	bindings = palloc(sizeof(SfBinding *) * Max(nbindings, 1));
	for (bi = 0; bi < nbindings; bi++)
		bindings[bi] = sf_binding_at(bi);
	for (bi = 0; bi < nbindings && done < max_rows; bi++)
	{
		st.binding = bindings[bi];
		if (!tick_may_move(st.binding))
			continue;
		st.rel = try_table_open(st.binding->relid, RowExclusiveLock);
		if (st.rel == NULL)
			continue;			/* dropped since the cache was read */
		for (ti = 0; ti < st.binding->workflow->ntimers && done < max_rows; ti++)
		{
			st.timer = &st.binding->workflow->timers[ti];
			st.timer_index = ti;
			done += tick_timer(&st, max_rows - done);
		}
		table_close(st.rel, NoLock);
	}
	SPI_finish();
	return (Datum) 0;
}

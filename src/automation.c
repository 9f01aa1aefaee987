/*-------------------------------------------------------------------------
 *
 * automation.c
 *	  Statuses that move by themselves: timers applied by statusflow.tick(),
 *	  and provider events ingested by statusflow.ingest().
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
 * ingest() applies an event or status reported by a provider (a delivery
 * receipt, a webhook) at most once per event id, never moves a row out of a
 * terminal or sticky status, and in a monotonic workflow never moves a row
 * back in rank: a receipt that arrives late is kept in the history as not
 * applied.  In a monotonic workflow a receipt for a status further on is
 * applied along the shortest path of declared transitions that climbs in
 * rank, so that the final status does not depend on the order of arrival.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_tick);
PG_FUNCTION_INFO_V1(sf_ingest);

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
 * time LIMIT $3 FOR UPDATE SKIP LOCKED".  Prepared once per timer.
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
				   " ORDER BY d.%s LIMIT $3 FOR UPDATE OF d SKIP LOCKED",
				   b->relname, quote_identifier(b->column), time, time);
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

/* What a subtransaction of tick() returns to when it ends. */
typedef struct SfSub
{
	MemoryContext cxt;
	ResourceOwner owner;
} SfSub;

/* Start a subtransaction, keeping the current memory context. */
static void
begin_sub(SfSub *sub)
{
	sub->cxt = CurrentMemoryContext;
	sub->owner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(sub->cxt);
}

/* Commit or roll back the subtransaction begun by begin_sub(). */
static void
end_sub(SfSub *sub, bool commit)
{
	if (commit)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(sub->cxt);
	CurrentResourceOwner = sub->owner;
}

/* Roll back a subtransaction whose work failed; its error, copied. */
static ErrorData *
fail_sub(SfSub *sub)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(sub->cxt);
	edata = CopyErrorData();
	FlushErrorState();
	end_sub(sub, false);
	return edata;
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

	begin_sub(&sub);
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
		end_sub(&sub, true);
	}
	PG_CATCH();
	{
		(void) fail_sub(&sub);
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

		begin_sub(&sub);
		PG_TRY();
		{
			int			to = timer_target(st, rows[i], ctx);

			sf_move_rows(b, st->rel, 1, &rows[i], &to, ctx);
			tick_row(st, rows[i], b->workflow->statuses[to].label, "applied");
			end_sub(&sub, true);
		}
		PG_CATCH();
		{
			ErrorData  *edata = fail_sub(&sub);

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
	begin_sub(&sub);
	PG_TRY();
	{
		n = tick_batch(st, limit, &ctx);
		if (n < 0)
			n = tick_one_by_one(st, limit, &ctx);
		end_sub(&sub, true);
	}
	PG_CATCH();
	{
		ErrorData  *edata = fail_sub(&sub);

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

/*
 * Ingestion
 */

/* What ingest() was told: a status, or an event. */
typedef struct SfReceipt
{
	SfBinding  *binding;
	Relation	rel;			/* the bound table */
	Datum		keys[INDEX_MAX_KEYS];
	const char *name;			/* the status or event name as given */
	int			status;			/* its status index, or -1 for an event */
	SfContext	ctx;
} SfReceipt;

/*
 * Lock the row of a key and read it whole (*row); returns its status index
 * (-1: none, or not registered).  Raises when there is no row.
 */
static int
lock_row(SfReceipt *r, HeapTuple *row)
{
	SfBinding  *b = r->binding;
	SfRelInfo  *ri;
	bool		isnull;
	Datum		status;

	if (!sf_lock_row(b, r->keys))
	{
		bool		nulls[INDEX_MAX_KEYS] = {false};

		sf_no_row(b, sf_format_key(b, r->keys, nulls));
	}
	*row = sf_locked_row(r->rel, 0);
	ri = sf_binding_relinfo(b, r->rel);
	status = heap_getattr(*row, ri->status_attnum, RelationGetDescr(r->rel), &isnull);
	return isnull ? -1 : sf_status_index(b->workflow, DatumGetObjectId(status));
}

/* Has the history of the binding recorded this event id already? */
static bool
event_seen(SfBinding *b, text *event_id)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		params[1] = {PointerGetDatum(event_id)};
	int			nest = sf_pin_search_path();

	if (b->plans[SF_PLAN_SEEN] == NULL)
		sf_binding_plan(b, SF_PLAN_SEEN,
						psprintf("SELECT FROM %s h WHERE h.event_id OPERATOR(pg_catalog.=) $1",
								 b->history_relname),
						1, argtypes);
	if (SPI_execute_snapshot(b->plans[SF_PLAN_SEEN], params, NULL,
							 GetLatestSnapshot(), InvalidSnapshot, true, false,
							 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: event lookup failed");
	sf_unpin_search_path(nest);
	return SPI_processed > 0;
}

/*
 * Keep a receipt that changed nothing in the history, as not applied, so
 * that its event id is known and its arrival is on record.
 */
static void
record_unapplied(SfReceipt *r, int current, int target)
{
	SfWorkflow *wf = r->binding->workflow;
	SfHistoryRow row;
	bool		key_nulls[INDEX_MAX_KEYS] = {false};

	row.keys = r->keys;
	row.key_nulls = key_nulls;
	row.from_null = (current < 0);
	row.from_status = current < 0 ? (Datum) 0 :
		ObjectIdGetDatum(wf->statuses[current].enum_oid);
	if (target < 0)
		target = current;
	row.to_null = (target < 0);
	row.to_status = target < 0 ? (Datum) 0 :
		ObjectIdGetDatum(wf->statuses[target].enum_oid);
	row.event = r->status < 0 ? r->name : NULL;
	row.applied = false;
	sf_push_context(&r->ctx);
	PG_TRY();
	{
		sf_history_append(r->binding, &row);
	}
	PG_FINALLY();
	{
		sf_pop_context(&r->ctx);
	}
	PG_END_TRY();
}

/*
 * The shortest path of declared transitions from one status to another
 * (without guards of their own; guards are checked when it is taken),
 * climbing in rank at every step when climb is set.  Fills path[] with the
 * statuses after from, and returns its length, or 0 when there is none.
 */
static int
shortest_path(SfWorkflow *wf, int from, int to, bool climb, int *path)
{
	int			n = wf->nstatuses;
	int		   *prev = palloc(sizeof(int) * n);
	int		   *queue = palloc(sizeof(int) * n);
	int			head = 0,
				tail = 0,
				len = 0,
				s,
				i;

	for (s = 0; s < n; s++)
		prev[s] = -2;
	prev[from] = -1;
	queue[tail++] = from;
	while (head < tail && prev[to] == -2)
	{
		int			cur = queue[head++];

		for (i = 0; i < n; i++)
			if (prev[i] == -2 && wf->edge_first[cur * n + i] >= 0 &&
				(!climb || i > cur))
			{
				prev[i] = cur;
				queue[tail++] = i;
			}
	}
	if (prev[to] == -2)
		return 0;
	for (s = to; s != from; s = prev[s])
		len++;
	for (s = to, i = len - 1; s != from; s = prev[s], i--)
		path[i] = s;
	return len;
}

/*
 * Take a path of statuses, one UPDATE per step, the receipt's who and why
 * on the last step and "implied by" on the ones before.
 */
static void
take_path(SfReceipt *r, int *path, int len, bool last_by_event)
{
	SfBinding  *b = r->binding;
	SfContext	implied;
	Datum		params[INDEX_MAX_KEYS + 1];
	int			i;

	memcpy(&params[1], r->keys, sizeof(Datum) * b->nkeys);
	implied = r->ctx;
	implied.event = NULL;
	implied.event_id = NULL;
	implied.metadata = NULL;
	implied.reason = cstring_to_text(psprintf("implied by %s \"%s\"",
											  r->status < 0 ? "event" : "status",
											  r->name));
	for (i = 0; i < len; i++)
	{
		bool		last = (i == len - 1);
		HeapTuple	row;
		int			to = path[i];

		/* the event's target, from the row as the steps before left it */
		if (last && last_by_event)
		{
			int			current = lock_row(r, &row);

			to = sf_event_status(b, r->rel, row, r->name, &r->ctx);
			if (to == current)
			{
				sf_record_repeat(b, r->rel, row, to, &r->ctx);
				break;
			}
		}
		params[0] = ObjectIdGetDatum(b->workflow->statuses[to].enum_oid);
		(void) sf_run_with_context(b, SF_PLAN_TRANSITION, params,
								   last ? &r->ctx : &implied);
	}
}

/* The reason kept for a refused receipt: the refusal, within the limit. */
static text *
refusal_reason(ErrorData *edata)
{
	char	   *why = edata->detail ?
		psprintf("refused: %s. %s", edata->message, edata->detail) :
		psprintf("refused: %s", edata->message);

	return cstring_to_text_with_len(why, pg_mbcharcliplen(why, strlen(why),
														  SF_MAX_REASON_CHARS));
}

/*
 * Take a receipt's path in a subtransaction.  A refusal by the workflow's
 * guards (SQLSTATE 23514) undoes every step and keeps the receipt in the
 * history as not applied, the refusal as its reason: one refused receipt
 * does not abort a batch.  Returns the outcome, applied or refused.
 */
static const char *
apply_path(SfReceipt *r, int current, int *path, int len, bool last_by_event)
{
	SfSub		sub;
	ErrorData  *edata;

	begin_sub(&sub);
	PG_TRY();
	{
		take_path(r, path, len, last_by_event);
		end_sub(&sub, true);
	}
	PG_CATCH();
	{
		edata = fail_sub(&sub);
		if (edata->sqlerrcode != ERRCODE_CHECK_VIOLATION)
			ReThrowError(edata);
		r->ctx.reason = refusal_reason(edata);
		record_unapplied(r, current, last_by_event ? -1 : path[len - 1]);
		return "refused";
	}
	PG_END_TRY();
	return "applied";
}

/* Does any transition of the workflow have this event? */
static bool
is_event(SfWorkflow *wf, const char *event)
{
	int			i;

	for (i = 0; i < wf->ntransitions; i++)
		if (wf->transitions[i].event && strcmp(wf->transitions[i].event, event) == 0)
			return true;
	return false;
}

/* Is there a transition from -> to on this event? */
static bool
event_leads(SfWorkflow *wf, int from, int to, const char *event)
{
	int			i;

	for (i = 0; i < wf->ntransitions; i++)
		if (wf->transitions[i].from == from && wf->transitions[i].to == to &&
			wf->transitions[i].event && strcmp(wf->transitions[i].event, event) == 0)
			return true;
	return false;
}

/* The transition an event takes from a status, or -1; -2 for several. */
static int
event_from(SfWorkflow *wf, int from, const char *event)
{
	int			found = -1,
				i;

	for (i = 0; i < wf->ntransitions; i++)
		if (wf->transitions[i].from == from && wf->transitions[i].event &&
			strcmp(wf->transitions[i].event, event) == 0)
			found = found == -1 ? i : -2;
	return found;
}

/*
 * Where a late or early event leads in a monotonic workflow: the lowest
 * ranked target of the event above the current status that a climbing path
 * reaches (fills path), or -1; *behind tells whether every target of the
 * event ranks at or below the current status.
 */
static int
event_ahead(SfWorkflow *wf, int current, const char *event, int *path,
			int *len, bool *behind)
{
	int			best = -1,
				i;

	*behind = true;
	for (i = 0; i < wf->ntransitions; i++)
	{
		SfTransition *t = &wf->transitions[i];

		if (t->event == NULL || strcmp(t->event, event) != 0 || t->to < 0)
			continue;
		if (t->to > current)
			*behind = false;
		if (t->to > current && (best < 0 || t->to < best) &&
			shortest_path(wf, current, t->to, true, path) > 0)
			best = t->to;
	}
	*len = best < 0 ? 0 : shortest_path(wf, current, best, true, path);
	return best;
}

/* Apply a receipt that names a status; returns the outcome. */
static const char *
ingest_status(SfReceipt *r, int current)
{
	SfWorkflow *wf = r->binding->workflow;
	int		   *path = palloc(sizeof(int) * wf->nstatuses);
	int			len;

	if (r->status == current)
	{
		record_unapplied(r, current, r->status);
		return "unchanged";
	}
	if (wf->monotonic && r->status < current)
	{
		record_unapplied(r, current, r->status);
		return "late";
	}
	len = wf->edge_first[current * wf->nstatuses + r->status] >= 0 ? 1 :
		wf->monotonic ? shortest_path(wf, current, r->status, true, path) : 0;
	if (len == 0)
	{
		record_unapplied(r, current, r->status);
		return "not_applicable";
	}
	if (len == 1)
		path[0] = r->status;
	return apply_path(r, current, path, len, false);
}

/* Apply a receipt that names an event; returns the outcome. */
static const char *
ingest_event(SfReceipt *r, int current)
{
	SfWorkflow *wf = r->binding->workflow;
	int		   *path = palloc(sizeof(int) * wf->nstatuses);
	int			len,
				target;
	bool		behind;

	if (event_from(wf, current, r->name) != -1)
		return apply_path(r, current, path, 1, true);
	if (!wf->monotonic)
	{
		record_unapplied(r, current, -1);
		return "not_applicable";
	}
	target = event_ahead(wf, current, r->name, path, &len, &behind);
	if (target < 0)
	{
		record_unapplied(r, current, -1);
		return behind ? "late" : "not_applicable";
	}
	/* the last step is the event itself when it leads there */
	return apply_path(r, current, path, len,
					  event_leads(wf, len > 1 ? path[len - 2] : current, target,
								  r->name));
}

/*
 * statusflow.ingest(table_name, key, status_or_event, occurred_at,
 * event_id, payload, column_name) returns text: what the receipt did,
 * one of applied, duplicate, late, unchanged, ignored, not_applicable,
 * refused.
 */
Datum
sf_ingest(PG_FUNCTION_ARGS)
{
	SfReceipt	r;
	SfWorkflow *wf;
	const char *outcome;
	HeapTuple	row;
	int			current;
	int			i;

	for (i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("table_name, key and status_or_event must not be null")));
	memset(&r, 0, sizeof(r));
	r.binding = sf_binding_for_table(PG_GETARG_OID(0),
									 PG_ARGISNULL(6) ? NULL : NameStr(*PG_GETARG_NAME(6)));
	wf = r.binding->workflow;
	sf_key_values(r.binding, PG_GETARG_DATUM(1),
				  get_fn_expr_argtype(fcinfo->flinfo, 1), r.keys);
	r.name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	r.status = sf_status_by_label(wf, r.name);
	if (r.status < 0 && !is_event(wf, r.name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is neither a status nor an event of workflow \"%s\"",
						r.name, wf->name)));
	r.ctx.binding_id = r.binding->id;
	r.ctx.event = r.status < 0 ? r.name : NULL;
	r.ctx.has_occurred_at = !PG_ARGISNULL(3);
	if (r.ctx.has_occurred_at)
		r.ctx.occurred_at = sf_check_occurred_at(PG_GETARG_TIMESTAMPTZ(3));
	r.ctx.event_id = PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4);
	r.ctx.metadata = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	r.ctx.actor = cstring_to_text("statusflow.ingest");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	r.rel = table_open(r.binding->relid, AccessShareLock);
	current = lock_row(&r, &row);
	if (r.ctx.event_id && event_seen(r.binding, r.ctx.event_id))
		outcome = "duplicate";
	else if (current < 0)
	{
		record_unapplied(&r, current, r.status);
		outcome = "not_applicable";
	}
	else if (wf->statuses[current].terminal || wf->statuses[current].sticky)
	{
		record_unapplied(&r, current, r.status);
		outcome = "ignored";
	}
	else if (r.status >= 0)
		outcome = ingest_status(&r, current);
	else
		outcome = ingest_event(&r, current);
	table_close(r.rel, AccessShareLock);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

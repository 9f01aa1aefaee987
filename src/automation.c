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

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
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
	SfTimer    *timer;
	int			timer_index;
	ReturnSetInfo *rsinfo;
	MemoryContext callercxt;
	ResourceOwner callerowner;
} SfTickState;

/* ", t.a, t.b": the key columns of a binding under an alias. */
static void
append_keys(StringInfo sql, SfBinding *b, const char *alias)
{
	int			k;

	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(sql, ", %s.%s", alias, quote_identifier(b->key_names[k]));
}

/* "jsonb_build_object('a', t.a, ...)": a row's key as JSON. */
static void
append_key_json(StringInfo sql, SfBinding *b, const char *alias)
{
	int			k;

	appendStringInfoString(sql, "pg_catalog.jsonb_build_object(");
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(sql, "%s%s, %s.%s", k ? ", " : "",
						 quote_literal_cstr(b->key_names[k]), alias,
						 quote_identifier(b->key_names[k]));
	appendStringInfoChar(sql, ')');
}

/*
 * "FROM rel WHERE status = $1 AND time <= now() - $2 ORDER BY time LIMIT
 * $3 FOR UPDATE SKIP LOCKED": the rows due for a timer, oldest first.
 */
static void
append_due(StringInfo sql, SfBinding *b, SfTimer *t)
{
	const char *time = quote_identifier(t->at_column ? t->at_column :
										b->entered_at_column);

	appendStringInfo(sql,
					 " FROM %s AS d WHERE d.%s = $1"
					 " AND d.%s OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.-) $2)"
					 " ORDER BY d.%s LIMIT $3 FOR UPDATE SKIP LOCKED",
					 b->relname, quote_identifier(b->column), time, time);
}

/*
 * The two plans of a timer: the batch UPDATE, which returns the key and the
 * new status of every row it moved, and the query of the due rows' keys
 * (JSON, then the key columns) for moving them one at a time.
 */
static void
timer_plans(SfBinding *b, int ti)
{
	SfTimer    *t = &b->workflow->timers[ti];
	Oid			argtypes[4] = {b->workflow->type_oid, INTERVALOID, INT4OID,
	t->event ? TEXTOID : b->workflow->type_oid};
	StringInfoData sql;
	int			k;

	if (b->timer_plans == NULL)
		b->timer_plans = MemoryContextAllocZero(b->cxt, sizeof(SPIPlanPtr) *
												2 * Max(b->workflow->ntimers, 1));
	if (b->timer_plans[2 * ti])
		return;

	/* a materialized CTE: the due rows are picked once, never rescanned */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "WITH due AS MATERIALIZED (SELECT NULL");
	append_keys(&sql, b, "d");
	append_due(&sql, b, t);
	appendStringInfo(&sql, ") UPDATE %s AS t SET %s = ", b->relname,
					 quote_identifier(b->column));
	if (t->event)
		appendStringInfo(&sql, "statusflow._event_target(t.%s, t, %d, $4)",
						 quote_identifier(b->column), b->id);
	else
		appendStringInfoString(&sql, "$4");
	appendStringInfoString(&sql, " FROM due WHERE ");
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(&sql, "t.%s = due.%s AND ", quote_identifier(b->key_names[k]),
						 quote_identifier(b->key_names[k]));
	appendStringInfo(&sql, "t.%s = $1 RETURNING ", quote_identifier(b->column));
	append_key_json(&sql, b, "t");
	appendStringInfo(&sql, ", t.%s::pg_catalog.text", quote_identifier(b->column));
	b->timer_plans[2 * ti] = SPI_prepare(sql.data, 4, argtypes);

	resetStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	append_key_json(&sql, b, "d");
	append_keys(&sql, b, "d");
	append_due(&sql, b, t);
	b->timer_plans[2 * ti + 1] = SPI_prepare(sql.data, 3, argtypes);
	for (k = 0; k < 2; k++)
	{
		if (b->timer_plans[2 * ti + k] == NULL)
			elog(ERROR, "statusflow: could not prepare timer query: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(b->timer_plans[2 * ti + k]);
	}
}

/* Return one row of tick(): what happened to one row of a bound table. */
static void
tick_row(SfTickState *st, Datum key, const char *to, const char *outcome)
{
	Datum		values[TICK_COLUMNS];
	bool		nulls[TICK_COLUMNS] = {false};
	SfWorkflow *wf = st->binding->workflow;
	MemoryContext old = MemoryContextSwitchTo(st->callercxt);

	values[0] = ObjectIdGetDatum(st->binding->relid);
	values[1] = datumCopy(key, false, -1);
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

/* Start a subtransaction, keeping the caller's memory context. */
static void
begin_sub(SfTickState *st)
{
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(st->callercxt);
}

/* Commit or roll back the subtransaction begun by begin_sub(). */
static void
end_sub(SfTickState *st, bool commit)
{
	if (commit)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(st->callercxt);
	CurrentResourceOwner = st->callerowner;
}

/* The parameters of a timer's plans. */
static void
timer_params(SfTickState *st, int limit, Datum *params)
{
	SfWorkflow *wf = st->binding->workflow;
	SfTimer    *t = st->timer;

	params[0] = ObjectIdGetDatum(wf->statuses[t->status].enum_oid);
	params[1] = DirectFunctionCall3(interval_in,
									CStringGetDatum(t->after ? t->after : "0"),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	params[2] = Int32GetDatum(limit);
	params[3] = t->event ? CStringGetTextDatum(t->event) :
		ObjectIdGetDatum(wf->statuses[t->to].enum_oid);
}

/*
 * Move the due rows of a timer with one UPDATE.  Returns how many moved,
 * or -1 when the UPDATE failed (and was rolled back).
 */
static int
tick_batch(SfTickState *st, int limit)
{
	Datum		params[4];
	int			moved = -1;
	uint64		i;

	timer_params(st, limit, params);
	begin_sub(st);
	PG_TRY();
	{
		if (SPI_execute_plan(st->binding->timer_plans[2 * st->timer_index], params,
							 NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "statusflow: timer update failed");
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;

			tick_row(st, SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
									   1, &isnull),
					 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2),
					 "applied");
		}
		moved = (int) SPI_processed;
		end_sub(st, true);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(st->callercxt);
		FlushErrorState();
		end_sub(st, false);
	}
	PG_END_TRY();
	return moved;
}

/*
 * Move the due rows of a timer one at a time, each in a subtransaction,
 * reporting the ones refused.  Returns how many rows it went through.
 */
static int
tick_one_by_one(SfTickState *st, int limit)
{
	SfBinding  *b = st->binding;
	Datum		params[4];
	SPITupleTable *due;
	uint64		ndue,
				i;
	int			k;

	timer_params(st, limit, params);
	if (SPI_execute_plan(b->timer_plans[2 * st->timer_index + 1], params, NULL,
						 false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: timer query failed");
	due = SPI_tuptable;
	ndue = SPI_processed;
	for (i = 0; i < ndue; i++)
	{
		Datum		keyjson;
		Datum		update[INDEX_MAX_KEYS + 1];
		bool		isnull;

		keyjson = SPI_getbinval(due->vals[i], due->tupdesc, 1, &isnull);
		update[0] = params[3];
		for (k = 0; k < b->nkeys; k++)
			update[k + 1] = SPI_getbinval(due->vals[i], due->tupdesc, k + 2, &isnull);
		begin_sub(st);
		PG_TRY();
		{
			if (SPI_execute_plan(sf_update_plan(b, st->timer->event ? SF_PLAN_FIRE :
												SF_PLAN_TRANSITION),
								 update, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
				elog(ERROR, "statusflow: timer update failed");
			tick_row(st, keyjson,
					 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
					 "applied");
			end_sub(st, true);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(st->callercxt);
			edata = CopyErrorData();
			FlushErrorState();
			end_sub(st, false);
			tick_row(st, keyjson, NULL, psprintf("failed: %s", edata->message));
		}
		PG_END_TRY();
	}
	return (int) ndue;
}

/* Apply one timer of one binding to at most limit rows; how many it took. */
static int
tick_timer(SfTickState *st, int limit)
{
	SfContext	ctx;
	int			n;

	memset(&ctx, 0, sizeof(ctx));
	ctx.binding_id = st->binding->id;
	ctx.event = st->timer->event;
	ctx.actor = cstring_to_text("statusflow.tick");
	ctx.reason = cstring_to_text(psprintf("timer %d", st->timer->id));
	timer_plans(st->binding, st->timer_index);
	sf_push_context(&ctx);
	PG_TRY();
	{
		n = tick_batch(st, limit);
		if (n < 0)
			n = tick_one_by_one(st, limit);
	}
	PG_CATCH();
	{
		sf_pop_context(&ctx);
		PG_RE_THROW();
	}
	PG_END_TRY();
	sf_pop_context(&ctx);
	return n;
}

/*
 * statusflow.tick(max_rows): apply the timers that are due, to at most
 * max_rows rows in all; returns one row per row it moved or could not move.
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
	st.callerowner = CurrentResourceOwner;

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
		for (ti = 0; ti < st.binding->workflow->ntimers && done < max_rows; ti++)
		{
			st.timer = &st.binding->workflow->timers[ti];
			st.timer_index = ti;
			done += tick_timer(&st, max_rows - done);
		}
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
	Datum		keys[INDEX_MAX_KEYS];
	const char *name;			/* the status or event name as given */
	int			status;			/* its status index, or -1 for an event */
	SfContext	ctx;
} SfReceipt;

/* Lock the row of a key and read its status; raise when there is none. */
static int
lock_row(SfReceipt *r)
{
	SfBinding  *b = r->binding;
	Oid			argtypes[INDEX_MAX_KEYS];
	bool		isnull;
	Datum		status;
	int			k;

	if (b->plans[SF_PLAN_LOCK] == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT t.%s FROM %s AS t WHERE ",
						 quote_identifier(b->column), b->relname);
		for (k = 0; k < b->nkeys; k++)
		{
			appendStringInfo(&sql, "%st.%s = $%d", k ? " AND " : "",
							 quote_identifier(b->key_names[k]), k + 1);
			argtypes[k] = b->key_types[k];
		}
		appendStringInfoString(&sql, " FOR UPDATE");
		sf_binding_plan(b, SF_PLAN_LOCK, sql.data, b->nkeys, argtypes);
	}
	if (SPI_execute_plan(b->plans[SF_PLAN_LOCK], r->keys, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not lock the row");
	if (SPI_processed == 0)
	{
		bool		nulls[INDEX_MAX_KEYS] = {false};

		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s has no row with key %s", b->relname,
						sf_format_key(b, r->keys, nulls))));
	}
	status = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : sf_status_index(b->workflow, DatumGetObjectId(status));
}

/* Has the history of the binding recorded this event id already? */
static bool
event_seen(SfBinding *b, text *event_id)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		params[1] = {PointerGetDatum(event_id)};

	if (b->plans[SF_PLAN_SEEN] == NULL)
		sf_binding_plan(b, SF_PLAN_SEEN,
						psprintf("SELECT 1 FROM %s WHERE event_id = $1",
								 b->history_relname),
						1, argtypes);
	if (SPI_execute_snapshot(b->plans[SF_PLAN_SEEN], params, NULL,
							 GetLatestSnapshot(), InvalidSnapshot, true, false,
							 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: event lookup failed");
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
		SfContext  *ctx = last ? &r->ctx : &implied;
		int			rc;

		params[0] = last && last_by_event ? CStringGetTextDatum(r->name) :
			ObjectIdGetDatum(b->workflow->statuses[path[i]].enum_oid);
		sf_push_context(ctx);
		PG_TRY();
		{
			rc = SPI_execute_plan(sf_update_plan(b, last && last_by_event ?
												 SF_PLAN_FIRE : SF_PLAN_TRANSITION),
								  params, NULL, false, 0);
		}
		PG_FINALLY();
		{
			sf_pop_context(ctx);
		}
		PG_END_TRY();
		if (rc != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "statusflow: ingestion update failed");
	}
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
	take_path(r, path, len, false);
	return "applied";
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
	{
		take_path(r, path, 1, true);
		return "applied";
	}
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
	take_path(r, path, len,
			  event_leads(wf, len > 1 ? path[len - 2] : current, target, r->name));
	return "applied";
}

/*
 * statusflow.ingest(table_name, key, status_or_event, occurred_at,
 * event_id, payload, column_name) returns text: what the receipt did,
 * one of applied, duplicate, late, unchanged, ignored, not_applicable.
 */
Datum
sf_ingest(PG_FUNCTION_ARGS)
{
	SfReceipt	r;
	SfWorkflow *wf;
	const char *outcome;
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
		r.ctx.occurred_at = PG_GETARG_TIMESTAMPTZ(3);
	r.ctx.event_id = PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4);
	r.ctx.metadata = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	r.ctx.actor = cstring_to_text("statusflow.ingest");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	current = lock_row(&r);
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
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

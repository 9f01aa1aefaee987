/*-------------------------------------------------------------------------
 *
 * ingest.c
 *	  Provider events ingested by statusflow.ingest(), one receipt per
 *	  call, and statusflow.ingest_batch(), many in one call.
 *
 * Every move goes through an UPDATE of the bound table, so the triggers
 * check it and write its history like any other change.
 *
 * ingest() applies an event or status reported by a provider (a delivery
 * receipt, a webhook) at most once per event id, never moves a row out of a
 * terminal or sticky status, and in a monotonic workflow never moves a row
 * back in rank: a receipt that arrives late is kept in the history as not
 * applied.  In a monotonic workflow a receipt for a status further on is
 * applied along the shortest path of declared transitions that climbs in
 * rank, so that the final status does not depend on the order of arrival.
 * A path is taken in a subtransaction when something can refuse it, so
 * that a refused receipt undoes its steps and is kept as not applied.
 *
 * ingest_batch() gives each receipt of a batch the outcome, and each row
 * the status and history, that ingest() called on each receipt in turn
 * would give, with a few statements for the whole batch: it locks every
 * row of the batch with one query, in key order (two batches never wait
 * for each other in a circle), looks every event id up at once (the first
 * receipt of an id in the batch wins), decides outcomes in C from the
 * workflow graph, writes the receipts kept as not applied straight to the
 * history, and moves rows in rounds: round k takes the k-th path of every
 * row, each of its steps with one UPDATE of all the rows concerned, the
 * history written by the triggers with each row's own who and why (a
 * context per key, see transition.c).  A round that something refuses is
 * undone and taken again one receipt at a time, as ingest() takes them.
 * Rows of different keys are independent in ingest(), except through what
 * may read other rows: quotas, actions, conditions calling functions that
 * are not immutable, other triggers or row-level security of the bound
 * table.  A batch for a workflow or table with any of those is applied one
 * receipt at a time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_ingest);
PG_FUNCTION_INFO_V1(sf_ingest_batch);

/* What ingest() was told: a status, or an event. */
typedef struct SfReceipt
{
	SfBinding  *binding;
	Relation	rel;			/* the bound table */
	Datum	   *keys;			/* the key as given, converted */
	const char *name;			/* the status or event name as given */
	int			status;			/* its status index, or -1 for an event */
	SfContext	ctx;
} SfReceipt;

/*
 * What a receipt does from a row's status: it is kept as not applied, or
 * it takes a path of statuses.
 */
typedef struct SfPlan
{
	const char *outcome;		/* without a path: the outcome */
	int			unapplied_to;	/* and the to_status kept, -1 for the current */
	int			len;			/* the steps of the path, 0 for none */
	int		   *path;			/* the status after each step */
	bool		last_by_event;	/* the last step is the event's, from the row */
} SfPlan;

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

/*
 * Read a receipt's status or event and who and why; raises when the name
 * is neither a status nor an event of the workflow, or occurred_at is out
 * of range.  keys are kept, not copied.
 */
static void
receipt_init(SfReceipt *r, SfBinding *b, Relation rel, Datum *keys, text *name,
			 bool has_occurred_at, TimestampTz occurred_at, text *event_id,
			 Jsonb *payload)
{
	SfWorkflow *wf = b->workflow;

	memset(r, 0, sizeof(SfReceipt));
	r->binding = b;
	r->rel = rel;
	r->keys = keys;
	r->name = text_to_cstring(name);
	r->status = sf_status_by_label(wf, r->name);
	if (r->status < 0 && !is_event(wf, r->name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is neither a status nor an event of workflow \"%s\"",
						r->name, wf->name)));
	r->ctx.binding_id = b->id;
	r->ctx.event = r->status < 0 ? r->name : NULL;
	r->ctx.has_occurred_at = has_occurred_at;
	if (has_occurred_at)
		r->ctx.occurred_at = sf_check_occurred_at(occurred_at);
	r->ctx.event_id = event_id;
	r->ctx.metadata = payload;
	r->ctx.actor = cstring_to_text("statusflow.ingest");
}

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
 * The who and why of the steps of a receipt's path before the last: the
 * receipt's, without its event, event id and payload, "implied by" it.
 */
static void
implied_context(SfReceipt *r, SfContext *implied)
{
	*implied = r->ctx;
	implied->event = NULL;
	implied->event_id = NULL;
	implied->metadata = NULL;
	implied->reason = cstring_to_text(psprintf("implied by %s \"%s\"",
											   r->status < 0 ? "event" : "status",
											   r->name));
}

/*
 * Take a path of statuses, one UPDATE per step, the receipt's who and why
 * on the last step and "implied by" on the ones before.
 */
static void
take_path(SfReceipt *r, SfPlan *plan)
{
	SfBinding  *b = r->binding;
	SfContext	implied;
	Datum		params[INDEX_MAX_KEYS + 1];
	int			i;

	memcpy(&params[1], r->keys, sizeof(Datum) * b->nkeys);
	implied_context(r, &implied);
	for (i = 0; i < plan->len; i++)
	{
		bool		last = (i == plan->len - 1);
		HeapTuple	row;
		int			to = plan->path[i];

		/* the event's target, from the row as the steps before left it */
		if (last && plan->last_by_event)
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
 * Does a trigger of rel run code other than this binding's own triggers?
 * Constraints' internal triggers and disabled ones do not count.
 */
static bool
foreign_triggers(SfBinding *b, Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	Oid			internal;
	int			i;

	if (td == NULL)
		return false;
	internal = get_namespace_oid("statusflow_internal", false);
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (t->tgenabled == TRIGGER_DISABLED || t->tgisinternal)
			continue;
		if (get_func_namespace(t->tgfoid) != internal || t->tgnargs != 1 ||
			strcmp(t->tgargs[0], psprintf("%d", b->id)) != 0)
			return true;
	}
	return false;
}

/* Has rel CHECK constraints, or partitions (whose bounds are checks too)? */
static bool
has_checks(Relation rel)
{
	return (rel->rd_att->constr && rel->rd_att->constr->num_check > 0) ||
		rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ||
		rel->rd_rel->relispartition;
}

/*
 * Can taking a path be refused (SQLSTATE 23514) by anything: the
 * workflow's guards, quotas or actions, a CHECK constraint or another
 * trigger of the bound table, the checks of its history table?  When
 * nothing can, no subtransaction is needed to undo a refused path.
 */
static bool
may_refuse(SfBinding *b, Relation rel)
{
	SfWorkflow *wf = b->workflow;
	Relation	history;
	bool		checks;

	if (wf->has_guards || wf->nquotas > 0 || wf->nactions > 0 ||
		has_checks(rel) || foreign_triggers(b, rel))
		return true;
	history = try_table_open(b->history_relid, AccessShareLock);
	if (history == NULL)
		return true;			/* the writer reports it */
	checks = has_checks(history);
	table_close(history, AccessShareLock);
	return checks;
}

/*
 * Take a receipt's path from status current, in a subtransaction when it
 * may be refused.  A refusal (SQLSTATE 23514: the workflow's guards, say)
 * undoes every step and keeps the receipt in the history as not applied,
 * the refusal as its reason: one refused receipt does not abort a batch.
 * Returns the outcome, applied or refused.
 */
static const char *
apply_path(SfReceipt *r, int current, SfPlan *plan)
{
	SfSub		sub;
	ErrorData  *edata;

	if (!may_refuse(r->binding, r->rel))
	{
		take_path(r, plan);
		return "applied";
	}
	sf_begin_sub(&sub);
	PG_TRY();
	{
		take_path(r, plan);
		sf_end_sub(&sub, true);
	}
	PG_CATCH();
	{
		edata = sf_fail_sub(&sub);
		if (edata->sqlerrcode != ERRCODE_CHECK_VIOLATION)
			ReThrowError(edata);
		r->ctx.reason = refusal_reason(edata);
		record_unapplied(r, current,
						 plan->last_by_event ? -1 : plan->path[plan->len - 1]);
		return "refused";
	}
	PG_END_TRY();
	return "applied";
}

/* A receipt kept as not applied: its outcome, and the to_status kept. */
static void
plan_unapplied(SfPlan *plan, const char *outcome, int to)
{
	plan->outcome = outcome;
	plan->unapplied_to = to;
	plan->len = 0;
}

/* What a receipt that names a status does from status current. */
static void
plan_status(SfWorkflow *wf, SfReceipt *r, int current, SfPlan *plan)
{
	if (r->status == current)
		plan_unapplied(plan, "unchanged", r->status);
	else if (wf->monotonic && r->status < current)
		plan_unapplied(plan, "late", r->status);
	else if (wf->edge_first[current * wf->nstatuses + r->status] >= 0)
	{
		plan->len = 1;
		plan->path[0] = r->status;
	}
	else
	{
		if (wf->monotonic)
			plan->len = shortest_path(wf, current, r->status, true, plan->path);
		if (plan->len == 0)
			plan_unapplied(plan, "not_applicable", r->status);
	}
}

/* What a receipt that names an event does from status current. */
static void
plan_event(SfWorkflow *wf, SfReceipt *r, int current, SfPlan *plan)
{
	int			target;
	bool		behind;

	if (event_from(wf, current, r->name) != -1)
	{
		plan->len = 1;
		plan->path[0] = -1;		/* the event's target, from the row */
		plan->last_by_event = true;
		return;
	}
	if (!wf->monotonic)
	{
		plan_unapplied(plan, "not_applicable", -1);
		return;
	}
	target = event_ahead(wf, current, r->name, plan->path, &plan->len, &behind);
	if (target < 0)
	{
		plan_unapplied(plan, behind ? "late" : "not_applicable", -1);
		return;
	}
	/* the last step is the event itself when it leads there */
	plan->last_by_event = event_leads(wf, plan->len > 1 ? plan->path[plan->len - 2] : current,
									  target, r->name);
}

/*
 * What a receipt (not a duplicate) does to a row in status current (-1:
 * none, or not registered): kept as not applied, or a path to take.
 */
static void
plan_receipt(SfReceipt *r, int current, SfPlan *plan)
{
	SfWorkflow *wf = r->binding->workflow;

	plan->outcome = NULL;
	plan->unapplied_to = -1;
	plan->len = 0;
	plan->last_by_event = false;
	plan->path = palloc(sizeof(int) * wf->nstatuses);
	if (current < 0)
		plan_unapplied(plan, "not_applicable", r->status);
	else if (wf->statuses[current].terminal || wf->statuses[current].sticky)
		plan_unapplied(plan, "ignored", r->status);
	else if (r->status >= 0)
		plan_status(wf, r, current, plan);
	else
		plan_event(wf, r, current, plan);
}

/*
 * Apply one receipt (SPI connected, the bound table open): lock its row,
 * look its event id up, decide and act.  Returns the outcome.
 */
static const char *
ingest_receipt(SfReceipt *r)
{
	SfPlan		plan;
	HeapTuple	row;
	int			current = lock_row(r, &row);
	bool		seen = false;

	if (r->ctx.event_id)
		sf_history_seen(r->binding, 1, &r->ctx.event_id, &seen);
	if (seen)
		return "duplicate";
	plan_receipt(r, current, &plan);
	if (plan.len > 0)
		return apply_path(r, current, &plan);
	record_unapplied(r, current, plan.unapplied_to);
	return plan.outcome;
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
	SfBinding  *b;
	Datum		keys[INDEX_MAX_KEYS];
	Relation	rel;
	const char *outcome;
	int			i;

	for (i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("table_name, key and status_or_event must not be null")));
	b = sf_binding_for_table(PG_GETARG_OID(0),
							 PG_ARGISNULL(6) ? NULL : NameStr(*PG_GETARG_NAME(6)));
	sf_key_values(b, PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1), keys);
	receipt_init(&r, b, NULL, keys, PG_GETARG_TEXT_PP(2), !PG_ARGISNULL(3),
				 PG_ARGISNULL(3) ? 0 : PG_GETARG_TIMESTAMPTZ(3),
				 PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4),
				 PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	rel = r.rel = table_open(b->relid, AccessShareLock);
	outcome = ingest_receipt(&r);
	table_close(rel, AccessShareLock);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

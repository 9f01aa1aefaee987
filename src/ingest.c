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

/*
 * The first transition on an event from a status, or -1: the one the
 * event takes when the workflow has no guards.
 */
static int
event_from(SfWorkflow *wf, int from, const char *event)
{
	int			i;

	for (i = 0; i < wf->ntransitions; i++)
		if (wf->transitions[i].from == from && wf->transitions[i].event &&
			strcmp(wf->transitions[i].event, event) == 0)
			return i;
	return -1;
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

	if (event_from(wf, current, r->name) >= 0)
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

/*
 * Batches
 */

/* Arguments of ingest_batch(). */
#define BATCH_TABLE		0
#define BATCH_KEYS		1
#define BATCH_WHAT		2
#define BATCH_OCCURRED	3
#define BATCH_EVENT_IDS	4
#define BATCH_PAYLOADS	5
#define BATCH_COLUMN	6

/* One row of a batch, and its receipts. */
typedef struct SfEntity
{
	HeapTuple	row;			/* as it is now */
	Datum	   *keys;			/* its key, as stored */
	int			status;			/* its status index; -1: none, unregistered */
	int		   *receipts;		/* its receipts (indexes), in input order */
	int			nreceipts;
	int			next;			/* the next receipt to decide */
	int			taking;			/* the receipt whose path it takes, or -1 */
	SfPlan		plan;			/* that receipt's plan */
	int			step;			/* the steps of it taken */
	SfContext	implied;		/* the who and why of the steps before the last */
	HeapTuple	round_row;		/* row and status before the round */
	int			round_status;
} SfEntity;

/* A batch being ingested. */
typedef struct SfBatch
{
	SfBinding  *binding;
	Relation	rel;			/* the bound table */
	MemoryContext cxt;			/* what lives as long as the batch */
	int			n;
	SfReceipt  *receipts;		/* in input order */
	const char **outcomes;		/* [receipt] */
	bool	   *duplicate;		/* [receipt]: its event id is known */
	int			current;		/* the receipt being applied, for errors */
	int			nentities;
	SfEntity   *entities;		/* in key order */
	SfKeyMap   *by_key;			/* stored key of a row -> its entity */
	SfContext **row_contexts;	/* [entity]: its context in the UPDATE now run */
	bool		may_refuse;
} SfBatch;

/* Error context of a batch: which receipt, when one is being applied. */
static void
batch_error_context(void *arg)
{
	SfBatch    *bt = arg;

	if (bt->current >= 0)
		errcontext("statusflow.ingest_batch() on %s, receipt %d",
				   bt->binding->relname, bt->current + 1);
	else
		errcontext("statusflow.ingest_batch() on %s", bt->binding->relname);
}

/* Refuse an array argument that has more than one dimension. */
static void
require_one_dimension(ArrayType *a, const char *name)
{
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", name)));
}

/*
 * The elements of an array argument of type elemtype[] that must have n
 * elements (NULL, nulls NULL: a null argument, no element); raises when
 * it has another number of them.
 */
static Datum *
batch_array(FunctionCallInfo fcinfo, int argno, const char *name, Oid elemtype,
			int n, bool **nulls)
{
	ArrayType  *a;
	int16		len;
	bool		byval;
	char		align;
	Datum	   *elems;
	int			count;

	*nulls = NULL;
	if (PG_ARGISNULL(argno))
		return NULL;
	a = PG_GETARG_ARRAYTYPE_P(argno);
	require_one_dimension(a, name);
	get_typlenbyvalalign(elemtype, &len, &byval, &align);
	deconstruct_array(a, elemtype, len, byval, align, &elems, nulls, &count);
	if (count != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has %d elements, keys %d", name, count, n),
				 errhint("Pass one element per receipt in each array, null where a receipt has no value.")));
	return elems;
}

/* Does element i of an array argument hold a value? */
#define BATCH_HAS(elems, nulls, i)	((elems) != NULL && !(nulls)[i])

/* Read the receipts of the arguments, in input order, checking them. */
static void
batch_receipts(FunctionCallInfo fcinfo, SfBatch *bt)
{
	SfBinding  *b = bt->binding;
	ArrayType  *keyarray = sf_keys_argument(fcinfo, BATCH_KEYS);
	Datum	   *keys;
	Datum	   *what,
			   *occurred,
			   *ids,
			   *payloads;
	bool	   *what_nulls,
			   *occurred_nulls,
			   *id_nulls,
			   *payload_nulls;
	int			i;

	require_one_dimension(keyarray, "keys");
	keys = sf_key_elements(b, keyarray, &bt->n);
	what = batch_array(fcinfo, BATCH_WHAT, "statuses_or_events", TEXTOID, bt->n,
					   &what_nulls);
	occurred = batch_array(fcinfo, BATCH_OCCURRED, "occurred_at", TIMESTAMPTZOID,
						   bt->n, &occurred_nulls);
	ids = batch_array(fcinfo, BATCH_EVENT_IDS, "event_ids", TEXTOID, bt->n, &id_nulls);
	payloads = batch_array(fcinfo, BATCH_PAYLOADS, "payloads", JSONBOID, bt->n,
						   &payload_nulls);
	bt->receipts = palloc(sizeof(SfReceipt) * Max(bt->n, 1));
	for (i = 0; i < bt->n; i++)
	{
		bt->current = i;
		if (what_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("statuses_or_events must not contain nulls")));
		receipt_init(&bt->receipts[i], b, bt->rel, &keys[i * b->nkeys],
					 DatumGetTextPP(what[i]),
					 BATCH_HAS(occurred, occurred_nulls, i),
					 BATCH_HAS(occurred, occurred_nulls, i) ?
					 DatumGetTimestampTz(occurred[i]) : 0,
					 BATCH_HAS(ids, id_nulls, i) ? DatumGetTextPP(ids[i]) : NULL,
					 BATCH_HAS(payloads, payload_nulls, i) ?
					 DatumGetJsonbP(payloads[i]) : NULL);
	}
	bt->current = -1;
}

/*
 * May the batch be applied set-based, with the outcomes of one receipt at
 * a time?  Not when receipts for different rows could see each other:
 * quotas count across rows, actions and other triggers run code of their
 * own, conditions that call functions that are not immutable may read
 * other rows, and so may row-level security policies; nor when the
 * history's event ids are compared otherwise than by their bytes.  A
 * partitioned table is applied one receipt at a time too.
 */
static bool
batch_set_based(SfBatch *bt)
{
	SfBinding  *b = bt->binding;
	SfWorkflow *wf = b->workflow;
	Relation	history;
	AttrNumber	att;
	bool		ok;

	if (wf->nquotas > 0 || wf->nactions > 0 ||
		bt->rel->rd_rel->relkind != RELKIND_RELATION ||
		bt->rel->rd_rel->relrowsecurity || foreign_triggers(b, bt->rel) ||
		!sf_conditions_read_only_row(wf, bt->rel))
		return false;
	history = try_table_open(b->history_relid, AccessShareLock);
	if (history == NULL)
		return false;
	att = SPI_fnumber(RelationGetDescr(history), "event_id");
	ok = !history->rd_rel->relrowsecurity && att > 0 &&
		TupleDescAttr(RelationGetDescr(history), att - 1)->atttypid == TEXTOID &&
		get_collation_isdeterministic(TupleDescAttr(RelationGetDescr(history),
													att - 1)->attcollation);
	bt->may_refuse = wf->has_guards || has_checks(bt->rel) || has_checks(history);
	table_close(history, AccessShareLock);
	return ok;
}

/* Apply the receipts one at a time, in input order. */
static void
batch_one_by_one(SfBatch *bt)
{
	for (bt->current = 0; bt->current < bt->n; bt->current++)
		bt->outcomes[bt->current] = ingest_receipt(&bt->receipts[bt->current]);
	bt->current = -1;
}

/* A copy of row i of the last SPI result (a whole row of rel, column 1). */
static HeapTuple
copied_row(SfBatch *bt, uint64 i)
{
	MemoryContext old = MemoryContextSwitchTo(bt->cxt);
	HeapTuple	row = heap_copytuple(sf_locked_row(bt->rel, i));

	MemoryContextSwitchTo(old);
	return row;
}

/* The stored key of a row, in the batch's memory. */
static Datum *
row_key(SfBatch *bt, HeapTuple row)
{
	SfBinding  *b = bt->binding;
	Datum	   *keys = MemoryContextAlloc(bt->cxt, sizeof(Datum) * b->nkeys);
	bool		nulls[INDEX_MAX_KEYS];

	sf_row_keys(b, sf_binding_relinfo(b, bt->rel), RelationGetDescr(bt->rel), row,
				keys, nulls);
	return keys;
}

/*
 * Lock the rows of the batch's keys with one query, in key order, and make
 * an entity of each, with its receipts in input order.  Raises for the
 * first receipt whose key has no row (no_data_found), as ingest() does.
 * Returns false when a key finds several rows (its columns are no longer
 * a key): the batch is then applied one receipt at a time.
 */
static bool
batch_lock(SfBatch *bt)
{
	SfBinding  *b = bt->binding;
	SfKeyMap   *given = sf_key_map_create(b->nkeys, b->key_types, bt->n);
	Datum	   *distinct = palloc(sizeof(Datum) * Max(bt->n, 1) * b->nkeys);
	int		   *key_of = palloc(sizeof(int) * Max(bt->n, 1));
	int		   *entity_of;
	int		   *count;
	Datum		params[INDEX_MAX_KEYS];
	int			ndistinct = 0;
	uint64		j;
	int			i;

	for (i = 0; i < bt->n; i++)
	{
		key_of[i] = sf_key_map_add(given, bt->receipts[i].keys, ndistinct);
		if (key_of[i] == ndistinct)
			memcpy(&distinct[ndistinct++ * b->nkeys], bt->receipts[i].keys,
				   sizeof(Datum) * b->nkeys);
	}
	sf_key_params(b, ndistinct, distinct, params);
	if (SPI_execute_plan(sf_update_plan(b, SF_PLAN_LOCK_KEYS), params, NULL, false, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not lock rows of %s", b->relname);

	entity_of = palloc(sizeof(int) * Max(ndistinct, 1));
	memset(entity_of, -1, sizeof(int) * Max(ndistinct, 1));
	bt->entities = MemoryContextAllocZero(bt->cxt, sizeof(SfEntity) * Max(SPI_processed, 1));
	bt->by_key = sf_key_map_create(b->nkeys, b->key_types, (int) SPI_processed);
	for (j = 0; j < SPI_processed; j++)
	{
		bool		isnull;
		int			given_key = (int) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j],
																  SPI_tuptable->tupdesc,
																  2, &isnull)) - 1;
		HeapTuple	row = copied_row(bt, j);
		Datum	   *keys = row_key(bt, row);
		int			e = sf_key_map_add(bt->by_key, keys, bt->nentities);

		if (entity_of[given_key] >= 0 && entity_of[given_key] != e)
			return false;
		entity_of[given_key] = e;
		if (e < bt->nentities)
			continue;
		bt->entities[e].row = row;
		bt->entities[e].keys = keys;
		bt->entities[e].status = sf_row_status(b, bt->rel, row);
		bt->entities[e].taking = -1;
		bt->nentities++;
	}
	SPI_freetuptable(SPI_tuptable);

	/* the receipts of each entity, in input order */
	count = palloc0(sizeof(int) * Max(bt->nentities, 1));
	for (i = 0; i < bt->n; i++)
	{
		if (entity_of[key_of[i]] < 0)
		{
			bool		nulls[INDEX_MAX_KEYS] = {false};

			bt->current = i;
			sf_no_row(b, sf_format_key(b, bt->receipts[i].keys, nulls));
		}
		count[entity_of[key_of[i]]]++;
	}
	for (i = 0; i < bt->nentities; i++)
		bt->entities[i].receipts = MemoryContextAlloc(bt->cxt, sizeof(int) * count[i]);
	for (i = 0; i < bt->n; i++)
	{
		SfEntity   *e = &bt->entities[entity_of[key_of[i]]];

		e->receipts[e->nreceipts++] = i;
	}
	return true;
}

/*
 * Mark the receipts whose event id is known: taken by an earlier receipt
 * of the batch (every receipt that is not a duplicate records its event
 * id), or in the history already.
 */
static void
batch_duplicates(SfBatch *bt)
{
	text	  **ids = palloc(sizeof(text *) * Max(bt->n, 1));
	int		   *which = palloc(sizeof(int) * Max(bt->n, 1));
	bool	   *seen = palloc(sizeof(bool) * Max(bt->n, 1));
	Oid			textoid = TEXTOID;
	SfKeyMap   *batch_ids = sf_key_map_create(1, &textoid, bt->n);
	int			nids = 0;
	int			i;

	bt->duplicate = palloc0(sizeof(bool) * Max(bt->n, 1));
	for (i = 0; i < bt->n; i++)
	{
		Datum		id = PointerGetDatum(bt->receipts[i].ctx.event_id);

		if (bt->receipts[i].ctx.event_id == NULL)
			continue;
		bt->duplicate[i] = sf_key_map_add(batch_ids, &id, i) != i;
		if (!bt->duplicate[i])
		{
			ids[nids] = bt->receipts[i].ctx.event_id;
			which[nids++] = i;
		}
	}
	if (nids == 0)
		return;
	sf_history_seen(bt->binding, nids, ids, seen);
	for (i = 0; i < nids; i++)
		bt->duplicate[which[i]] = seen[i];
}

/*
 * Decide an entity's receipts in turn, up to one that takes a path:
 * duplicates, and receipts kept as not applied (written now).  Returns
 * whether one takes a path (e->taking).
 */
static bool
next_path(SfBatch *bt, SfEntity *e)
{
	while (e->taking < 0 && e->next < e->nreceipts)
	{
		int			i = e->receipts[e->next++];
		SfReceipt  *r = &bt->receipts[i];

		bt->current = i;
		if (bt->duplicate[i])
		{
			bt->outcomes[i] = "duplicate";
			continue;
		}
		plan_receipt(r, e->status, &e->plan);
		if (e->plan.len == 0)
		{
			record_unapplied(r, e->status, e->plan.unapplied_to);
			bt->outcomes[i] = e->plan.outcome;
			continue;
		}
		e->taking = i;
		e->step = 0;
		if (e->plan.len > 1)
			implied_context(r, &e->implied);
	}
	bt->current = -1;
	return e->taking >= 0;
}

/* An entity has taken its receipt's path. */
static void
path_taken(SfBatch *bt, SfEntity *e)
{
	bt->outcomes[e->taking] = "applied";
	e->taking = -1;
}

/*
 * Take one step of the paths of several entities, to their targets, with
 * one UPDATE whose triggers see each row's own context.  When the workflow
 * has guards, which may look at the row, the rows come back as they are
 * now; without, only their statuses matter (the batch's table has no
 * trigger or quota that could change a row otherwise).
 */
static void
move_entities(SfBatch *bt, SfEntity **movers, int *targets, int n)
{
	SfBinding  *b = bt->binding;
	Datum	   *statuses = palloc(sizeof(Datum) * n);
	Datum	   *keys = palloc(sizeof(Datum) * n * b->nkeys);
	Datum		params[INDEX_MAX_KEYS + 1];
	SfContext	batch;
	uint64		moved,
				j;
	int			i;

	for (i = 0; i < n; i++)
	{
		statuses[i] = ObjectIdGetDatum(b->workflow->statuses[targets[i]].enum_oid);
		memcpy(&keys[i * b->nkeys], movers[i]->keys, sizeof(Datum) * b->nkeys);
	}
	params[0] = sf_status_array(b, n, statuses);
	sf_key_params(b, n, keys, &params[1]);
	memset(&batch, 0, sizeof(batch));
	batch.binding_id = b->id;
	batch.by_key = bt->by_key;
	batch.row_contexts = bt->row_contexts;
	moved = sf_run_with_context(b, b->workflow->has_guards ? SF_PLAN_MOVE_RETURNING :
								SF_PLAN_MOVE_MANY, params, &batch);
	if (moved != (uint64) n)
		elog(ERROR, "statusflow: a batch moved " UINT64_FORMAT " rows of %s, not %d",
			 moved, b->relname, n);
	if (!b->workflow->has_guards)
	{
		/* nothing but the status matters, and it is where it was moved */
		for (i = 0; i < n; i++)
		{
			movers[i]->status = targets[i];
			if (++movers[i]->step == movers[i]->plan.len)
				path_taken(bt, movers[i]);
		}
		return;
	}
	for (j = 0; j < moved; j++)
	{
		HeapTuple	row = copied_row(bt, j);
		bool		nulls[INDEX_MAX_KEYS];
		Datum		rowkeys[INDEX_MAX_KEYS];
		SfEntity   *e;

		sf_row_keys(b, sf_binding_relinfo(b, bt->rel), RelationGetDescr(bt->rel), row,
					rowkeys, nulls);
		e = &bt->entities[sf_key_map_find(bt->by_key, rowkeys)];
		e->row = row;
		e->status = sf_row_status(b, bt->rel, row);
		if (++e->step == e->plan.len)
			path_taken(bt, e);
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Take the paths of the active entities, a step of every path at a time:
 * the steps of a path before the last with its "implied by" context, the
 * last with its receipt's; a last step by event goes where the event leads
 * from the row as it is then (without guards, by its first transition from
 * the row's status, as sf_event_status() would find), and a repeated event
 * is recorded without an UPDATE.
 */
static void
take_paths(SfBatch *bt, int *active, int nactive)
{
	SfBinding  *b = bt->binding;
	SfEntity  **movers = palloc(sizeof(SfEntity *) * nactive);
	int		   *targets = palloc(sizeof(int) * nactive);
	int			i;

	for (;;)
	{
		int			nmoving = 0;

		for (i = 0; i < nactive; i++)
		{
			SfEntity   *e = &bt->entities[active[i]];
			SfReceipt  *r;
			bool		last;
			int			to;

			bt->row_contexts[active[i]] = NULL;
			if (e->taking < 0)
				continue;
			r = &bt->receipts[e->taking];
			last = (e->step == e->plan.len - 1);
			to = e->plan.path[e->step];
			if (last && e->plan.last_by_event)
			{
				to = b->workflow->has_guards ?
					sf_event_status(b, bt->rel, e->row, r->name, &r->ctx) :
					b->workflow->transitions[event_from(b->workflow, e->status,
														r->name)].to;
				if (to == e->status)
				{
					sf_record_repeat(b, bt->rel, e->row, to, &r->ctx);
					path_taken(bt, e);
					continue;
				}
			}
			bt->row_contexts[active[i]] = last ? &r->ctx : &e->implied;
			movers[nmoving] = e;
			targets[nmoving++] = to;
		}
		if (nmoving == 0)
			break;
		move_entities(bt, movers, targets, nmoving);
	}
}

/* Order entities by the receipt whose path they take. */
static int
compare_taking(const void *a, const void *b, void *arg)
{
	SfBatch    *bt = arg;

	return bt->entities[*(const int *) a].taking - bt->entities[*(const int *) b].taking;
}

/*
 * A round was refused and undone: take its receipts again one at a time,
 * in input order, as ingest() does, each in a subtransaction of its own,
 * from the rows as they were before the round, and read the rows again.
 */
static void
retake_one_by_one(SfBatch *bt, int *active, int nactive)
{
	int			i;

	qsort_arg(active, nactive, sizeof(int), compare_taking, bt);
	for (i = 0; i < nactive; i++)
	{
		SfEntity   *e = &bt->entities[active[i]];
		SfReceipt  *r = &bt->receipts[e->taking];
		HeapTuple	row;

		bt->current = e->taking;
		bt->outcomes[e->taking] = apply_path(r, e->round_status, &e->plan);
		e->status = lock_row(r, &row);
		e->row = copied_row(bt, 0);
		e->taking = -1;
	}
	bt->current = -1;
}

/*
 * Take one round: the path of every active entity, in a subtransaction
 * when something may refuse a step.  A refused round is undone and its
 * receipts taken again one at a time.
 */
static void
take_round(SfBatch *bt, int *active, int nactive)
{
	SfSub		sub;
	int			i;

	if (!bt->may_refuse)
	{
		take_paths(bt, active, nactive);
		return;
	}
	for (i = 0; i < nactive; i++)
	{
		SfEntity   *e = &bt->entities[active[i]];

		e->round_row = e->row;
		e->round_status = e->status;
	}
	sf_begin_sub(&sub);
	PG_TRY();
	{
		take_paths(bt, active, nactive);
		sf_end_sub(&sub, true);
	}
	PG_CATCH();
	{
		ErrorData  *edata = sf_fail_sub(&sub);

		if (edata->sqlerrcode != ERRCODE_CHECK_VIOLATION)
			ReThrowError(edata);
		/* the paths taken in the round are undone: so are their outcomes */
		for (i = 0; i < nactive; i++)
		{
			SfEntity   *e = &bt->entities[active[i]];

			if (e->taking < 0)
				e->taking = e->receipts[e->next - 1];
			e->row = e->round_row;
			e->status = e->round_status;
			e->step = 0;
			bt->row_contexts[active[i]] = NULL;
		}
		retake_one_by_one(bt, active, nactive);
	}
	PG_END_TRY();
}

/*
 * Apply the batch set-based: lock its rows, find its duplicates, then
 * round after round decide the receipts of every row up to the next that
 * takes a path, and take those paths together.  false: the batch must be
 * applied one receipt at a time instead (nothing was written).
 */
static bool
batch_set_apply(SfBatch *bt)
{
	MemoryContext round = AllocSetContextCreate(CurrentMemoryContext,
												"statusflow batch round",
												ALLOCSET_DEFAULT_SIZES);
	int		   *active;

	if (!batch_lock(bt))
		return false;
	batch_duplicates(bt);
	bt->row_contexts = palloc0(sizeof(SfContext *) * Max(bt->nentities, 1));
	active = palloc(sizeof(int) * Max(bt->nentities, 1));
	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(round);
		int			nactive = 0;
		int			e;

		for (e = 0; e < bt->nentities; e++)
			if (next_path(bt, &bt->entities[e]))
				active[nactive++] = e;
		if (nactive > 0)
			take_round(bt, active, nactive);
		MemoryContextSwitchTo(old);
		MemoryContextReset(round);
		if (nactive == 0)
			break;
	}
	MemoryContextDelete(round);
	return true;
}

/*
 * statusflow.ingest_batch(table_name, keys, statuses_or_events,
 * occurred_at, event_ids, payloads, column_name) returns table (n integer,
 * outcome text): the outcome of each receipt, in input order, as ingest()
 * called on each in turn would give it.
 */
Datum
sf_ingest_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext callercxt = CurrentMemoryContext;
	ErrorContextCallback errcb;
	SfBatch		bt;
	int			i;

	for (i = 0; i <= BATCH_WHAT; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("table_name, keys and statuses_or_events must not be null")));
	InitMaterializedSRF(fcinfo, 0);
	memset(&bt, 0, sizeof(bt));
	bt.binding = sf_binding_for_table(PG_GETARG_OID(BATCH_TABLE),
									  PG_ARGISNULL(BATCH_COLUMN) ? NULL :
									  NameStr(*PG_GETARG_NAME(BATCH_COLUMN)));
	bt.cxt = callercxt;
	bt.current = -1;
	errcb.callback = batch_error_context;
	errcb.arg = &bt;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	bt.rel = table_open(bt.binding->relid, AccessShareLock);
	batch_receipts(fcinfo, &bt);
	bt.outcomes = palloc0(sizeof(char *) * Max(bt.n, 1));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	MemoryContextSwitchTo(callercxt);
	if (bt.n > 0 && !(batch_set_based(&bt) && batch_set_apply(&bt)))
		batch_one_by_one(&bt);
	table_close(bt.rel, AccessShareLock);
	SPI_finish();
	error_context_stack = errcb.previous;

	for (i = 0; i < bt.n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = CStringGetTextDatum(bt.outcomes[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Per-backend cache of workflows and bindings.
 *
 * The statusflow.* catalog tables are read in one go into a memory context
 * of their own the first time a trigger or API function needs them.  The
 * cache stays valid until an invalidation arrives:
 *
 *	- a statement trigger on each catalog table sends a relcache invalidation
 *	  for that table (sf_invalidate_cache); every backend receives it at its
 *	  next statement, or at commit time for our own backend's rollbacks;
 *	- a change to pg_enum (ALTER TYPE ... ADD VALUE) arrives as a syscache
 *	  invalidation;
 *	- a relcache invalidation of a bound table or partition only forgets
 *	  where the binding's columns are in that relation.
 *
 * A stale cache is not freed at once: a caller up the stack may still hold
 * pointers into it (a trigger whose guard ran a query that saw the
 * invalidation).  It is retired and freed when the transaction ends.
 *
 * The catalog is shared by every tenant of the database and written by
 * them, so the cache trusts none of its rows: a row it cannot use breaks
 * only its own workflow or binding, which then fails its own tables with a
 * clear error (sf_check_workflow, sf_check_binding), never the others.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "statusflow.h"

#define SF_CATALOG_TABLES 7

typedef struct SfCache
{
	MemoryContext cxt;
	int			nworkflows;
	SfWorkflow *workflows;		/* ordered by name */
	int			nbindings;
	SfBinding  *bindings;		/* ordered by id */
} SfCache;

/* How many rows of each kind a workflow was allocated room for. */
typedef struct SfCapacity
{
	int			statuses;
	int			transitions;
	int			quotas;
	int			timers;
	int			actions;
} SfCapacity;

static SfCache *cache = NULL;
static bool cache_valid = false;
static List *retired = NIL;		/* stale caches, freed at transaction end */
static List *retired_plans = NIL;	/* plans of changed bindings, likewise */
static Oid	catalog_relids[SF_CATALOG_TABLES];

static const char *const catalog_names[SF_CATALOG_TABLES] = {
	"workflow", "status", "transition", "binding", "quota", "timer", "action"
};

/* statusflow.action arrived in 1.1: a 1.0 catalog, not yet updated, has none. */
#define SF_ACTION_TABLE 6
#define has_action_table() OidIsValid(catalog_relids[SF_ACTION_TABLE])

PG_FUNCTION_INFO_V1(sf_invalidate_cache);

/* Relcache callback: catalog tables reset everything, bound tables less. */
static void
sf_relcache_callback(Datum arg, Oid relid)
{
	int			i;

	if (relid == InvalidOid)
	{
		cache_valid = false;
		sf_history_invalidate(InvalidOid);
		return;
	}
	for (i = 0; i < SF_CATALOG_TABLES; i++)
		if (catalog_relids[i] == relid)
			cache_valid = false;
	sf_history_invalidate(relid);
	if (cache == NULL)
		return;
	for (i = 0; i < cache->nbindings; i++)
	{
		SfBinding  *b = &cache->bindings[i];
		int			j;

		for (j = 0; j < b->nrels; j++)
			if (b->rels[j].relid == relid)
				b->rels[j].valid = false;
		if (b->history_relid == relid)
			b->history.valid = b->event_index_known = false;
	}
}

/* Syscache callback for pg_enum: enum labels or their order changed. */
static void
sf_enum_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_valid = false;
}

void
sf_cache_init(void)
{
	CacheRegisterRelcacheCallback(sf_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(ENUMOID, sf_enum_callback, (Datum) 0);
}

/* Free the plans of a binding. */
static void
free_plans(SfBinding *b)
{
	int			k;

	for (k = 0; k < SF_PLAN_COUNT; k++)
		if (b->plans[k])
			SPI_freeplan(b->plans[k]);
	for (k = 0; b->timer_plans && b->workflow && k < b->workflow->ntimers; k++)
		if (b->timer_plans[k])
			SPI_freeplan(b->timer_plans[k]);
}

/* Free one cache generation and the plans its bindings prepared. */
static void
sf_cache_free(SfCache *c)
{
	int			i;

	for (i = 0; i < c->nbindings; i++)
		free_plans(&c->bindings[i]);
	MemoryContextDelete(c->cxt);
}

/*
 * Put a binding's plans aside, to be freed when the transaction ends (a
 * caller up the stack may be running one), so that they are prepared again.
 */
static void
retire_plans(SfBinding *b)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	int			k;

	for (k = 0; k < SF_PLAN_COUNT; k++)
		if (b->plans[k])
			retired_plans = lappend(retired_plans, b->plans[k]);
	memset(b->plans, 0, sizeof(b->plans));
	for (k = 0; b->timer_plans && k < b->workflow->ntimers; k++)
		if (b->timer_plans[k])
			retired_plans = lappend(retired_plans, b->timer_plans[k]);
	b->timer_plans = NULL;
	MemoryContextSwitchTo(old);
}

/* End of transaction: nobody can point into retired caches any more. */
void
sf_cache_xact_end(void)
{
	ListCell   *lc;

	foreach(lc, retired)
		sf_cache_free((SfCache *) lfirst(lc));
	list_free(retired);
	retired = NIL;
	foreach(lc, retired_plans)
		SPI_freeplan((SPIPlanPtr) lfirst(lc));
	list_free(retired_plans);
	retired_plans = NIL;
}

/*
 * Statement trigger on the catalog tables.  The relcache invalidation it
 * queues reaches this backend at the next command and the others when the
 * transaction commits; all of them then drop their cache.
 */
Datum
sf_invalidate_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be called as a trigger",
						"statusflow_internal.invalidate_cache()")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	PG_RETURN_POINTER(NULL);
}

/* Text of column col of the current SPI row, copied; NULL when null. */
static char *
spi_text(int row, int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return v ? pstrdup(v) : NULL;
}

/* Datum of column col of the current SPI row. */
static Datum
spi_datum(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col,
						 isnull);
}

static bool
spi_bool(int row, int col)
{
	bool		isnull;
	Datum		d = spi_datum(row, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* An int4 column, 0 when null. */
static int
spi_int(int row, int col)
{
	bool		isnull;
	Datum		d = spi_datum(row, col, &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

/* Run one catalog query under the given snapshot and the pinned path. */
static void
spi_run(const char *sql, Snapshot snap)
{
	int			nest = sf_pin_search_path();
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "statusflow: could not prepare catalog query: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_execute_snapshot(plan, NULL, NULL, snap, InvalidSnapshot,
							 true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: catalog query failed: %s", sql);
	SPI_freeplan(plan);
	sf_unpin_search_path(nest);
}

/* Keep the first thing found wrong with a workflow or binding. */
static void
set_broken(SfBroken *broken, MemoryContext cxt, int sqlerrcode,
		   const char *message)
{
	if (broken->message != NULL)
		return;
	broken->sqlerrcode = sqlerrcode;
	broken->message = MemoryContextStrdup(cxt, message);
}

static int
cmp_workflow_name(const void *a, const void *b)
{
	return strcmp(((const SfWorkflow *) a)->name, ((const SfWorkflow *) b)->name);
}

static int
cmp_oid_index(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return (x > y) - (x < y);
}

static int
cmp_transition(const void *a, const void *b)
{
	const SfTransition *x = a;
	const SfTransition *y = b;

	if (x->from != y->from)
		return x->from - y->from;
	if (x->to != y->to)
		return x->to - y->to;	/* restoring ones (-1) first */
	return x->id - y->id;
}

/*
 * Load statusflow.workflow; statuses and transitions are filled in later,
 * into the room counted here (caps, parallel to the sorted workflows).
 */
static SfCapacity *
load_workflows(SfCache *c, Snapshot snap)
{
	SfCapacity *caps;
	int			i;

	spi_run(psprintf("SELECT w.name, w.status_type::pg_catalog.oid, w.allow_null, w.monotonic,"
			" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM statusflow.status s"
			"  WHERE s.workflow OPERATOR(pg_catalog.=) w.name),"
			" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM statusflow.transition t"
			"  WHERE t.workflow OPERATOR(pg_catalog.=) w.name),"
			" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM statusflow.quota q"
			"  WHERE q.workflow OPERATOR(pg_catalog.=) w.name),"
			" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM statusflow.timer t"
			"  WHERE t.workflow OPERATOR(pg_catalog.=) w.name),"
			" %s,"
			" EXISTS (SELECT FROM pg_catalog.pg_type y"
			"  WHERE y.oid OPERATOR(pg_catalog.=) w.status_type::pg_catalog.oid"
			"    AND y.typtype OPERATOR(pg_catalog.=) 'e')"
			" FROM statusflow.workflow w ORDER BY w.name COLLATE \"C\"",
					 has_action_table() ?
					 "(SELECT pg_catalog.count(*)::pg_catalog.int4 FROM statusflow.action a"
					 "  WHERE a.workflow OPERATOR(pg_catalog.=) w.name)" : "0"), snap);
	c->nworkflows = SPI_processed;
	c->workflows = MemoryContextAllocZero(c->cxt,
										  sizeof(SfWorkflow) * Max(c->nworkflows, 1));
	caps = palloc0(sizeof(SfCapacity) * Max(c->nworkflows, 1));
	for (i = 0; i < c->nworkflows; i++)
	{
		SfWorkflow *wf = &c->workflows[i];
		SfCapacity *cap = &caps[i];
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(c->cxt);

		wf->name = spi_text(i, 1);
		wf->type_oid = DatumGetObjectId(spi_datum(i, 2, &isnull));
		wf->allow_null = spi_bool(i, 3);
		wf->monotonic = spi_bool(i, 4);
		cap->statuses = spi_int(i, 5);
		cap->transitions = spi_int(i, 6);
		cap->quotas = spi_int(i, 7);
		cap->timers = spi_int(i, 8);
		cap->actions = spi_int(i, 9);
		wf->statuses = palloc0(sizeof(SfStatus) * Max(cap->statuses, 1));
		wf->transitions = palloc0(sizeof(SfTransition) * Max(cap->transitions, 1));
		wf->quotas = palloc0(sizeof(SfQuota) * Max(cap->quotas, 1));
		wf->timers = palloc0(sizeof(SfTimer) * Max(cap->timers, 1));
		wf->actions = palloc0(sizeof(SfAction) * Max(cap->actions, 1));
		if (!spi_bool(i, 10))
			set_broken(&wf->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
					   psprintf("its type %s is not an enum type",
								format_type_be(wf->type_oid)));
		MemoryContextSwitchTo(old);
	}
	return caps;
}

static SfWorkflow *
find_workflow(SfCache *c, const char *name)
{
	SfWorkflow	key;

	key.name = (char *) name;
	return bsearch(&key, c->workflows, c->nworkflows, sizeof(SfWorkflow),
				   cmp_workflow_name);
}

/*
 * The workflow named in the first column of SPI row i, with its room, or
 * NULL for a row of no loaded workflow (the foreign keys of the catalog
 * make that impossible; such a row is ignored).
 */
static SfWorkflow *
row_workflow(SfCache *c, SfCapacity *caps, int i, SfCapacity **cap)
{
	char	   *wname = spi_text(i, 1);
	SfWorkflow *wf = wname ? find_workflow(c, wname) : NULL;

	if (wf != NULL)
		*cap = &caps[wf - c->workflows];
	return wf;
}

/* Load statusflow.status in rank order, with each label's enum OID. */
static void
load_statuses(SfCache *c, SfCapacity *caps, Snapshot snap)
{
	int			i;

	spi_run("SELECT s.workflow, s.status, e.oid, s.is_initial, s.is_terminal,"
			" s.group_name, s.condition, s.is_sticky"
			" FROM statusflow.status s"
			" JOIN statusflow.workflow w ON w.name OPERATOR(pg_catalog.=) s.workflow"
			" LEFT JOIN pg_catalog.pg_enum e"
			"   ON e.enumtypid OPERATOR(pg_catalog.=) w.status_type::pg_catalog.oid"
			"  AND e.enumlabel::pg_catalog.text OPERATOR(pg_catalog.=) s.status"
			" ORDER BY s.workflow, e.enumsortorder, s.status", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfCapacity *cap;
		SfWorkflow *wf = row_workflow(c, caps, i, &cap);
		SfStatus   *st;
		bool		isnull;
		Datum		oid = spi_datum(i, 3, &isnull);

		if (wf == NULL || wf->nstatuses >= cap->statuses)
		{
			MemoryContextSwitchTo(old);
			continue;
		}
		if (isnull)
		{
			set_broken(&wf->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
					   psprintf("status \"%s\" is not a label of its type %s",
								spi_text(i, 2), format_type_be(wf->type_oid)));
			MemoryContextSwitchTo(old);
			continue;
		}
		st = &wf->statuses[wf->nstatuses++];
		st->label = spi_text(i, 2);
		st->enum_oid = DatumGetObjectId(oid);
		st->initial = spi_bool(i, 4);
		st->terminal = spi_bool(i, 5);
		st->group_name = spi_text(i, 6);
		st->condition = spi_text(i, 7);
		st->sticky = spi_bool(i, 8);
		wf->has_guards |= (st->condition != NULL);
		MemoryContextSwitchTo(old);
	}
}

/* Build the OID lookup array of each workflow. */
static void
index_statuses(SfCache *c)
{
	int			w,
				i;

	for (w = 0; w < c->nworkflows; w++)
	{
		SfWorkflow *wf = &c->workflows[w];
		Oid		   *pairs;

		pairs = MemoryContextAlloc(c->cxt, sizeof(Oid) * 2 * Max(wf->nstatuses, 1));
		for (i = 0; i < wf->nstatuses; i++)
		{
			pairs[2 * i] = wf->statuses[i].enum_oid;
			pairs[2 * i + 1] = (Oid) i;
		}
		qsort(pairs, wf->nstatuses, sizeof(Oid) * 2, cmp_oid_index);
		wf->sorted_oids = MemoryContextAlloc(c->cxt, sizeof(Oid) * Max(wf->nstatuses, 1));
		wf->sorted_index = MemoryContextAlloc(c->cxt, sizeof(int) * Max(wf->nstatuses, 1));
		for (i = 0; i < wf->nstatuses; i++)
		{
			wf->sorted_oids[i] = pairs[2 * i];
			wf->sorted_index[i] = (int) pairs[2 * i + 1];
		}
	}
}

/* Index of a label within a workflow, or -1. */
int
sf_status_by_label(SfWorkflow *wf, const char *label)
{
	int			i;

	for (i = 0; i < wf->nstatuses; i++)
		if (strcmp(wf->statuses[i].label, label) == 0)
			return i;
	return -1;
}

/*
 * The status index of a label of a catalog row, or -1 after marking the
 * workflow broken (what: the row, for the message).
 */
static int
row_status(SfCache *c, SfWorkflow *wf, const char *label, const char *what)
{
	int			i = label ? sf_status_by_label(wf, label) : -1;

	if (i < 0)
		set_broken(&wf->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
				   psprintf("%s names status \"%s\", which it does not have",
							what, label ? label : "(null)"));
	return i;
}

/*
 * Read one transition row of the current SPI result into t; false (and the
 * workflow broken) when it names a status the workflow does not have.
 */
static bool
read_transition(SfCache *c, SfWorkflow *wf, SfTransition *t, int row)
{
	char	   *to = spi_text(row, 4);
	char	   *what;
	bool		isnull;
	Datum		roles;

	t->id = spi_int(row, 2);
	what = psprintf("transition %d", t->id);
	t->from = row_status(c, wf, spi_text(row, 3), what);
	t->to = to ? row_status(c, wf, to, what) : -1;
	t->event = spi_text(row, 5);
	if (t->from < 0 || (to && t->to < 0))
		return false;
	if (t->from == t->to && t->event == NULL)
	{
		set_broken(&wf->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
				   psprintf("%s leads from a status to itself without an event", what));
		return false;
	}
	t->automatic = spi_bool(row, 6);
	roles = spi_datum(row, 7, &isnull);
	if (!isnull)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			k;

		deconstruct_array(DatumGetArrayTypeP(roles), OIDOID, sizeof(Oid), true,
						  TYPALIGN_INT, &elems, &nulls, &t->nroles);
		t->roles = palloc(sizeof(Oid) * Max(t->nroles, 1));
		for (k = 0; k < t->nroles; k++)
			t->roles[k] = nulls[k] ? InvalidOid : DatumGetObjectId(elems[k]);
	}
	t->condition = spi_text(row, 8);
	t->require_reason = spi_bool(row, 9);
	t->max_uses = Max(spi_int(row, 10), 0);
	wf->has_guards |= (t->nroles > 0 || t->condition || t->require_reason ||
					   t->max_uses > 0 || t->to < 0);
	return true;
}

/* Index each workflow's transitions by (from, to) and restoring ones by from. */
static void
index_transitions(SfCache *c)
{
	int			w,
				i;

	for (w = 0; w < c->nworkflows; w++)
	{
		SfWorkflow *wf = &c->workflows[w];
		int			n = wf->nstatuses;

		qsort(wf->transitions, wf->ntransitions, sizeof(SfTransition),
			  cmp_transition);
		wf->edge_first = MemoryContextAlloc(c->cxt, sizeof(int) * Max(n * n, 1));
		wf->edge_count = MemoryContextAllocZero(c->cxt, sizeof(int) * Max(n * n, 1));
		wf->restore_first = MemoryContextAlloc(c->cxt, sizeof(int) * Max(n, 1));
		wf->restore_count = MemoryContextAllocZero(c->cxt, sizeof(int) * Max(n, 1));
		for (i = 0; i < n * n; i++)
			wf->edge_first[i] = -1;
		for (i = 0; i < n; i++)
			wf->restore_first[i] = -1;
		for (i = 0; i < wf->ntransitions; i++)
		{
			SfTransition *t = &wf->transitions[i];
			int		   *first = t->to < 0 ? &wf->restore_first[t->from] :
				&wf->edge_first[t->from * n + t->to];
			int		   *count = t->to < 0 ? &wf->restore_count[t->from] :
				&wf->edge_count[t->from * n + t->to];

			if (*first < 0)
				*first = i;
			(*count)++;
		}
	}
}

/* Load statusflow.transition, with the guards of each transition. */
static void
load_transitions(SfCache *c, SfCapacity *caps, Snapshot snap)
{
	int			i;

	spi_run("SELECT t.workflow, t.id, t.from_status, t.to_status, t.event,"
			" t.kind OPERATOR(pg_catalog.=) 'automatic',"
			" t.roles::pg_catalog.oid[], t.condition, t.require_reason, t.max_uses"
			" FROM statusflow.transition t", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfCapacity *cap;
		SfWorkflow *wf = row_workflow(c, caps, i, &cap);

		if (wf != NULL && wf->ntransitions < cap->transitions &&
			read_transition(c, wf, &wf->transitions[wf->ntransitions], i))
			wf->ntransitions++;
		MemoryContextSwitchTo(old);
	}
	index_transitions(c);
}

/* Load statusflow.timer. */
static void
load_timers(SfCache *c, SfCapacity *caps, Snapshot snap)
{
	int			i;

	spi_run("SELECT t.workflow, t.id, t.status, t.after::pg_catalog.text,"
			" t.at_column::pg_catalog.text, t.to_status, t.event"
			" FROM statusflow.timer t ORDER BY t.id", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfCapacity *cap;
		SfWorkflow *wf = row_workflow(c, caps, i, &cap);
		SfTimer    *t;
		char	   *to;
		char	   *what;

		if (wf == NULL || wf->ntimers >= cap->timers)
		{
			MemoryContextSwitchTo(old);
			continue;
		}
		t = &wf->timers[wf->ntimers];
		t->id = spi_int(i, 2);
		what = psprintf("timer %d", t->id);
		t->status = row_status(c, wf, spi_text(i, 3), what);
		t->after = spi_text(i, 4);
		t->at_column = spi_text(i, 5);
		to = spi_text(i, 6);
		t->to = to ? row_status(c, wf, to, what) : -1;
		t->event = spi_text(i, 7);
		if (t->status >= 0 && (to == NULL || t->to >= 0) &&
			((to == NULL) != (t->event == NULL)) &&
			(t->after != NULL || t->at_column != NULL))
			wf->ntimers++;
		else
			set_broken(&wf->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
					   psprintf("%s is not a timer statusflow can run", what));
		MemoryContextSwitchTo(old);
	}
}

/* Load statusflow.action. */
static void
load_actions(SfCache *c, SfCapacity *caps, Snapshot snap)
{
	int			i;

	if (!has_action_table())
		return;
	spi_run("SELECT a.workflow, a.id, a.on_leave, a.on_event, a.on_enter,"
			" a.action::pg_catalog.oid"
			" FROM statusflow.action a ORDER BY a.id", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfCapacity *cap;
		SfWorkflow *wf = row_workflow(c, caps, i, &cap);
		SfAction   *a;
		char	   *leave;
		char	   *enter;
		bool		isnull;

		if (wf == NULL || wf->nactions >= cap->actions)
		{
			MemoryContextSwitchTo(old);
			continue;
		}
		a = &wf->actions[wf->nactions];
		a->id = spi_int(i, 2);
		leave = spi_text(i, 3);
		a->event = spi_text(i, 4);
		enter = spi_text(i, 5);
		a->function = DatumGetObjectId(spi_datum(i, 6, &isnull));
		a->when = leave ? SF_ACTION_LEAVE : a->event ? SF_ACTION_EVENT : SF_ACTION_ENTER;
		a->status = leave || enter ?
			row_status(c, wf, leave ? leave : enter, psprintf("action %d", a->id)) : -1;
		if ((a->event != NULL) != (a->status < 0) || isnull)
			set_broken(&wf->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
					   psprintf("action %d is not an action statusflow can run", a->id));
		else
			wf->nactions++;
		MemoryContextSwitchTo(old);
	}
}

/* Read one quota row of the current SPI result; false when it is unusable. */
static bool
read_quota(SfCache *c, SfWorkflow *wf, SfQuota *q, int row)
{
	Datum	   *labels;
	bool	   *nulls;
	bool		isnull;
	char	   *overflow;
	char	   *what;
	int			n,
				k;

	q->id = spi_int(row, 2);
	what = psprintf("quota %d", q->id);
	q->counted = palloc0(sizeof(bool) * Max(wf->nstatuses, 1));
	deconstruct_array(DatumGetArrayTypeP(spi_datum(row, 3, &isnull)), TEXTOID,
					  -1, false, TYPALIGN_INT, &labels, &nulls, &n);
	for (k = 0; k < n; k++)
	{
		int			s = row_status(c, wf, nulls[k] ? NULL :
								   TextDatumGetCString(labels[k]), what);

		if (s < 0)
			return false;
		q->counted[s] = true;
	}
	q->per_column = spi_text(row, 4);
	q->max_entries = Max(spi_int(row, 5), 0);
	q->period = spi_text(row, 6);
	overflow = spi_text(row, 7);
	q->overflow = overflow ? row_status(c, wf, overflow, what) : -1;
	return q->per_column != NULL && q->period != NULL &&
		(overflow == NULL || q->overflow >= 0);
}

/* Load statusflow.quota. */
static void
load_quotas(SfCache *c, SfCapacity *caps, Snapshot snap)
{
	int			i;

	spi_run("SELECT q.workflow, q.id, q.statuses, q.per_column::pg_catalog.text,"
			" q.max_entries, q.period, q.overflow_status"
			" FROM statusflow.quota q ORDER BY q.id", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfCapacity *cap;
		SfWorkflow *wf = row_workflow(c, caps, i, &cap);

		if (wf != NULL && wf->nquotas < cap->quotas)
		{
			if (read_quota(c, wf, &wf->quotas[wf->nquotas], i))
				wf->nquotas++;
			else
				set_broken(&wf->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
						   psprintf("quota %d is not a quota statusflow can apply",
									wf->quotas[wf->nquotas].id));
		}
		MemoryContextSwitchTo(old);
	}
}

static int
cmp_binding_id(const void *a, const void *b)
{
	return ((const SfBinding *) a)->id - ((const SfBinding *) b)->id;
}

/*
 * Read the key columns of binding row i (names, types, typmods: columns 7
 * to 9); false when they do not match the table.
 */
static bool
read_keys(SfBinding *b, int i)
{
	Datum	   *names;
	Datum	   *types;
	Datum	   *typmods;
	bool		isnull[3];
	int			n1,
				n2,
				n3,
				k;

	(void) spi_datum(i, 7, &isnull[0]);
	(void) spi_datum(i, 8, &isnull[1]);
	(void) spi_datum(i, 9, &isnull[2]);
	if (isnull[0] || isnull[1] || isnull[2])
		return false;
	deconstruct_array(DatumGetArrayTypeP(spi_datum(i, 7, &isnull[0])),
					  TEXTOID, -1, false, TYPALIGN_INT, &names, NULL, &n1);
	deconstruct_array(DatumGetArrayTypeP(spi_datum(i, 8, &isnull[1])),
					  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &types, NULL, &n2);
	deconstruct_array(DatumGetArrayTypeP(spi_datum(i, 9, &isnull[2])),
					  INT4OID, sizeof(int32), true, TYPALIGN_INT, &typmods, NULL, &n3);
	if (n1 != n2 || n1 != n3 || n1 == 0 || n1 > INDEX_MAX_KEYS)
		return false;
	b->nkeys = n1;
	b->history.att_keys = palloc(sizeof(AttrNumber) * n1);
	b->key_names = palloc(sizeof(char *) * n1);
	b->key_types = palloc(sizeof(Oid) * n1);
	b->key_typmods = palloc(sizeof(int32) * n1);
	for (k = 0; k < n1; k++)
	{
		b->key_names[k] = TextDatumGetCString(names[k]);
		b->key_types[k] = DatumGetObjectId(types[k]);
		b->key_typmods[k] = DatumGetInt32(typmods[k]);
	}
	return true;
}

/* Load statusflow.binding with the types of the key columns. */
static void
load_bindings(SfCache *c, Snapshot snap)
{
	int			i;

	spi_run("SELECT b.id, b.table_name::pg_catalog.oid, b.column_name::pg_catalog.text,"
			" b.workflow, b.history_table::pg_catalog.oid,"
			" pg_catalog.format('%I.%I', n.nspname, r.relname),"
			" b.key_columns::pg_catalog.text[],"
			" ARRAY(SELECT a.atttypid FROM pg_catalog.unnest(b.key_columns)"
			"       WITH ORDINALITY k(col, ord)"
			"       JOIN pg_catalog.pg_attribute a"
			"         ON a.attrelid OPERATOR(pg_catalog.=) b.table_name::pg_catalog.oid"
			"        AND a.attname OPERATOR(pg_catalog.=) k.col ORDER BY k.ord),"
			" ARRAY(SELECT a.atttypmod FROM pg_catalog.unnest(b.key_columns)"
			"       WITH ORDINALITY k(col, ord)"
			"       JOIN pg_catalog.pg_attribute a"
			"         ON a.attrelid OPERATOR(pg_catalog.=) b.table_name::pg_catalog.oid"
			"        AND a.attname OPERATOR(pg_catalog.=) k.col ORDER BY k.ord),"
			" b.entered_at_column::pg_catalog.text, r.relowner,"
			" b.notify_channel,"
			" (SELECT pg_catalog.format('%I.%I', hn.nspname, h.relname)"
			"  FROM pg_catalog.pg_class h JOIN pg_catalog.pg_namespace hn"
			"    ON hn.oid OPERATOR(pg_catalog.=) h.relnamespace"
			"  WHERE h.oid OPERATOR(pg_catalog.=) b.history_table::pg_catalog.oid),"
			" n.nspname::pg_catalog.text, r.relname::pg_catalog.text"
			" FROM statusflow.binding b"
			" JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) b.table_name::pg_catalog.oid"
			" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.relnamespace",
			snap);
	c->nbindings = SPI_processed;
	c->bindings = MemoryContextAllocZero(c->cxt,
										 sizeof(SfBinding) * Max(c->nbindings, 1));
	for (i = 0; i < c->nbindings; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfBinding  *b = &c->bindings[i];
		char	   *wname;
		bool		isnull;

		b->cxt = c->cxt;
		b->id = spi_int(i, 1);
		b->relid = DatumGetObjectId(spi_datum(i, 2, &isnull));
		b->column = spi_text(i, 3);
		wname = spi_text(i, 4);
		b->workflow = wname ? find_workflow(c, wname) : NULL;
		b->history_relid = DatumGetObjectId(spi_datum(i, 5, &isnull));
		b->relname = spi_text(i, 6);
		b->entered_at_column = spi_text(i, 10);
		b->owner = DatumGetObjectId(spi_datum(i, 11, &isnull));
		b->notify_channel = spi_text(i, 12);
		b->history_relname = spi_text(i, 13);
		b->schema_name = spi_text(i, 14);
		b->table_name = spi_text(i, 15);
		b->constraint_name = psprintf("%s_%s_workflow", b->table_name, b->column);
		if (b->workflow == NULL)
			set_broken(&b->broken, c->cxt, ERRCODE_INVALID_OBJECT_DEFINITION,
					   psprintf("its workflow \"%s\" does not exist", wname));
		else if (b->history_relname == NULL)
			set_broken(&b->broken, c->cxt, ERRCODE_UNDEFINED_TABLE,
					   "its history table does not exist");
		else if (!read_keys(b, i))
			set_broken(&b->broken, c->cxt, ERRCODE_UNDEFINED_COLUMN,
					   "its key columns are not columns of the table");
		MemoryContextSwitchTo(old);
	}
	qsort(c->bindings, c->nbindings, sizeof(SfBinding), cmp_binding_id);
}

/* Remember the catalog tables' OIDs, to recognise their invalidations. */
static void
lookup_catalog_relids(void)
{
	Oid			nsp = get_namespace_oid("statusflow", true);
	int			i;

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("extension \"statusflow\" is not installed in this database")));
	for (i = 0; i < SF_CATALOG_TABLES; i++)
		catalog_relids[i] = get_relname_relid(catalog_names[i], nsp);
}

/*
 * Read every catalog table into the cache c.  Not inlined: its locals must
 * stay out of the frame of sf_cache_load()'s PG_TRY.
 */
static pg_noinline void
load_catalog(SfCache *c)
{
	SfCapacity *caps;
	Snapshot	snap;

	lookup_catalog_relids();
	sf_citus_detect();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	/* latest committed state, even under a repeatable-read snapshot */
	snap = RegisterSnapshot(GetLatestSnapshot());
	caps = load_workflows(c, snap);
	load_statuses(c, caps, snap);
	index_statuses(c);
	load_transitions(c, caps, snap);
	load_quotas(c, caps, snap);
	load_timers(c, caps, snap);
	load_actions(c, caps, snap);
	load_bindings(c, snap);
	UnregisterSnapshot(snap);
	SPI_finish();
}

/* Read the whole catalog into a new cache generation. */
static SfCache *
sf_cache_load(void)
{
	SfCache    *c;
	MemoryContext cxt;

	cxt = AllocSetContextCreate(CacheMemoryContext, "statusflow cache",
								ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(SfCache));
	c->cxt = cxt;
	PG_TRY();
	{
		load_catalog(c);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return c;
}

/* The current cache, rebuilt first if an invalidation made it stale. */
static SfCache *
sf_cache(void)
{
	if (!cache_valid || cache == NULL)
	{
		SfCache    *fresh;

		/* an invalidation arriving while we load clears this again */
		cache_valid = true;
		PG_TRY();
		{
			fresh = sf_cache_load();
		}
		PG_CATCH();
		{
			cache_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
		if (cache != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			retired = lappend(retired, cache);
			MemoryContextSwitchTo(old);
		}
		cache = fresh;
	}
	return cache;
}

/* Raise the error of a workflow statusflow cannot use. */
void
sf_check_workflow(SfWorkflow *wf)
{
	if (wf->broken.message == NULL)
		return;
	ereport(ERROR,
			(errcode(wf->broken.sqlerrcode),
			 errmsg("workflow \"%s\" cannot be used: %s", wf->name,
					wf->broken.message),
			 errhint("The owner of its type can repair it with the statusflow API; the view statusflow.workflows shows it.")));
}

/*
 * The error fields of a refusal on a binding's rows, for an ereport(): the
 * bound table's schema and name (the root of a partitioned table), the
 * status column, and the constraint name <table>_<column>_workflow, so that
 * an application maps a refusal to the binding as to a CHECK constraint.
 */
int
sf_errbinding(SfBinding *b)
{
	err_generic_string(PG_DIAG_SCHEMA_NAME, b->schema_name);
	err_generic_string(PG_DIAG_TABLE_NAME, b->table_name);
	err_generic_string(PG_DIAG_COLUMN_NAME, b->column);
	return err_generic_string(PG_DIAG_CONSTRAINT_NAME, b->constraint_name);
}

/* Raise the error of a binding (or its workflow) statusflow cannot use. */
void
sf_check_binding(SfBinding *b)
{
	if (b->broken.message != NULL)
		ereport(ERROR,
				(errcode(b->broken.sqlerrcode),
				 errmsg("statusflow binding %d of table %s cannot be used: %s",
						b->id, b->relname, b->broken.message),
				 errhint("Detach the column with statusflow.detach() and attach it again."),
				 err_generic_string(PG_DIAG_SCHEMA_NAME, b->schema_name),
				 err_generic_string(PG_DIAG_TABLE_NAME, b->table_name),
				 err_generic_string(PG_DIAG_COLUMN_NAME, b->column)));
	sf_check_workflow(b->workflow);
}

/* The binding of an id, checked usable; NULL when there is none. */
SfBinding *
sf_binding_by_id(int binding_id)
{
	SfCache    *c = sf_cache();
	SfBinding	key;
	SfBinding  *b;

	key.id = binding_id;
	b = bsearch(&key, c->bindings, c->nbindings, sizeof(SfBinding),
				cmp_binding_id);
	if (b != NULL)
		sf_check_binding(b);
	return b;
}

/*
 * The binding of an id an internal function was given, checked; raises
 * when there is none.
 */
SfBinding *
sf_binding_arg(int binding_id)
{
	SfBinding  *b = sf_binding_by_id(binding_id);

	if (b == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("statusflow binding %d does not exist", binding_id)));
	return b;
}

/*
 * The number of bindings, and the i-th, to go through all of them; these
 * are not checked (see sf_check_binding).
 */
int
sf_binding_count(void)
{
	return sf_cache()->nbindings;
}

SfBinding *
sf_binding_at(int i)
{
	return &sf_cache()->bindings[i];
}

/*
 * The binding of a table's column, checked usable; column may be NULL when
 * the table has exactly one bound column.
 */
SfBinding *
sf_binding_for_table(Oid relid, const char *column)
{
	SfCache    *c = sf_cache();
	SfBinding  *found = NULL;
	int			i,
				n = 0;

	for (i = 0; i < c->nbindings; i++)
	{
		SfBinding  *b = &c->bindings[i];

		if (b->relid != relid)
			continue;
		if (column != NULL && strcmp(b->column, column) != 0)
			continue;
		found = b;
		n++;
	}
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table %s has no statusflow binding%s%s",
						sf_relation_name(relid),
						column ? " on column " : "",
						column ? quote_identifier(column) : ""),
				 errhint("Attach a workflow with statusflow.attach().")));
	if (n > 1)
		ereport(ERROR,
				(errcode(ERRCODE_AMBIGUOUS_PARAMETER),
				 errmsg("table %s has several bound columns", found->relname),
				 errhint("Name the column with column_name.")));
	sf_check_binding(found);
	return found;
}

/* schema.table, quoted as needed, for messages. */
char *
sf_relation_name(Oid relid)
{
	char	   *rel = get_rel_name(relid);
	char	   *nsp;

	if (rel == NULL)
		return psprintf("with OID %u", relid);
	nsp = get_namespace_name(get_rel_namespace(relid));
	return quote_qualified_identifier(nsp ? nsp : "?", rel);
}

/* A workflow by name, checked usable; NULL (missing_ok) when there is none. */
SfWorkflow *
sf_workflow_by_name(const char *name, bool missing_ok)
{
	SfWorkflow *wf = find_workflow(sf_cache(), name);

	if (wf == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("workflow \"%s\" does not exist", name),
				 errhint("The view statusflow.workflows lists the workflows.")));
	if (wf != NULL)
		sf_check_workflow(wf);
	return wf;
}

/*
 * The attribute number of a column statusflow uses in a bound relation,
 * checking its type when one is given.
 */
static AttrNumber
bound_attnum(SfBinding *b, TupleDesc tupdesc, const char *column, Oid type)
{
	AttrNumber	att = SPI_fnumber(tupdesc, column);

	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table %s, used by statusflow, no longer exists",
						column, b->relname),
				 errhint("A column statusflow uses keeps its name; rename it back, or detach the workflow with statusflow.detach() and attach it again."),
				 err_generic_string(PG_DIAG_SCHEMA_NAME, b->schema_name),
				 err_generic_string(PG_DIAG_TABLE_NAME, b->table_name)));
	if (OidIsValid(type) && TupleDescAttr(tupdesc, att - 1)->atttypid != type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table %s is no longer of type %s",
						column, b->relname, format_type_be(type)),
				 errhint("Change it back, or detach the workflow with statusflow.detach() and attach it again."),
				 err_generic_string(PG_DIAG_SCHEMA_NAME, b->schema_name),
				 err_generic_string(PG_DIAG_TABLE_NAME, b->table_name),
				 err_generic_string(PG_DIAG_COLUMN_NAME, column)));
	return att;
}

/*
 * Follow a change of the type of a key column of the bound table (ALTER
 * TABLE ... ALTER COLUMN ... TYPE): the binding's plans, prepared for the
 * old types, are prepared again, and the history table's key columns are
 * checked against the new ones (see writer.c).
 */
static void
follow_key_types(SfBinding *b, TupleDesc tupdesc, AttrNumber *attnums)
{
	int			k;

	for (k = 0; k < b->nkeys; k++)
	{
		Form_pg_attribute a = TupleDescAttr(tupdesc, attnums[k] - 1);

		if (a->atttypid == b->key_types[k] && a->atttypmod == b->key_typmods[k])
			continue;
		b->key_types[k] = a->atttypid;
		b->key_typmods[k] = a->atttypmod;
		retire_plans(b);
		b->history.valid = false;
	}
}

/*
 * Where the binding's columns are in rel, the bound table, one of its
 * partitions or one of its Citus shards (with its history shard).  Refuses
 * relations that belong to another binding, so that a trigger created by
 * hand with another binding's id cannot write into that binding's history.
 */
SfRelInfo *
sf_binding_relinfo(SfBinding *b, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	SfRelInfo  *ri = NULL;
	Oid			history = InvalidOid;
	MemoryContext old;
	int			i;

	for (i = 0; i < b->nrels; i++)
	{
		if (b->rels[i].relid != relid)
			continue;
		if (b->rels[i].valid)
			return &b->rels[i];
		ri = &b->rels[i];
		break;
	}

	if (relid != b->relid &&
		!(rel->rd_rel->relispartition &&
		  list_member_oid(get_partition_ancestors(relid), b->relid)) &&
		!OidIsValid(history = sf_citus_history_shard(b, rel)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("statusflow trigger of binding %d fired on table \"%s\", which that binding does not cover",
						b->id, RelationGetRelationName(rel)),
				 errhint("Attach workflows with statusflow.attach() only.")));

	old = MemoryContextSwitchTo(b->cxt);
	if (ri == NULL)
	{
		if (b->nrels == b->maxrels)
		{
			b->maxrels = Max(4, b->maxrels * 2);
			b->rels = b->rels ? repalloc(b->rels, sizeof(SfRelInfo) * b->maxrels)
				: palloc(sizeof(SfRelInfo) * b->maxrels);
		}
		ri = &b->rels[b->nrels++];
		ri->key_attnums = palloc(sizeof(AttrNumber) * b->nkeys);
	}
	ri->relid = relid;
	ri->history_relid = history;
	ri->status_attnum = bound_attnum(b, tupdesc, b->column, b->workflow->type_oid);
	for (i = 0; i < b->nkeys; i++)
		ri->key_attnums[i] = bound_attnum(b, tupdesc, b->key_names[i], InvalidOid);
	follow_key_types(b, tupdesc, ri->key_attnums);
	ri->entered_at_attnum = b->entered_at_column ?
		bound_attnum(b, tupdesc, b->entered_at_column, TIMESTAMPTZOID) : 0;
	ri->quota_attnums = palloc(sizeof(AttrNumber) * Max(b->workflow->nquotas, 1));
	for (i = 0; i < b->workflow->nquotas; i++)
		ri->quota_attnums[i] = bound_attnum(b, tupdesc,
											b->workflow->quotas[i].per_column,
											InvalidOid);
	/* conditions are compiled for this row type when first needed */
	ri->transition_conds = palloc0(sizeof(ExprState *) *
								   Max(b->workflow->ntransitions, 1));
	ri->status_conds = palloc0(sizeof(ExprState *) * Max(b->workflow->nstatuses, 1));
	ri->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(tupdesc),
										&TTSOpsHeapTuple);
	ri->old_slot = MakeSingleTupleTableSlot(ri->slot->tts_tupleDescriptor,
											&TTSOpsHeapTuple);
	ri->valid = true;
	MemoryContextSwitchTo(old);
	return ri;
}

/* Index of the status whose enum value is enum_oid, or -1. */
int
sf_status_index(SfWorkflow *wf, Oid enum_oid)
{
	int			lo = 0,
				hi = wf->nstatuses - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (wf->sorted_oids[mid] == enum_oid)
			return wf->sorted_index[mid];
		if (wf->sorted_oids[mid] < enum_oid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Index of a label, or an error naming the workflow's statuses. */
int
sf_require_status(SfWorkflow *wf, const char *label)
{
	int			i = sf_status_by_label(wf, label);

	if (i < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("status \"%s\" is not part of workflow \"%s\"",
						label, wf->name),
				 errhint("Its statuses are: %s.", sf_status_list(wf, false))));
	return i;
}

/*
 * The transition from -> to, preferring one with the given event; -1 when
 * the workflow declares none.
 */
int
sf_find_transition(SfWorkflow *wf, int from, int to, const char *event)
{
	int			e = from * wf->nstatuses + to;
	int			first = wf->edge_first[e];
	int			i;

	if (first < 0 || event == NULL)
		return first;
	for (i = first; i < first + wf->edge_count[e]; i++)
		if (wf->transitions[i].event && strcmp(wf->transitions[i].event, event) == 0)
			return i;
	return first;
}

/* The key column values of a row of a bound relation. */
void
sf_row_keys(SfBinding *b, SfRelInfo *ri, TupleDesc tupdesc, HeapTuple tuple,
			Datum *keys, bool *nulls)
{
	int			k;

	for (k = 0; k < b->nkeys; k++)
		keys[k] = heap_getattr(tuple, ri->key_attnums[k], tupdesc, &nulls[k]);
}

/*
 * A plan of the binding, prepared from sql on first use and kept until the
 * cache generation is freed.  Callers build sql only when
 * binding->plans[kind] is still NULL.
 */
SPIPlanPtr
sf_binding_plan(SfBinding *b, SfPlanKind kind, const char *sql, int nargs,
				Oid *argtypes)
{
	SPIPlanPtr	plan;

	if (b->plans[kind])
		return b->plans[kind];
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "statusflow: could not prepare query: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	b->plans[kind] = plan;
	return plan;
}

/*
 * "a, b": the key columns of a binding, quoted as needed; with an alias
 * ("t"), "t.a, t.b".
 */
char *
sf_key_columns(SfBinding *b, const char *alias)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(&buf, "%s%s%s%s", k ? ", " : "", alias ? alias : "",
						 alias ? "." : "", quote_identifier(b->key_names[k]));
	return buf.data;
}

/*
 * "a.k1 OPERATOR(s.=) c.k1 AND ...": the rows of aliases a and c have the
 * same key (generated SQL names its operators).
 */
char *
sf_same_key(SfBinding *b, const char *a, const char *c)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(&buf, "%s%s.%s OPERATOR(%s) %s.%s", k > 0 ? " AND " : "",
						 a, quote_identifier(b->key_names[k]),
						 sf_equality_operator(b->key_types[k]),
						 c, quote_identifier(b->key_names[k]));
	return buf.data;
}

/* "(a, b)=(1, 2)": key values in the form PostgreSQL prints keys. */
char *
sf_format_key(SfBinding *b, Datum *keys, bool *nulls)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	appendStringInfo(&buf, "(%s)=(", sf_key_columns(b, NULL));
	for (k = 0; k < b->nkeys; k++)
	{
		Oid			typoutput;
		bool		varlena;

		if (k)
			appendStringInfoString(&buf, ", ");
		if (nulls[k])
		{
			appendStringInfoString(&buf, "null");
			continue;
		}
		getTypeOutputInfo(b->key_types[k], &typoutput, &varlena);
		appendStringInfoString(&buf, OidOutputFunctionCall(typoutput, keys[k]));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* "a", "b", "c": the workflow's statuses (or initial ones) in rank order. */
char *
sf_status_list(SfWorkflow *wf, bool initial_only)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < wf->nstatuses; i++)
	{
		if (initial_only && !wf->statuses[i].initial)
			continue;
		appendStringInfo(&buf, "%s\"%s\"", buf.len ? ", " : "",
						 wf->statuses[i].label);
	}
	return buf.data;
}

/*
 * The distinct statuses the current role may reach in one step from a
 * status (roles only: conditions and uses depend on the row), in rank
 * order, as a hint: "Allowed next statuses from "x": "a", "b"."
 */
char *
sf_allowed_hint(SfWorkflow *wf, int from)
{
	StringInfoData buf;
	bool	   *seen = palloc0(sizeof(bool) * (wf->nstatuses + 1));
	bool		any = false;
	int			i,
				to;

	for (i = 0; i < wf->ntransitions; i++)
	{
		if (wf->transitions[i].from != from)
			continue;
		any |= (wf->transitions[i].to != from);
		if (sf_roles_allow(&wf->transitions[i]))
			seen[wf->transitions[i].to < 0 ? wf->nstatuses : wf->transitions[i].to] = true;
	}
	initStringInfo(&buf);
	for (to = 0; to < wf->nstatuses; to++)
		if (seen[to] && to != from)
			appendStringInfo(&buf, "%s\"%s\"", buf.len ? ", " : "", wf->statuses[to].label);
	if (seen[wf->nstatuses])
		appendStringInfo(&buf, "%sthe previous status", buf.len ? ", " : "");
	if (buf.len == 0 && wf->statuses[from].terminal)
		return psprintf("\"%s\" is a terminal status: no transition leaves it.",
						wf->statuses[from].label);
	if (buf.len == 0)
		return psprintf(any ? "No transition from \"%s\" is open to role \"%s\"." :
						"No transition leaves \"%s\".", wf->statuses[from].label,
						GetUserNameFromId(GetUserId(), false));
	return psprintf("Allowed next statuses from \"%s\": %s.", wf->statuses[from].label,
					buf.data);
}

/* The events that apply to a status, with their targets. */
char *
sf_events_list(SfWorkflow *wf, int from)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < wf->ntransitions; i++)
	{
		SfTransition *t = &wf->transitions[i];

		if (t->from == from && t->event)
			appendStringInfo(&buf, "%s\"%s\" (to %s)", buf.len ? ", " : "",
							 t->event,
							 t->to < 0 ? "the previous status" :
							 psprintf("\"%s\"", wf->statuses[t->to].label));
	}
	return buf.data;
}

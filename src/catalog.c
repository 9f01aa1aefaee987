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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "statusflow.h"

#define SF_CATALOG_TABLES 6

typedef struct SfCache
{
	MemoryContext cxt;
	int			nworkflows;
	SfWorkflow *workflows;		/* ordered by name */
	int			nbindings;
	SfBinding  *bindings;		/* ordered by id */
} SfCache;

static SfCache *cache = NULL;
static bool cache_valid = false;
static List *retired = NIL;		/* stale caches, freed at transaction end */
static Oid	catalog_relids[SF_CATALOG_TABLES];

static const char *const catalog_names[SF_CATALOG_TABLES] = {
		"workflow", "status", "transition", "binding", "quota", "timer"
};

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
			b->history.valid = false;
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

/* Free one cache generation and the plans its bindings prepared. */
static void
sf_cache_free(SfCache *c)
{
	int			i,
				k;

		for (i = 0; i < c->nbindings; i++)
	{
		SfBinding  *b = &c->bindings[i];

		for (k = 0; k < SF_PLAN_COUNT; k++)
			if (b->plans[k])
				SPI_freeplan(b->plans[k]);
		for (k = 0; b->timer_plans && k < 2 * b->workflow->ntimers; k++)
			if (b->timer_plans[k])
				SPI_freeplan(b->timer_plans[k]);
	}
	MemoryContextDelete(c->cxt);
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
						"statusflow._invalidate_cache()")));
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

/* Non-null Datum of column col of the current SPI row. */
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

/* Run one catalog query under the given snapshot. */
static void
spi_run(const char *sql, Snapshot snap)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "statusflow: could not prepare catalog query: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_execute_snapshot(plan, NULL, NULL, snap, InvalidSnapshot,
							 true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: catalog query failed: %s", sql);
	SPI_freeplan(plan);
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

/* Load statusflow.workflow; statuses and transitions are filled in later. */
static void
load_workflows(SfCache *c, Snapshot snap)
{
	int			i;

		spi_run("SELECT w.name, w.status_type::pg_catalog.oid, w.allow_null, w.monotonic,"
			" (SELECT pg_catalog.count(*) FROM statusflow.status s"
			"  WHERE s.workflow OPERATOR(pg_catalog.=) w.name),"
			" (SELECT pg_catalog.count(*) FROM statusflow.transition t"
			"  WHERE t.workflow OPERATOR(pg_catalog.=) w.name),"
						" (SELECT pg_catalog.count(*) FROM statusflow.quota q"
			"  WHERE q.workflow OPERATOR(pg_catalog.=) w.name),"
			" (SELECT pg_catalog.count(*) FROM statusflow.timer t"
			"  WHERE t.workflow OPERATOR(pg_catalog.=) w.name)"
			" FROM statusflow.workflow w", snap);
	c->nworkflows = SPI_processed;
	c->workflows = MemoryContextAllocZero(c->cxt,
										  sizeof(SfWorkflow) * Max(c->nworkflows, 1));
	for (i = 0; i < c->nworkflows; i++)
	{
		SfWorkflow *wf = &c->workflows[i];
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		int64		nstatus = DatumGetInt64(spi_datum(i, 5, &isnull));
		int64		ntrans = DatumGetInt64(spi_datum(i, 6, &isnull));
		int64		nquotas = DatumGetInt64(spi_datum(i, 7, &isnull));
		int64		ntimers = DatumGetInt64(spi_datum(i, 8, &isnull));

		wf->name = spi_text(i, 1);
		wf->type_oid = DatumGetObjectId(spi_datum(i, 2, &isnull));
		wf->allow_null = spi_bool(i, 3);
		wf->monotonic = spi_bool(i, 4);
		wf->statuses = palloc0(sizeof(SfStatus) * Max(nstatus, 1));
		wf->transitions = palloc0(sizeof(SfTransition) * Max(ntrans, 1));
		wf->quotas = palloc0(sizeof(SfQuota) * Max(nquotas, 1));
		wf->timers = palloc0(sizeof(SfTimer) * Max(ntimers, 1));
		MemoryContextSwitchTo(old);
	}
	qsort(c->workflows, c->nworkflows, sizeof(SfWorkflow), cmp_workflow_name);
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
 * The workflow named in the first column of SPI row i, which a catalog row
 * of kind what (status, transition, ...) belongs to; the foreign keys of the
 * catalog make a missing one an internal error.
 */
static SfWorkflow *
row_workflow(SfCache *c, int i, const char *what)
{
	char	   *wname = spi_text(i, 1);
	SfWorkflow *wf = find_workflow(c, wname);

	if (wf == NULL)
		elog(ERROR, "statusflow: %s of unknown workflow \"%s\"", what, wname);
	return wf;
}

/* Load statusflow.status in rank order, with each label's enum OID. */
static void
load_statuses(SfCache *c, Snapshot snap)
{
	int			i;

	spi_run("SELECT s.workflow, s.status, e.oid, s.is_initial, s.is_terminal,"
			" s.group_name, s.condition, s.is_sticky"
			" FROM statusflow.status s"
			" JOIN statusflow.workflow w ON w.name OPERATOR(pg_catalog.=) s.workflow"
			" LEFT JOIN pg_catalog.pg_enum e"
			"   ON e.enumtypid OPERATOR(pg_catalog.=) w.status_type::pg_catalog.oid"
			"  AND e.enumlabel::pg_catalog.text OPERATOR(pg_catalog.=) s.status"
			" ORDER BY s.workflow, e.enumsortorder", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfWorkflow *wf = row_workflow(c, i, "status");
		SfStatus   *st;
		bool		isnull;
		Datum		oid;

		st = &wf->statuses[wf->nstatuses++];
		st->label = spi_text(i, 2);
		oid = spi_datum(i, 3, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("status \"%s\" of workflow \"%s\" is not a label of its enum type",
							st->label, wf->name)));
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

/* Read one transition row of the current SPI result. */
static void
read_transition(SfWorkflow *wf, SfTransition *t, int row)
{
	char	   *from = spi_text(row, 3);
	char	   *to = spi_text(row, 4);
	bool		isnull;
	Datum		roles;

	t->id = DatumGetInt32(spi_datum(row, 2, &isnull));
	t->from = sf_status_by_label(wf, from);
	t->to = to ? sf_status_by_label(wf, to) : -1;
	if (t->from < 0 || (to && t->to < 0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("transition %d of workflow \"%s\" names an unknown status",
						t->id, wf->name)));
	t->event = spi_text(row, 5);
	t->automatic = spi_bool(row, 6);
	roles = spi_datum(row, 7, &isnull);
	if (!isnull)
	{
		Datum	   *elems;
		int			k;

		deconstruct_array(DatumGetArrayTypeP(roles), OIDOID, sizeof(Oid), true,
						  TYPALIGN_INT, &elems, NULL, &t->nroles);
		t->roles = palloc(sizeof(Oid) * Max(t->nroles, 1));
		for (k = 0; k < t->nroles; k++)
			t->roles[k] = DatumGetObjectId(elems[k]);
	}
	t->condition = spi_text(row, 8);
	t->require_reason = spi_bool(row, 9);
	t->max_uses = DatumGetInt32(spi_datum(row, 10, &isnull));
	if (isnull)
		t->max_uses = 0;
	wf->has_guards |= (t->nroles > 0 || t->condition || t->require_reason ||
					   t->max_uses > 0 || t->to < 0);
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
load_transitions(SfCache *c, Snapshot snap)
{
	int			i;

	spi_run("SELECT t.workflow, t.id, t.from_status, t.to_status, t.event,"
			" t.kind OPERATOR(pg_catalog.=) 'automatic',"
			" t.roles::pg_catalog.oid[], t.condition, t.require_reason, t.max_uses"
			" FROM statusflow.transition t", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfWorkflow *wf = row_workflow(c, i, "transition");

		read_transition(wf, &wf->transitions[wf->ntransitions++], i);
		MemoryContextSwitchTo(old);
	}
	index_transitions(c);
}

/* Load statusflow.timer. */
static void
load_timers(SfCache *c, Snapshot snap)
{
	int			i;

	spi_run("SELECT t.workflow, t.id, t.status, t.after::pg_catalog.text,"
			" t.at_column::pg_catalog.text, t.to_status, t.event"
			" FROM statusflow.timer t ORDER BY t.id", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfWorkflow *wf = row_workflow(c, i, "timer");
		SfTimer    *t;
		bool		isnull;
		char	   *to;

		t = &wf->timers[wf->ntimers++];
		t->id = DatumGetInt32(spi_datum(i, 2, &isnull));
		t->status = sf_require_status(wf, spi_text(i, 3));
		t->after = spi_text(i, 4);
		t->at_column = spi_text(i, 5);
		to = spi_text(i, 6);
		t->to = to ? sf_require_status(wf, to) : -1;
		t->event = spi_text(i, 7);
		MemoryContextSwitchTo(old);
	}
}

/* Load statusflow.quota. */
static void
load_quotas(SfCache *c, Snapshot snap)
{
	int			i;

	spi_run("SELECT q.workflow, q.id, q.statuses, q.per_column::pg_catalog.text,"
			" q.max_entries, q.period, q.overflow_status"
			" FROM statusflow.quota q ORDER BY q.id", snap);
	for (i = 0; i < (int) SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		SfWorkflow *wf = row_workflow(c, i, "quota");
		SfQuota    *q;
		Datum	   *labels;
		bool		isnull;
		char	   *overflow;
		int			n,
					k;

		q = &wf->quotas[wf->nquotas++];
		q->id = DatumGetInt32(spi_datum(i, 2, &isnull));
		q->counted = palloc0(sizeof(bool) * Max(wf->nstatuses, 1));
		deconstruct_array(DatumGetArrayTypeP(spi_datum(i, 3, &isnull)), TEXTOID,
						  -1, false, TYPALIGN_INT, &labels, NULL, &n);
		for (k = 0; k < n; k++)
			q->counted[sf_require_status(wf, TextDatumGetCString(labels[k]))] = true;
		q->per_column = spi_text(i, 4);
		q->max_entries = DatumGetInt32(spi_datum(i, 5, &isnull));
		q->period = spi_text(i, 6);
		overflow = spi_text(i, 7);
		q->overflow = overflow ? sf_require_status(wf, overflow) : -1;
		MemoryContextSwitchTo(old);
	}
}

static int
cmp_binding_id(const void *a, const void *b)
{
	return ((const SfBinding *) a)->id - ((const SfBinding *) b)->id;
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
			"  WHERE h.oid OPERATOR(pg_catalog.=) b.history_table::pg_catalog.oid)"
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
		bool		isnull;
		char	   *wname;
		Datum	   *names;
		Datum	   *types;
		Datum	   *typmods;
		int			n1,
					n2,
					n3,
					k;

		b->cxt = c->cxt;
		b->id = DatumGetInt32(spi_datum(i, 1, &isnull));
		b->relid = DatumGetObjectId(spi_datum(i, 2, &isnull));
		b->column = spi_text(i, 3);
		wname = spi_text(i, 4);
		b->workflow = find_workflow(c, wname);
		if (b->workflow == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("binding %d names unknown workflow \"%s\"", b->id, wname)));
		b->history_relid = DatumGetObjectId(spi_datum(i, 5, &isnull));
		b->relname = spi_text(i, 6);
		b->entered_at_column = spi_text(i, 10);
		b->owner = DatumGetObjectId(spi_datum(i, 11, &isnull));
		b->notify_channel = spi_text(i, 12);
		b->history_relname = spi_text(i, 13);
		deconstruct_array(DatumGetArrayTypeP(spi_datum(i, 7, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &names, NULL, &n1);
		deconstruct_array(DatumGetArrayTypeP(spi_datum(i, 8, &isnull)),
						  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &types, NULL, &n2);
		deconstruct_array(DatumGetArrayTypeP(spi_datum(i, 9, &isnull)),
						  INT4OID, sizeof(int32), true, TYPALIGN_INT, &typmods, NULL, &n3);
		if (n1 != n2 || n1 != n3 || n1 == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("key columns of binding %d do not match table %s",
							b->id, b->relname)));
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

/* Read the whole catalog into a new cache generation. */
static SfCache *
sf_cache_load(void)
{
	SfCache    *c;
	MemoryContext cxt;
	Snapshot	snap;

	cxt = AllocSetContextCreate(CacheMemoryContext, "statusflow cache",
								ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(SfCache));
	c->cxt = cxt;
	PG_TRY();
	{
		lookup_catalog_relids();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "statusflow: SPI_connect failed");
		/* latest committed state, even under a repeatable-read snapshot */
		snap = RegisterSnapshot(GetLatestSnapshot());
		load_workflows(c, snap);
		load_statuses(c, snap);
		index_statuses(c);
		load_transitions(c, snap);
		load_quotas(c, snap);
		load_timers(c, snap);
		load_bindings(c, snap);
		UnregisterSnapshot(snap);
		SPI_finish();
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

SfBinding *
sf_binding_by_id(int binding_id)
{
	SfCache    *c = sf_cache();
	SfBinding	key;

	key.id = binding_id;
	return bsearch(&key, c->bindings, c->nbindings, sizeof(SfBinding),
				   cmp_binding_id);
}

/* The number of bindings, and the i-th, to go through all of them. */
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
 * The binding of a table's column; column may be NULL when the table has
 * exactly one bound column.
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
	return found;
}

/* schema.table, quoted as needed, for messages. */
char *
sf_relation_name(Oid relid)
{
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		return psprintf("with OID %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  rel);
}

SfWorkflow *
sf_workflow_by_name(const char *name, bool missing_ok)
{
	SfWorkflow *wf = find_workflow(sf_cache(), name);

	if (wf == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("workflow \"%s\" does not exist", name),
				 errhint("The view statusflow.workflows lists the workflows.")));
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
				 errhint("A column statusflow uses keeps its name; rename it back, or detach the workflow with statusflow.detach() and attach it again.")));
	if (OidIsValid(type) && TupleDescAttr(tupdesc, att - 1)->atttypid != type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table %s is no longer of type %s",
						column, b->relname, format_type_be(type)),
				 errhint("Detach the workflow with statusflow.detach() and attach it again.")));
	return att;
}

/*
 * Where the binding's columns are in rel, the bound table or one of its
 * partitions.  Refuses relations that belong to another binding, so that a
 * trigger created by hand with another binding's id cannot write into that
 * binding's history.
 */
SfRelInfo *
sf_binding_relinfo(SfBinding *b, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	SfRelInfo  *ri = NULL;
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
		  list_member_oid(get_partition_ancestors(relid), b->relid)))
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
	ri->status_attnum = bound_attnum(b, tupdesc, b->column, b->workflow->type_oid);
	for (i = 0; i < b->nkeys; i++)
		ri->key_attnums[i] = bound_attnum(b, tupdesc, b->key_names[i], InvalidOid);
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

/* "a, b": the key columns of a binding, quoted as needed. */
char *
sf_key_columns(SfBinding *b)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(&buf, "%s%s", k ? ", " : "",
						 quote_identifier(b->key_names[k]));
	return buf.data;
}

/* "(a, b)=(1, 2)": key values in the form PostgreSQL prints keys. */
char *
sf_format_key(SfBinding *b, Datum *keys, bool *nulls)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	appendStringInfo(&buf, "(%s)=(", sf_key_columns(b));
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

/* The distinct statuses reachable in one step from a status, in rank order. */
char *
sf_targets_list(SfWorkflow *wf, int from)
{
	StringInfoData buf;
	int			to;

	initStringInfo(&buf);
	for (to = 0; to < wf->nstatuses; to++)
		if (wf->edge_first[from * wf->nstatuses + to] >= 0)
			appendStringInfo(&buf, "%s\"%s\"", buf.len ? ", " : "",
							 wf->statuses[to].label);
	if (wf->restore_first[from] >= 0)
		appendStringInfo(&buf, "%sthe previous status", buf.len ? ", " : "");
	return buf.data;
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

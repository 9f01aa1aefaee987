/*-------------------------------------------------------------------------
 *
 * citus_guard.c
 *	  Stop Citus's own distribution functions on a bound table.
 *
 * create_distributed_table() on a table bound by statusflow would either be
 * refused by Citus with a hint to drop statusflow's triggers (removing
 * enforcement), or, with citus.enable_unsafe_triggers on, leave the table's
 * history behind on the coordinator.  statusflow.distribute() is the way to
 * distribute a bound table.  A post_parse_analyze hook, installed only when
 * Citus is loaded, finds calls of Citus's functions that make a table a
 * Citus table whose table argument is a constant naming a bound table, and
 * refuses the statement before it runs, so before Citus changes anything.
 * A call whose table argument is not a constant (a variable, a parameter,
 * an expression) is not seen here; Citus's own refusal of the triggers
 * then applies, also before any change.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "statusflow.h"

/* Citus's functions that make their first argument a Citus table */
static const struct
{
	const char *name;
	bool		hash;			/* a hash-distributed table (else reference
								 * or local) */
}			citus_makers[] =
{
	{"create_distributed_table", true},
	{"create_distributed_table_concurrently", true},
	{"create_reference_table", false},
	{"citus_add_local_table_to_metadata", false},
};

#define NMAKERS ((int) lengthof(citus_makers))
#define MAX_OVERLOADS 4

/* their pg_proc OIDs, found once per backend (again after pg_proc changes) */
static Oid	maker_oids[NMAKERS][MAX_OVERLOADS];
static bool makers_known = false;

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;

static void
forget_makers(Datum arg, int cacheid, uint32 hashvalue)
{
	makers_known = false;
}

/* Find the OIDs of Citus's functions in pg_catalog, by name. */
static void
find_makers(void)
{
	int			m;

	for (m = 0; m < NMAKERS; m++)
	{
		CatCList   *list = SearchSysCacheList1(PROCNAMEARGSNSP,
											   CStringGetDatum(citus_makers[m].name));
		int			i,
					n = 0;

		for (i = 0; i < list->n_members && n < MAX_OVERLOADS; i++)
		{
			Form_pg_proc p = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

			if (p->pronamespace == PG_CATALOG_NAMESPACE)
				maker_oids[m][n++] = p->oid;
		}
		for (; n < MAX_OVERLOADS; n++)
			maker_oids[m][n] = InvalidOid;
		ReleaseSysCacheList(list);
	}
	makers_known = true;
}

/* Which of citus_makers funcid is, or -1. */
static int
maker_of(Oid funcid)
{
	int			m,
				i;

	for (m = 0; m < NMAKERS; m++)
		for (i = 0; i < MAX_OVERLOADS && OidIsValid(maker_oids[m][i]); i++)
			if (maker_oids[m][i] == funcid)
				return m;
	return -1;
}

/* The table a call names as its first argument by a constant, or InvalidOid. */
static Oid
constant_table_argument(FuncExpr *call)
{
	ListCell   *lc;

	foreach(lc, call->args)
	{
		Node	   *arg = lfirst(lc);

		if (IsA(arg, NamedArgExpr))
		{
			if (((NamedArgExpr *) arg)->argnumber != 0)
				continue;
			arg = (Node *) ((NamedArgExpr *) arg)->arg;
		}
		else if (foreach_current_index(lc) != 0)
			continue;
		if (IsA(arg, Const) && ((Const *) arg)->consttype == REGCLASSOID &&
			!((Const *) arg)->constisnull)
			return DatumGetObjectId(((Const *) arg)->constvalue);
		return InvalidOid;
	}
	return InvalidOid;
}

/* Is a column of relid bound by statusflow (in a database that has it)? */
static bool
table_is_bound(Oid relid)
{
	int			i;

	if (!OidIsValid(get_extension_oid("statusflow", true)))
		return false;
	for (i = 0; i < sf_binding_count(); i++)
		if (sf_binding_at(i)->relid == relid)
			return true;
	return false;
}

/* Refuse a call of Citus's function m on bound table relid. */
static void
refuse_maker(int m, Oid relid)
{
	const char *table = sf_relation_name(relid);

	if (citus_makers[m].hash)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table %s is bound by statusflow and cannot be distributed by %s()",
						table, citus_makers[m].name),
				 errdetail("Citus refuses statusflow's triggers, and dropping them would remove the table's enforcement."),
				 errhint("Distribute it with statusflow.distribute(), which distributes its history tables with it and keeps its triggers.")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("table %s is bound by statusflow and cannot be made a Citus table by %s()",
					table, citus_makers[m].name),
			 errhint("statusflow binds only hash-distributed Citus tables: distribute it with statusflow.distribute(), or detach the workflow with statusflow.detach() first.")));
}

static bool
find_maker_calls(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, find_maker_calls, context, 0);
	if (IsA(node, FuncExpr))
	{
		int			m = maker_of(((FuncExpr *) node)->funcid);

		if (m >= 0)
		{
			Oid			relid = constant_table_argument((FuncExpr *) node);

			if (OidIsValid(relid) && table_is_bound(relid))
				refuse_maker(m, relid);
		}
	}
	return expression_tree_walker(node, find_maker_calls, context);
}

static void
guard_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
	if (query->commandType == CMD_UTILITY || !IsTransactionState())
		return;
	if (!makers_known)
		find_makers();
	find_maker_calls((Node *) query, NULL);
}

/*
 * Install the hook when Citus is loaded (its settings exist): from
 * _PG_init(), which runs after Citus's, which must be first in
 * shared_preload_libraries.
 */
void
sf_citus_guard_init(void)
{
	if (GetConfigOption("citus.enable_unsafe_triggers", true, false) == NULL)
		return;
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = guard_post_parse_analyze;
	CacheRegisterSyscacheCallback(PROCOID, forget_makers, (Datum) 0);
}

/*-------------------------------------------------------------------------
 *
 * guards.c
 *	  Row conditions and the guards of transitions.
 *
 * A transition may carry guards: the roles allowed to take it, a row
 * condition (a SQL boolean expression over the row), a required reason, and
 * the most times one entity may take it.  A transition without a target
 * goes back to the status held before the current one.  A status may carry
 * a condition to enter it.  When several transitions lead from one status
 * to another, or an event has several targets, the first transition in
 * declaration order whose guards pass is the one taken.
 *
 * A condition is parsed and compiled once per bound relation (partitions
 * may place columns differently) into an ExprState kept in the cache, then
 * evaluated on the row as written: nothing is planned per row.  Its columns
 * are the row's as written; NEW.column says the same, and OLD.column is the
 * column as it was before the change (null for a new row), so that a
 * condition can require a change ("NEW.email IS DISTINCT FROM OLD.email").  Conditions
 * run with the rights of the role making the change, like CHECK
 * constraints, and may not use subqueries or aggregates.
 *
 * Names in a condition are resolved with search_path = pg_catalog, pg_temp,
 * whoever declares, attaches or changes rows, so that its meaning is fixed
 * by its text alone: anything outside pg_catalog is written with its
 * schema.  And since a condition runs with the rights of whoever changes a
 * row, it may call only functions (operators, casts) owned by a superuser
 * or by the owner of the table: the owner of a workflow cannot make another
 * tenant's users run its code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_check_condition);
PG_FUNCTION_INFO_V1(sf_condition_columns);

/* Expression context to evaluate conditions, made once per backend. */
static ExprContext *condition_econtext = NULL;

/* Refuse a condition that is not one plain expression. */
static void
bad_condition(const char *cond)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("a condition must be one boolean expression over the row: %s",
					cond)));
}

/* The raw expression of a condition, refusing anything else. */
static Node *
parse_condition(const char *cond)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *stmts = NIL;
	SelectStmt *sel;
	ResTarget  *target;

	/* report a syntax error against the condition, not the calling query */
	PG_TRY();
	{
		stmts = raw_parser(psprintf("SELECT %s", cond), RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("invalid condition \"%s\": %s", cond, edata->message)));
	}
	PG_END_TRY();

	if (list_length(stmts) != 1 ||
		!IsA(linitial_node(RawStmt, stmts)->stmt, SelectStmt))
		bad_condition(cond);
	sel = (SelectStmt *) linitial_node(RawStmt, stmts)->stmt;
	if (sel->op != SETOP_NONE || list_length(sel->targetList) != 1 ||
		sel->fromClause || sel->whereClause || sel->groupClause ||
		sel->havingClause || sel->windowClause || sel->valuesLists ||
		sel->sortClause || sel->limitOffset || sel->limitCount ||
		sel->lockingClause || sel->withClause || sel->intoClause ||
		sel->distinctClause)
		bad_condition(cond);
	target = linitial_node(ResTarget, sel->targetList);
	if (target->name != NULL)
		bad_condition(cond);
	return target->val;
}

/*
 * May code that runs with the rights of whoever changes a row of rel call
 * this function?  Only when a superuser or the table's owner owns it,
 * outside temporary schemas: the owner of a workflow cannot make another
 * tenant's users run its code.  what says who would call it, for the error.
 */
void
sf_require_trusted_function(Oid funcid, Relation rel, const char *what)
{
	Oid			owner = rel->rd_rel->relowner;
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", funcid)));
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (isAnyTempNamespace(proc->pronamespace) ||
		!(superuser_arg(proc->proowner) || has_privs_of_role(owner, proc->proowner)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s on table %s may not call function %s", what,
						sf_relation_name(RelationGetRelid(rel)),
						format_procedure(funcid)),
				 errdetail("It would run with the rights of whoever changes a row, so it may call only functions owned by a superuser or by the owner of the table, outside temporary schemas.")));
	ReleaseSysCache(tup);
}

/* check_functions_in_node() callback: the functions of a condition. */
static bool
untrusted_function(Oid funcid, void *arg)
{
	sf_require_trusted_function(funcid, (Relation) arg, "a condition");
	return false;
}

/* The range table entries of a condition: the row as written, the row before. */
#define CONDITION_NEW_RTE	1
#define CONDITION_OLD_RTE	2

/*
 * Point the Vars of the row before the change at the outer tuple of the
 * expression context, where eval_condition() puts it.
 */
static bool
old_vars_walker(Node *node, void *arg)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0 &&
		((Var *) node)->varno == CONDITION_OLD_RTE)
	{
		((Var *) node)->varno = OUTER_VAR;
		((Var *) node)->varnosyn = OUTER_VAR;
		return false;
	}
	return expression_tree_walker(node, old_vars_walker, arg);
}

/*
 * Make rel visible to a condition: its columns unqualified and as NEW.col,
 * and the row before the change as OLD.col.
 */
static void
add_condition_rows(ParseState *pstate, Relation rel)
{
	ParseNamespaceItem *row;
	ParseNamespaceItem *as_new;
	ParseNamespaceItem *as_old;

	row = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL,
										false, true);
	addNSItemToQuery(pstate, row, true, true, true);
	as_new = palloc(sizeof(ParseNamespaceItem));
	memcpy(as_new, row, sizeof(ParseNamespaceItem));
	as_new->p_names = makeAlias("new", row->p_names->colnames);
	addNSItemToQuery(pstate, as_new, false, true, false);
	as_old = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
										   makeAlias("old", NIL), false, true);
	addNSItemToQuery(pstate, as_old, false, true, false);
	Assert(row->p_rtindex == CONDITION_NEW_RTE &&
		   as_old->p_rtindex == CONDITION_OLD_RTE);
}

/* Walk a transformed condition, checking every function it calls. */
static bool
trust_walker(Node *node, void *arg)
{
	Relation	rel = (Relation) arg;

	if (node == NULL)
		return false;
	(void) check_functions_in_node(node, untrusted_function, arg);
	if (IsA(node, CoerceToDomain))
	{
		Oid			domain = ((CoerceToDomain *) node)->resulttype;
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(domain));
		Oid			owner;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for type %u", domain);
		owner = ((Form_pg_type) GETSTRUCT(tup))->typowner;
		ReleaseSysCache(tup);
		if (!(superuser_arg(owner) || has_privs_of_role(rel->rd_rel->relowner, owner)))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("a condition on table %s may not use domain %s",
							sf_relation_name(RelationGetRelid(rel)),
							format_type_be(domain)),
					 errdetail("Its constraints would run with the rights of whoever changes a row; conditions may use only domains owned by a superuser or by the owner of the table.")));
	}
	return expression_tree_walker(node, trust_walker, arg);
}

/*
 * A condition as a boolean expression over the columns of rel, resolved
 * with the pinned search_path and calling only trusted functions.
 */
static Node *
transform_condition(const char *cond, Relation rel)
{
	int			nest = sf_pin_search_path();
	ParseState *pstate = make_parsestate(NULL);
	Node	   *expr;

	add_condition_rows(pstate, rel);
	expr = transformExpr(pstate, parse_condition(cond),
						 EXPR_KIND_CHECK_CONSTRAINT);
	expr = coerce_to_boolean(pstate, expr, "condition");
	assign_expr_collations(pstate, expr);
	free_parsestate(pstate);
	(void) trust_walker(expr, rel);
	sf_unpin_search_path(nest);
	return expr;
}

/*
 * May the current role check conditions against a table: does it own the
 * table, or own a workflow bound to it?  Checking opens the table.
 */
static bool
may_check_on(Oid relid, const char *workflow)
{
	SfWorkflow *wf;
	int			i;

	if (sf_class_ownercheck(relid, GetUserId()))
		return true;
	if (workflow == NULL)
		return false;
	wf = sf_workflow_by_name(workflow, true);
	if (wf == NULL || !sf_type_ownercheck(wf->type_oid, GetUserId()))
		return false;
	for (i = 0; i < sf_binding_count(); i++)
		if (sf_binding_at(i)->relid == relid && sf_binding_at(i)->workflow == wf)
			return true;
	return false;
}

/*
 * statusflow_internal.check_condition(condition, workflow, table_name):
 * raise unless the condition is one expression and, when a table is given,
 * a boolean over its columns that calls only trusted functions.  The caller
 * must own the table, or the workflow bound to it.
 */
Datum
sf_check_condition(PG_FUNCTION_ARGS)
{
	/* 1.0's definition, until ALTER EXTENSION UPDATE: (condition, table) */
	int			table_arg = PG_NARGS() - 1;
	char	   *cond;
	Oid			relid;
	Relation	rel;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	cond = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (PG_ARGISNULL(table_arg))
	{
		parse_condition(cond);
		PG_RETURN_VOID();
	}
	relid = PG_GETARG_OID(table_arg);
	if (!may_check_on(relid, table_arg == 1 || PG_ARGISNULL(1) ? NULL :
					  text_to_cstring(PG_GETARG_TEXT_PP(1))))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s or of a workflow bound to it",
						sf_relation_name(relid))));
	rel = try_table_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	transform_condition(cond, rel);
	table_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}

/*
 * statusflow_internal.condition_columns(condition, table_name): the columns
 * of the table a condition reads, as the row is and as it was; NULL when it
 * reads the whole row.  The invariant trigger of a binding fires on updates
 * of these columns (sync_binding_objects(), run as the extension's owner).
 */
Datum
sf_condition_columns(PG_FUNCTION_ARGS)
{
	Relation	rel;
	Node	   *expr;
	Bitmapset  *attrs = NULL;
	ArrayBuildState *names;
	int			k = -1;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("condition and table_name must not be null")));
	rel = try_table_open(PG_GETARG_OID(1), AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", PG_GETARG_OID(1))));
	expr = transform_condition(text_to_cstring(PG_GETARG_TEXT_PP(0)), rel);
	pull_varattnos(expr, CONDITION_NEW_RTE, &attrs);
	pull_varattnos(expr, CONDITION_OLD_RTE, &attrs);
	names = initArrayResult(NAMEOID, CurrentMemoryContext, false);
	while ((k = bms_next_member(attrs, k)) >= 0)
	{
		AttrNumber	att = k + FirstLowInvalidHeapAttributeNumber;

		if (att == InvalidAttrNumber)
		{
			table_close(rel, AccessShareLock);
			PG_RETURN_NULL();
		}
		if (att > 0)
			accumArrayResult(names,
							 DirectFunctionCall1(namein,
												 CStringGetDatum(get_attname(RelationGetRelid(rel),
																			 att, false))),
							 false, NAMEOID, CurrentMemoryContext);
	}
	table_close(rel, AccessShareLock);
	PG_RETURN_DATUM(makeArrayResult(names, CurrentMemoryContext));
}

/*
 * Do the conditions of a workflow (of its transitions and statuses) read
 * nothing but the row: do they call only immutable functions, resolved
 * for rel as the triggers resolve them?  Then the order in which rows of
 * different keys change cannot change their verdicts.
 */
bool
sf_conditions_read_only_row(SfWorkflow *wf, Relation rel)
{
	int			i;

	for (i = 0; i < wf->ntransitions; i++)
		if (wf->transitions[i].condition &&
			contain_mutable_functions(transform_condition(wf->transitions[i].condition,
														  rel)))
			return false;
	for (i = 0; i < wf->nstatuses; i++)
		if (wf->statuses[i].condition &&
			contain_mutable_functions(transform_condition(wf->statuses[i].condition,
														  rel)))
			return false;
	return true;
}

/* Compile a condition for one relation, into the cache's memory. */
static ExprState *
compile_condition(SfBinding *b, Relation rel, const char *cond)
{
	Expr	   *expr = expression_planner((Expr *) transform_condition(cond, rel));
	MemoryContext old;
	ExprState  *state;

	(void) old_vars_walker((Node *) expr, NULL);
	old = MemoryContextSwitchTo(b->cxt);
	state = ExecInitExpr(copyObject(expr), NULL);

	MemoryContextSwitchTo(old);
	return state;
}

/*
 * Does the row satisfy a compiled condition?  Null counts as false.  old is
 * the row before the change, NULL for a new row.
 */
static bool
eval_condition(ExprState *state, SfRelInfo *ri, HeapTuple tuple, HeapTuple old)
{
	Datum		result;
	bool		isnull;

	if (condition_econtext == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		condition_econtext = CreateStandaloneExprContext();
		MemoryContextSwitchTo(old);
	}
	ExecStoreHeapTuple(tuple, ri->slot, false);
	if (old)
		ExecStoreHeapTuple(old, ri->old_slot, false);
	else
		ExecStoreAllNullTuple(ri->old_slot);
	condition_econtext->ecxt_scantuple = ri->slot;
	condition_econtext->ecxt_outertuple = ri->old_slot;
	result = ExecEvalExprSwitchContext(state, condition_econtext, &isnull);
	ResetExprContext(condition_econtext);
	ExecClearTuple(ri->slot);
	ExecClearTuple(ri->old_slot);
	return !isnull && DatumGetBool(result);
}

/* Does the row satisfy the condition of transition i (if it has one)? */
static bool
transition_condition_holds(SfBinding *b, SfRelInfo *ri, Relation rel,
						   HeapTuple tuple, HeapTuple old, int i)
{
	const char *cond = b->workflow->transitions[i].condition;

	if (cond == NULL)
		return true;
	if (ri->transition_conds[i] == NULL)
		ri->transition_conds[i] = compile_condition(b, rel, cond);
	return eval_condition(ri->transition_conds[i], ri, tuple, old);
}

/* Does the row satisfy the condition to enter status s (if it has one)? */
bool
sf_status_condition_holds(SfBinding *b, SfRelInfo *ri, Relation rel,
						  HeapTuple tuple, HeapTuple old, int s)
{
	const char *cond = b->workflow->statuses[s].condition;

	if (cond == NULL)
		return true;
	if (ri->status_conds[s] == NULL)
		ri->status_conds[s] = compile_condition(b, rel, cond);
	return eval_condition(ri->status_conds[s], ri, tuple, old);
}

/* May the current role take transition t? */
bool
sf_roles_allow(SfTransition *t)
{
	int			k;

	if (t->nroles == 0)
		return true;
	for (k = 0; k < t->nroles; k++)
		if (has_privs_of_role(GetUserId(), t->roles[k]))
			return true;
	return false;
}

/* "a", "b": the roles of a transition, for messages. */
static char *
roles_list(SfTransition *t)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	for (k = 0; k < t->nroles; k++)
		appendStringInfo(&buf, "%s\"%s\"", k ? ", " : "",
						 GetUserNameFromId(t->roles[k], true) ?
						 GetUserNameFromId(t->roles[k], true) : "?");
	return buf.data;
}

/*
 * The status a row held before its current one, from its history; -1 when
 * its history does not tell.
 */
static int
previous_status(SfBinding *b, Datum *keys, int current)
{
	Datum		prev;

	if (!sf_history_previous(b, keys,
							 ObjectIdGetDatum(b->workflow->statuses[current].enum_oid),
							 &prev))
		return -1;
	return sf_status_index(b->workflow, DatumGetObjectId(prev));
}

/*
 * Check the guards of transition i for a row going from -> to (to is
 * resolved for a transition back to the previous status); reason_given:
 * whether the change comes with a reason.
 */
SfGuardFailure
sf_check_guards(SfBinding *b, SfRelInfo *ri, Relation rel, HeapTuple tuple,
				HeapTuple old, Datum *keys, int i, int from, int *to,
				bool reason_given)
{
	SfWorkflow *wf = b->workflow;
	SfTransition *t = &wf->transitions[i];

	if (!sf_roles_allow(t))
		return GUARD_ROLE;
	if (!transition_condition_holds(b, ri, rel, tuple, old, i))
		return GUARD_CONDITION;
	if (t->require_reason && !reason_given)
		return GUARD_REASON;
	if (t->to < 0)
	{
		int			prev = previous_status(b, keys, from);

		if (prev < 0 || (*to >= 0 && prev != *to))
			return GUARD_PREVIOUS;
		*to = prev;
	}
	if (t->max_uses > 0 &&
		sf_history_uses(b, keys, ObjectIdGetDatum(wf->statuses[from].enum_oid),
						ObjectIdGetDatum(wf->statuses[*to].enum_oid)) >= t->max_uses)
		return GUARD_USES;
	return GUARD_PASS;
}

/* Raise the error for a change that no transition's guards let through. */
static void
refuse(SfBinding *b, Relation rel, SfRelInfo *ri, HeapTuple tuple, Datum *keys,
	   int from, int to, int i, SfGuardFailure failure)
{
	SfWorkflow *wf = b->workflow;
	SfTransition *t = &wf->transitions[i];
	const char *fromlabel = wf->statuses[from].label;
	const char *tolabel = to >= 0 ? wf->statuses[to].label : "(previous)";
	char	   *key = sf_key_description(b, ri, RelationGetDescr(rel), tuple);
	char	   *what = from == to && t->event ?
		psprintf("%s %s cannot take event \"%s\" again in status \"%s\"",
				 b->relname, key, t->event, fromlabel) :
		psprintf("status of %s %s cannot change from \"%s\" to \"%s\"",
				 b->relname, key, fromlabel, tolabel);
	int			prev;

	switch (failure)
	{
		case GUARD_ROLE:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("%s", what),
					 errdetail("Role \"%s\" may not take this transition of workflow \"%s\"; it is for %s.",
							   GetUserNameFromId(GetUserId(), false), wf->name,
							   roles_list(t)),
					 errhint("%s", sf_allowed_hint(wf, from)),
					 sf_errbinding(b)));
			break;
		case GUARD_CONDITION:
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("%s", what),
					 errdetail("The row does not satisfy the condition of the transition: %s.",
							   t->condition),
					 errhint("Change the row so that the condition holds, or choose another status. %s",
							 sf_allowed_hint(wf, from)),
					 sf_errbinding(b)));
			break;
		case GUARD_ENTRY:
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("%s", what),
					 errdetail("The row does not satisfy the condition of status \"%s\": %s.",
							   tolabel, wf->statuses[to].condition),
					 errhint("Change the row so that the condition holds, or choose another status. %s",
							 sf_allowed_hint(wf, from)),
					 sf_errbinding(b)));
			break;
		case GUARD_REASON:
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("%s", what),
					 errdetail("This transition of workflow \"%s\" requires a reason.",
							   wf->name),
					 errhint("Pass reason => ... to statusflow.transition() or statusflow.fire(), or SET LOCAL statusflow.reason."),
					 sf_errbinding(b)));
			break;
		case GUARD_PREVIOUS:
			/* the status held before, if the changer may read history */
			prev = pg_class_aclcheck(b->history_relid, GetUserId(), ACL_SELECT) ==
				ACLCHECK_OK ? previous_status(b, keys, from) : -1;
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("%s", what),
					 prev >= 0 ?
					 errdetail("From \"%s\" only the status held before is allowed, \"%s\".",
							   fromlabel, wf->statuses[prev].label) :
					 errdetail("From \"%s\" only the status held before is allowed, and the history does not tell which it was.",
							   fromlabel),
					 errhint("%s", sf_allowed_hint(wf, from)),
					 sf_errbinding(b)));
			break;
		case GUARD_USES:
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("%s", what),
					 errdetail("Workflow \"%s\" allows this transition at most %d time%s per row, and this row has used %s.",
							   wf->name, t->max_uses, t->max_uses == 1 ? "" : "s",
							   t->max_uses == 1 ? "it" : "them all"),
					 errhint("%s", sf_allowed_hint(wf, from)),
					 sf_errbinding(b)));
			break;
		case GUARD_PASS:
			break;
	}
	elog(ERROR, "statusflow: guard failure %d not reported", (int) failure);
}

/*
 * Keep the most telling failure: any failure beats none, and a role
 * failure is reported only when every candidate failed on roles.
 */
static void
note_failure(SfGuardFailure f, int i, int target, SfGuardFailure *worst,
			 int *worst_i, int *worst_target)
{
	if (*worst == GUARD_PASS || (*worst == GUARD_ROLE && f != GUARD_ROLE))
	{
		*worst = f;
		*worst_i = i;
		*worst_target = target;
	}
}

/*
 * The transition a row takes from -> to, after the guards of the declared
 * transitions; -1 when the workflow declares none (the caller refuses).
 * When the change comes from an event, a transition on that event is
 * preferred.  Raises the error of the most telling guard that refused.
 */
int
sf_choose_transition(SfBinding *b, SfRelInfo *ri, Relation rel,
					 HeapTuple tuple, HeapTuple old, int from, int to,
					 const char *event)
{
	SfWorkflow *wf = b->workflow;
	int			e = from * wf->nstatuses + to;
	int			first = wf->edge_first[e];
	int			last = first < 0 ? first : first + wf->edge_count[e];
	int			rfirst = wf->restore_first[from];
	int			rlast = rfirst < 0 ? rfirst : rfirst + wf->restore_count[from];
	SfGuardFailure worst = GUARD_PASS;
	int			worst_i = -1;
	int			worst_target = to;
	bool		has_event = false;
	Datum		keys[INDEX_MAX_KEYS];
	bool		key_nulls[INDEX_MAX_KEYS];
	int			i;

	if (!wf->has_guards)
		return sf_find_transition(wf, from, to, event);
	if (first < 0 && rfirst < 0)
		return -1;
	sf_row_keys(b, ri, RelationGetDescr(rel), tuple, keys, key_nulls);
	for (i = Max(first, 0); event && i < last; i++)
		has_event |= (wf->transitions[i].event &&
					  strcmp(wf->transitions[i].event, event) == 0);
	for (i = Max(rfirst, 0); event && i < rlast; i++)
		has_event |= (wf->transitions[i].event &&
					  strcmp(wf->transitions[i].event, event) == 0);

	for (i = 0; i < wf->ntransitions; i++)
	{
		SfTransition *t = &wf->transitions[i];
		int			target = to;
		SfGuardFailure f;

		if (!((i >= first && i < last) || (i >= rfirst && i < rlast)))
			continue;
		if (has_event && !(t->event && strcmp(t->event, event) == 0))
			continue;
		f = sf_check_guards(b, ri, rel, tuple, old, keys, i, from, &target,
							sf_reason_given(b, keys, key_nulls));
		if (f == GUARD_PASS)
			return i;
		note_failure(f, i, to, &worst, &worst_i, &worst_target);
	}
	if (worst_i < 0)
		return -1;
	refuse(b, rel, ri, tuple, keys, from, worst_target, worst_i, worst);
	return -1;					/* not reached */
}

/*
 * The transition an event takes from a row's status, and its target in
 * *to: the first transition on that event whose guards pass and whose
 * target's condition the row satisfies.  -1 when no transition on the
 * event leaves the status; the error of the most telling refusal when
 * there are some but none passes.
 */
int
sf_choose_event(SfBinding *b, SfRelInfo *ri, Relation rel, HeapTuple tuple,
				HeapTuple old, int from, const char *event, int *to)
{
	SfWorkflow *wf = b->workflow;
	SfGuardFailure worst = GUARD_PASS;
	int			worst_i = -1;
	int			worst_target = -1;
	Datum		keys[INDEX_MAX_KEYS];
	bool		key_nulls[INDEX_MAX_KEYS];
	int			i;

	sf_row_keys(b, ri, RelationGetDescr(rel), tuple, keys, key_nulls);
	for (i = 0; i < wf->ntransitions; i++)
	{
		SfTransition *t = &wf->transitions[i];
		int			target = t->to;
		SfGuardFailure f;

		if (t->from != from || t->event == NULL || strcmp(t->event, event) != 0)
			continue;
		f = sf_check_guards(b, ri, rel, tuple, old, keys, i, from, &target,
							sf_reason_given(b, keys, key_nulls));
		if (f == GUARD_PASS && !sf_status_condition_holds(b, ri, rel, tuple, old, target))
			f = GUARD_ENTRY;
		if (f == GUARD_PASS)
		{
			*to = target;
			return i;
		}
		note_failure(f, i, target, &worst, &worst_i, &worst_target);
	}
	if (worst_i < 0)
		return -1;
	refuse(b, rel, ri, tuple, keys, from, worst_target, worst_i, worst);
	return -1;					/* not reached */
}

/*
 * Refuse an update that leaves a row in status s without satisfying the
 * condition of s any more: a status condition holds for as long as the row
 * stays in the status.
 */
void
sf_check_invariant(SfBinding *b, SfRelInfo *ri, Relation rel, HeapTuple tuple,
				   HeapTuple old, int s)
{
	SfStatus   *st = &b->workflow->statuses[s];

	if (sf_status_condition_holds(b, ri, rel, tuple, old, s))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s %s in status \"%s\" would no longer satisfy its condition",
					b->relname,
					sf_key_description(b, ri, RelationGetDescr(rel), tuple),
					st->label),
			 errdetail("The condition of status \"%s\" holds for as long as a row is in it: %s.",
					   st->label, st->condition),
			 errhint("Move the row to another status first, or leave the columns the condition reads as they are."),
			 sf_errbinding(b)));
}

/* Refuse a row that does not satisfy the condition to enter its status. */
void
sf_check_entry_condition(SfBinding *b, SfRelInfo *ri, Relation rel,
						 HeapTuple tuple, HeapTuple old, int to)
{
	SfStatus   *st = &b->workflow->statuses[to];

	if (sf_status_condition_holds(b, ri, rel, tuple, old, to))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s %s cannot enter status \"%s\"", b->relname,
					sf_key_description(b, ri, RelationGetDescr(rel), tuple),
					st->label),
			 errdetail("The row does not satisfy the condition of status \"%s\": %s.",
					   st->label, st->condition),
			 errhint("Change the row so that the condition holds, or choose another status."),
			 sf_errbinding(b)));
}

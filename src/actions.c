/*-------------------------------------------------------------------------
 *
 * actions.c
 *	  The functions a workflow calls when a row enters or leaves a status or
 *	  takes an event.
 *
 * An action is a function f(change jsonb) returning void, declared with
 * statusflow.add_action().  The AFTER trigger calls the actions of a change
 * once its history row is written: first those on leaving the old status,
 * then those on the event taken, then those on entering the new status,
 * each kind in declaration order.  They run in the changing transaction
 * with the rights of the role making the change, as any trigger would, so
 * an error in one aborts the change; a repeated event (the status stays)
 * calls the event's actions only.
 *
 * change is {"table", "key", "from", "to", "event", "history_id", "row",
 * "old_row"}: the key as an object of text values, the rows as
 * row_to_json() gives them (old_row null for a new row).
 *
 * Since an action runs with the rights of whoever changes a row, its
 * function must be owned by a superuser or by the bound table's owner (as
 * for conditions), be executable by the role making the change, and set
 * its own search_path, so that the changing role's path cannot redirect
 * the names it uses.  All of it is checked when the action is declared,
 * when a table is attached, and again before each call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_check_action);

/* What the error context of a failing action names. */
typedef struct SfActionCall
{
	SfBinding  *binding;
	SfAction   *action;
} SfActionCall;

static void
action_error_context(void *arg)
{
	SfActionCall *call = (SfActionCall *) arg;

	errcontext("action %d of workflow \"%s\" (%s) on %s", call->action->id,
			   call->binding->workflow->name,
			   format_procedure(call->action->function), call->binding->relname);
}

/* Does a function (its pg_proc tuple) set search_path itself? */
static bool
sets_search_path(HeapTuple proctup)
{
	bool		isnull;
	Datum		config = SysCacheGetAttr(PROCOID, proctup, Anum_pg_proc_proconfig,
										 &isnull);
	Datum	   *settings;
	int			n,
				i;

	if (isnull)
		return false;
	deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false, TYPALIGN_INT,
					  &settings, NULL, &n);
	for (i = 0; i < n; i++)
		if (strncmp(TextDatumGetCString(settings[i]), "search_path=", 12) == 0)
			return true;
	return false;
}

/*
 * Refuse a function that cannot be an action (for rows of rel, unless it
 * is NULL): not f(jsonb) returning void, without its own search_path, or
 * untrusted.
 */
static void
check_action_function(Oid funcid, Relation rel)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	bool		pinned;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", funcid)));
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (proc->prokind != PROKIND_FUNCTION || proc->proretset ||
		proc->pronargs != 1 || proc->proargtypes.values[0] != JSONBOID ||
		proc->prorettype != VOIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("function %s cannot be an action", format_procedure(funcid)),
				 errdetail("An action is a function taking the change as one jsonb argument and returning void.")));
	pinned = sets_search_path(tup);
	ReleaseSysCache(tup);
	if (!pinned)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("function %s cannot be an action: it does not set search_path",
						format_procedure(funcid)),
				 errdetail("An action runs with the rights and the settings of whoever changes a row."),
				 errhint("ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp, and write other names with their schema.",
						 format_procedure(funcid))));
	if (rel != NULL)
		sf_require_trusted_function(funcid, rel, "an action");
}

/*
 * statusflow_internal.check_action(action regprocedure, table_name
 * regclass): raise unless the function can be an action, for the table's
 * rows when a table is given.  Run when an action is declared, for every
 * bound table, and for every action of the workflow when a table is
 * attached.
 */
Datum
sf_check_action(PG_FUNCTION_ARGS)
{
	Relation	rel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("action must not be null")));
	if (PG_ARGISNULL(1))
	{
		check_action_function(PG_GETARG_OID(0), NULL);
		PG_RETURN_VOID();
	}
	rel = try_table_open(PG_GETARG_OID(1), AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", PG_GETARG_OID(1))));
	check_action_function(PG_GETARG_OID(0), rel);
	table_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}

/* A row as JSON, or null. */
static void
append_json_row(StringInfo buf, Relation rel, HeapTuple tuple)
{
	if (tuple == NULL)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	appendStringInfoString(buf, TextDatumGetCString(
		DirectFunctionCall1(row_to_json,
							heap_copy_tuple_as_datum(tuple, RelationGetDescr(rel)))));
}

/* The change an action receives. */
static Datum
change_jsonb(SfBinding *b, Relation rel, SfHistoryRow *row, HeapTuple newtuple,
			 HeapTuple oldtuple, int64 history_id)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"table\": ");
	escape_json(&buf, b->relname);
	appendStringInfoString(&buf, ", \"key\": ");
	sf_append_json_key(&buf, b, row);
	sf_append_change_fields(&buf, row, history_id);
	appendStringInfoString(&buf, ", \"row\": ");
	append_json_row(&buf, rel, newtuple);
	appendStringInfoString(&buf, ", \"old_row\": ");
	append_json_row(&buf, rel, oldtuple);
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* Call one action with the change, after checking it again. */
static void
call_action(SfBinding *b, Relation rel, SfAction *a, Datum change)
{
	SfActionCall call;
	ErrorContextCallback errcb;
	FmgrInfo	flinfo;
	LOCAL_FCINFO(fcinfo, 1);

	call.binding = b;
	call.action = a;
	errcb.callback = action_error_context;
	errcb.arg = &call;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	check_action_function(a->function, rel);
	if (sf_proc_aclcheck(a->function, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", format_procedure(a->function)),
				 errdetail("Role \"%s\" changed a row whose change calls it.",
						   GetUserNameFromId(GetUserId(), false))));
	fmgr_info(a->function, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = change;
	fcinfo->args[0].isnull = false;
	(void) FunctionCallInvoke(fcinfo);
	error_context_stack = errcb.previous;
}

/* Does action a run for a change from -> to on event? */
static bool
action_applies(SfAction *a, SfActionWhen when, int from, int to, const char *event)
{
	if (a->when != when)
		return false;
	switch (when)
	{
		case SF_ACTION_LEAVE:
			return from >= 0 && from != to && a->status == from;
		case SF_ACTION_EVENT:
			return event != NULL && strcmp(a->event, event) == 0;
		case SF_ACTION_ENTER:
			return to >= 0 && from != to && a->status == to;
	}
	return false;
}

/*
 * Run the actions of a change of a row of rel, recorded as history row
 * history_id: leaving, then the event, then entering.
 */
void
sf_run_actions(SfBinding *b, Relation rel, SfHistoryRow *row, HeapTuple newtuple,
			   HeapTuple oldtuple, int from, int to, int64 history_id)
{
	SfWorkflow *wf = b->workflow;
	Datum		change = (Datum) 0;
	int			when,
				i;

	for (when = SF_ACTION_LEAVE; when <= SF_ACTION_ENTER; when++)
		for (i = 0; i < wf->nactions; i++)
		{
			if (!action_applies(&wf->actions[i], (SfActionWhen) when, from, to,
								row->event))
				continue;
			if (change == (Datum) 0)
				change = change_jsonb(b, rel, row, newtuple, oldtuple, history_id);
			call_action(b, rel, &wf->actions[i], change);
		}
}

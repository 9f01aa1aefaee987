/*-------------------------------------------------------------------------
 *
 * choices.c
 *	  What a row may do next, for the role asking: statusflow.next_transitions().
 *
 * A user interface needs the dropdown of the events and statuses open to
 * this user on this row.  next_transitions() reads the row as the caller
 * sees it (row-level security applies), and for every transition declared
 * from its status evaluates the guards the trigger would: roles, the
 * transition's condition and the target status's condition on the row as
 * it is (OLD and NEW are that row), the uses left, the status held before
 * (for a transition back to it).  A required reason does not make a
 * transition unavailable: it is reported, for the form to ask for one.
 * Quotas are not evaluated: a change over a quota may be diverted to its
 * overflow status, or refused.  To know exactly what one change would do,
 * quotas, actions and other triggers included, explain_transition() tries
 * it and rolls it back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_next_transitions);

#define NEXT_COLUMNS 6

/*
 * Why a guard closes a transition to this role on this row, in words, NULL
 * when it is open; to is its target, resolved.
 */
static char *
closed_because(SfTransition *t, int to, SfGuardFailure f, SfWorkflow *wf)
{
	switch (f)
	{
		case GUARD_ROLE:
			return pstrdup("not open to this role");
		case GUARD_CONDITION:
			return psprintf("the row does not satisfy the condition: %s", t->condition);
		case GUARD_ENTRY:
			return psprintf("the row does not satisfy the condition of status \"%s\": %s",
							wf->statuses[to].label, wf->statuses[to].condition);
		case GUARD_PREVIOUS:
			return pstrdup("the history does not tell the status held before");
		case GUARD_USES:
			return psprintf("used %d time%s, the most allowed per row", t->max_uses,
							t->max_uses == 1 ? "" : "s");
		case GUARD_REASON:
		case GUARD_PASS:
			break;
	}
	return NULL;
}

/* One result row: a transition declared from the row's status, and its verdict. */
static void
put_transition(Tuplestorestate *store, TupleDesc desc, SfWorkflow *wf,
			   SfTransition *t, int to, SfGuardFailure f)
{
	Datum		values[NEXT_COLUMNS];
	bool		nulls[NEXT_COLUMNS] = {false};
	char	   *why = closed_because(t, to, f, wf);

	nulls[0] = (t->event == NULL);
	values[0] = nulls[0] ? (Datum) 0 : CStringGetTextDatum(t->event);
	nulls[1] = (to < 0);
	values[1] = nulls[1] ? (Datum) 0 : CStringGetTextDatum(wf->statuses[to].label);
	values[2] = BoolGetDatum(why == NULL);
	values[3] = BoolGetDatum(t->require_reason);
	nulls[4] = (why == NULL);
	values[4] = nulls[4] ? (Datum) 0 : CStringGetTextDatum(why);
	values[5] = CStringGetTextDatum(t->automatic ? "automatic" : "manual");
	tuplestore_putvalues(store, desc, values, nulls);
}

/*
 * statusflow.next_transitions(table_name, key, column_name) returns
 * (event, to_status, allowed, requires_reason, refusal, kind): every
 * transition declared from the row's status, whether the current role may
 * take it on this row, and why not.
 */
Datum
sf_next_transitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SfBinding  *b;
	SfWorkflow *wf;
	Datum		keys[INDEX_MAX_KEYS];
	bool		key_nulls[INDEX_MAX_KEYS] = {false};
	Relation	rel;
	HeapTuple	row;
	int			from,
				i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name and key must not be null")));
	InitMaterializedSRF(fcinfo, 0);
	b = sf_binding_for_table(PG_GETARG_OID(0),
							 PG_ARGISNULL(2) ? NULL : NameStr(*PG_GETARG_NAME(2)));
	wf = b->workflow;
	sf_key_values(b, PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1), keys);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	rel = table_open(b->relid, AccessShareLock);
	row = sf_read_row(b, rel, keys);
	if (row == NULL)
		sf_no_row(b, sf_format_key(b, keys, key_nulls));
	from = sf_row_status(b, rel, row);
	for (i = 0; from >= 0 && i < wf->ntransitions; i++)
	{
		SfTransition *t = &wf->transitions[i];
		SfRelInfo  *ri = sf_binding_relinfo(b, rel);
		int			to = t->to;
		SfGuardFailure f;

		if (t->from != from)
			continue;
		f = sf_check_guards(b, ri, rel, row, row, keys, i, from, &to, true);
		if (f == GUARD_PASS && to >= 0 &&
			!sf_status_condition_holds(b, ri, rel, row, row, to))
			f = GUARD_ENTRY;
		put_transition(rsinfo->setResult, rsinfo->setDesc, wf, t, to, f);
	}
	table_close(rel, AccessShareLock);
	SPI_finish();
	return (Datum) 0;
}

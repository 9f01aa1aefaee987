/*-------------------------------------------------------------------------
 *
 * prepare.c
 *	  The BEFORE trigger of bindings that change a row before it is written:
 *	  quotas on entering statuses, and the entered-at column.
 *
 * Only bindings that need it get this trigger (see statusflow_internal.sync_triggers):
 * a BEFORE UPDATE row trigger makes PostgreSQL lock the old row version of
 * every UPDATE of the table, which costs even updates of other columns.
 *
 * A quota counts entries into some statuses per value of a column of the
 * row (the scope, e.g. an account) per calendar period of the session's
 * time zone.  The count lives in statusflow.quota_usage and is taken with
 * INSERT ... ON CONFLICT DO UPDATE, whose row lock makes concurrent changes
 * of one scope wait for each other: two sessions cannot both take the last
 * entry.  Over the limit, the change is diverted to the quota's overflow
 * status (the AFTER trigger then checks that transition like any other), or
 * refused when the quota has none.  A row whose scope column is null is not
 * counted.  The count is kept even if another BEFORE trigger later drops
 * the row; it is undone with the transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_prepare);

/* The plan that takes one entry of a quota, or finds none left. */
static SPIPlanPtr
quota_plan(SfBinding *b)
{
	Oid			argtypes[5] = {INT4OID, INT4OID, TEXTOID, TIMESTAMPTZOID, INT4OID};

	if (b->plans[SF_PLAN_QUOTA])
		return b->plans[SF_PLAN_QUOTA];
	return sf_binding_plan(b, SF_PLAN_QUOTA,
						   "INSERT INTO statusflow.quota_usage AS u"
						   " (binding_id, quota_id, scope, period_start, used)"
						   " VALUES ($1, $2, $3, $4, 1)"
						   " ON CONFLICT (binding_id, quota_id, scope, period_start)"
						   " DO UPDATE SET used = u.used OPERATOR(pg_catalog.+) 1"
						   " WHERE u.used OPERATOR(pg_catalog.<) $5"
						   " RETURNING u.used",
						   5, argtypes);
}

/*
 * Take one entry of quota q for the scope of the row; false when none is
 * left.  Runs as the owner of the bound table, who may write its counts, in
 * a security-restricted operation with the pinned search_path.
 */
static bool
take_quota_entry(SfBinding *b, SfQuota *q, Datum scope)
{
	Datum		params[5];
	SfIdentity	saved;
	int			rc;

	if (q->max_entries == 0)
		return false;
	params[0] = Int32GetDatum(b->id);
	params[1] = Int32GetDatum(q->id);
	params[2] = scope;
	params[3] = DirectFunctionCall2(timestamptz_trunc,
									CStringGetTextDatum(q->period),
									TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()));
	params[4] = Int32GetDatum(q->max_entries);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	sf_become(b->owner, &saved);
	rc = SPI_execute_plan(quota_plan(b), params, NULL, false, 0);
	sf_unbecome(&saved);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "statusflow: quota count failed: %s", SPI_result_code_string(rc));
	rc = (int) SPI_processed;
	SPI_finish();
	return rc > 0;
}

/* The scope of a row for a quota: its column's text, or NULL. */
static Datum
quota_scope(SfRelInfo *ri, TupleDesc tupdesc, HeapTuple tuple, int qi,
			bool *isnull)
{
	AttrNumber	att = ri->quota_attnums[qi];
	Datum		v = heap_getattr(tuple, att, tupdesc, isnull);
	Oid			typoutput;
	bool		varlena;

	if (*isnull)
		return (Datum) 0;
	getTypeOutputInfo(TupleDescAttr(tupdesc, att - 1)->atttypid, &typoutput,
					  &varlena);
	return CStringGetTextDatum(OidOutputFunctionCall(typoutput, v));
}

/* Refuse an entry over a quota that has no overflow status. */
static void
refuse_quota(SfBinding *b, SfRelInfo *ri, Relation rel, HeapTuple tuple,
			 SfQuota *q, int to, Datum scope)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s %s cannot enter status \"%s\": its quota is used up",
					b->relname,
					sf_key_description(b, ri, RelationGetDescr(rel), tuple),
					b->workflow->statuses[to].label),
			 errdetail("The quota of workflow \"%s\" is %d per %s for each value of \"%s\", and \"%s\" has reached it.",
					   b->workflow->name, q->max_entries, q->period,
					   q->per_column, TextDatumGetCString(scope)),
			 errhint("Wait for the next %s, or declare an overflow status for the quota with statusflow.set_quota().",
					 q->period),
			 sf_errbinding(b)));
}

/*
 * Apply the quotas on entering status *to: take an entry, or divert *to to
 * the overflow status (or refuse).  Returns whether the status changed.
 */
static bool
apply_quotas(SfBinding *b, SfRelInfo *ri, Relation rel, HeapTuple tuple,
			 int *to)
{
	SfWorkflow *wf = b->workflow;
	int			qi;

	for (qi = 0; qi < wf->nquotas; qi++)
	{
		SfQuota    *q = &wf->quotas[qi];
		bool		isnull;
		Datum		scope;

		if (!q->counted[*to])
			continue;
		scope = quota_scope(ri, RelationGetDescr(rel), tuple, qi, &isnull);
		if (isnull || take_quota_entry(b, q, scope))
			continue;
		if (q->overflow < 0)
			refuse_quota(b, ri, rel, tuple, q, *to, scope);
		*to = q->overflow;
		return true;
	}
	return false;
}

/* BEFORE INSERT / BEFORE UPDATE row trigger of a binding. */
Datum
sf_prepare(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	SfBinding  *b;
	SfRelInfo  *ri;
	HeapTuple	tuple;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	int			cols[2];
	int			ncols = 0;
	Datum		status;
	bool		isnull;
	int			to;
	Datum		keys[INDEX_MAX_KEYS];
	bool		key_nulls[INDEX_MAX_KEYS];
	SfContext  *ctx;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		  TRIGGER_FIRED_BY_UPDATE(td->tg_event)) ||
		td->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("statusflow_internal.prepare() must be fired BEFORE INSERT or UPDATE FOR EACH ROW with the binding id")));
	rel = td->tg_relation;
	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	b = sf_binding_by_id(pg_strtoint32(td->tg_trigger->tgargs[0]));
	if (b == NULL)
		PG_RETURN_POINTER(tuple);	/* enforce() reports the missing binding */
	ri = sf_binding_relinfo(b, rel);
	status = heap_getattr(tuple, ri->status_attnum, RelationGetDescr(rel), &isnull);
	to = isnull ? -1 : sf_status_index(b->workflow, DatumGetObjectId(status));
	if (to < 0)
		PG_RETURN_POINTER(tuple);	/* enforce() refuses it */

	if (apply_quotas(b, ri, rel, tuple, &to))
	{
		cols[ncols] = ri->status_attnum;
		values[ncols++] = ObjectIdGetDatum(b->workflow->statuses[to].enum_oid);
	}
	if (ri->entered_at_attnum > 0)
	{
		sf_row_keys(b, ri, RelationGetDescr(rel), tuple, keys, key_nulls);
		ctx = sf_change_context(b, keys, key_nulls);
		cols[ncols] = ri->entered_at_attnum;
		values[ncols++] = TimestampTzGetDatum(ctx && ctx->has_occurred_at ?
											  ctx->occurred_at :
											  GetCurrentTransactionStartTimestamp());
	}
	if (ncols == 0)
		PG_RETURN_POINTER(tuple);
	PG_RETURN_POINTER(heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel),
												ncols, cols, values, nulls));
}

/*-------------------------------------------------------------------------
 *
 * transition.c
 *	  The transition API: transition(), fire(), their set-based forms and
 *	  can_transition().
 *
 * Each call runs one UPDATE of the bound table through a plan prepared once
 * per binding, so every change still goes through the binding's triggers:
 * the API adds nothing the triggers would not check.  While the UPDATE
 * runs, the call's actor, reason, metadata, time and event sit on a context
 * stack that the triggers of that binding read for the history row.
 *
 * A key is passed as a value of any type and converted to the type of the
 * primary key column (by its assignment cast, else through text).
 * A composite key is passed as a row, ROW(1, 'a'), or as its text form,
 * '(1,a)'.  The set-based forms take an array of such keys.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "parser/parse_coerce.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_transition);
PG_FUNCTION_INFO_V1(sf_key_object);
PG_FUNCTION_INFO_V1(sf_fire);
PG_FUNCTION_INFO_V1(sf_transition_many);
PG_FUNCTION_INFO_V1(sf_fire_many);
PG_FUNCTION_INFO_V1(sf_event_target);
PG_FUNCTION_INFO_V1(sf_can_transition);

/* Argument positions shared by the four API functions. */
#define ARG_TABLE		0
#define ARG_KEY			1
#define ARG_TARGET		2
#define ARG_REASON		3
#define ARG_METADATA	4
#define ARG_ACTOR		5
#define ARG_OCCURRED	6
#define ARG_COLUMN		7

static SfContext *context_top = NULL;

/* The context of the API call now changing rows of this binding, if any. */
SfContext *
sf_current_context(int binding_id)
{
	if (context_top != NULL && context_top->binding_id == binding_id)
		return context_top;
	return NULL;
}

/* Make ctx the context of the changes its binding's triggers see next. */
void
sf_push_context(SfContext *ctx)
{
	ctx->prev = context_top;
	context_top = ctx;
}

/* Take ctx off the context stack (it must be on top). */
void
sf_pop_context(SfContext *ctx)
{
	Assert(context_top == ctx);
	context_top = ctx->prev;
}

/* Is there a reason for the history rows of this binding's current change? */
bool
sf_reason_given(SfBinding *b)
{
	SfContext  *ctx = sf_current_context(b->id);

	if (ctx && ctx->reason)
		return VARSIZE_ANY_EXHDR(ctx->reason) > 0;
	return sf_guc_reason != NULL && sf_guc_reason[0] != '\0';
}

/* Raise when a required argument is null. */
static void
require_args(FunctionCallInfo fcinfo, const char *key_name,
			 const char *target_name)
{
	if (PG_ARGISNULL(ARG_TABLE))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name must not be null")));
	if (PG_ARGISNULL(ARG_KEY))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", key_name)));
	if (PG_ARGISNULL(ARG_TARGET))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", target_name)));
}

/* The binding the call addresses, and the context for its history rows. */
static SfBinding *
call_binding(FunctionCallInfo fcinfo, const char *event, SfContext *ctx)
{
	SfBinding  *b;

	b = sf_binding_for_table(PG_GETARG_OID(ARG_TABLE),
							 PG_ARGISNULL(ARG_COLUMN) ? NULL :
							 NameStr(*PG_GETARG_NAME(ARG_COLUMN)));
	memset(ctx, 0, sizeof(SfContext));
	ctx->binding_id = b->id;
	ctx->event = event;
	ctx->reason = PG_ARGISNULL(ARG_REASON) ? NULL : PG_GETARG_TEXT_PP(ARG_REASON);
	ctx->metadata = PG_ARGISNULL(ARG_METADATA) ? NULL : PG_GETARG_JSONB_P(ARG_METADATA);
	ctx->actor = PG_ARGISNULL(ARG_ACTOR) ? NULL : PG_GETARG_TEXT_PP(ARG_ACTOR);
	ctx->has_occurred_at = !PG_ARGISNULL(ARG_OCCURRED);
	if (ctx->has_occurred_at)
		ctx->occurred_at = PG_GETARG_TIMESTAMPTZ(ARG_OCCURRED);
	return b;
}

/*
 * v of type from, as a value of type to: through the assignment cast when
 * there is one, else through the types' text forms (strings, and types
 * whose cast is defined that way).
 */
static Datum
convert_value(Datum v, Oid from, Oid to, int32 typmod)
{
	Oid			funcid,
				typoutput,
				typinput,
				typioparam;
	bool		varlena;

	if (from == to)
		return v;
	switch (find_coercion_pathway(to, from, COERCION_ASSIGNMENT, &funcid))
	{
		case COERCION_PATH_RELABELTYPE:
			return v;
		case COERCION_PATH_FUNC:
			if (get_func_nargs(funcid) == 1)
				return OidFunctionCall1(funcid, v);
			return OidFunctionCall3(funcid, v, Int32GetDatum(typmod),
									BoolGetDatum(false));
		case COERCION_PATH_COERCEVIAIO:
			break;
		default:
			if (TypeCategory(from) != TYPCATEGORY_STRING &&
				TypeCategory(from) != TYPCATEGORY_UNKNOWN)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("a key of type %s cannot be used for a key column of type %s",
								format_type_be(from), format_type_be(to))));
			break;
	}
	getTypeOutputInfo(from, &typoutput, &varlena);
	getTypeInputInfo(to, &typinput, &typioparam);
	return OidInputFunctionCall(typinput, OidOutputFunctionCall(typoutput, v),
								typioparam, typmod);
}

/* Refuse a key that has not as many values as the table has key columns. */
static void key_arity_error(SfBinding *b) pg_attribute_noreturn();

static void
key_arity_error(SfBinding *b)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("a key of table %s has %d columns", b->relname, b->nkeys),
			 errhint("Pass a row of the values of (%s), such as ROW(...), or its text form.",
					 sf_key_columns(b))));
}

/*
 * The number of fields of a row in text form, "(a,b)": the commas outside
 * double quotes and backslash escapes, plus one, up to the closing
 * parenthesis; -1 when it does not start with one or has none.  Counted
 * before record_in reads it, so that a key of the wrong arity is refused
 * the same way in any form; record_in still judges the rest.
 */
static int
row_text_fields(const char *s)
{
	int			n = 1;
	bool		quoted = false;

	while (isspace((unsigned char) *s))
		s++;
	if (*s++ != '(')
		return -1;
	for (; *s; s++)
	{
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == ',')
			n++;
		else if (!quoted && *s == ')')
			return n;
	}
	return -1;
}

/* A row type made of the key columns, to read '(1,a)' keys. */
static TupleDesc
key_tupdesc(SfBinding *b)
{
	TupleDesc	desc = CreateTemplateTupleDesc(b->nkeys);
	int			k;

	for (k = 0; k < b->nkeys; k++)
		TupleDescInitEntry(desc, k + 1, b->key_names[k], b->key_types[k],
						   b->key_typmods[k], 0);
	return BlessTupleDesc(desc);
}

/* Split a composite key given as a row value into key column values. */
static void
split_row_key(SfBinding *b, HeapTupleHeader th, Datum *out)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(th),
											  HeapTupleHeaderGetTypMod(th));
	HeapTupleData tuple;
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	int			i,
				k = 0;

	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	heap_deform_tuple(&tuple, desc, values, nulls);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (k == b->nkeys)
			break;
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("key column \"%s\" must not be null", b->key_names[k])));
		out[k] = convert_value(values[i], att->atttypid, b->key_types[k],
							   b->key_typmods[k]);
		k++;
	}
	if (k != b->nkeys || i != desc->natts)
		key_arity_error(b);
	ReleaseTupleDesc(desc);
}

/* The key column values of one key argument v of type argtype. */
void
sf_key_values(SfBinding *b, Datum v, Oid argtype, Datum *out)
{
	if (b->nkeys == 1)
	{
		out[0] = convert_value(v, argtype, b->key_types[0], b->key_typmods[0]);
		return;
	}
	if (argtype == TEXTOID || argtype == UNKNOWNOID)
	{
		TupleDesc	desc = key_tupdesc(b);
		char	   *str = argtype == TEXTOID ? TextDatumGetCString(v) :
			DatumGetCString(v);

		if (row_text_fields(str) != b->nkeys)
			key_arity_error(b);
		v = OidInputFunctionCall(F_RECORD_IN, str, RECORDOID, desc->tdtypmod);
		argtype = RECORDOID;
	}
	if (!type_is_rowtype(argtype))
		key_arity_error(b);
	split_row_key(b, DatumGetHeapTupleHeader(v), out);
}

/*
 * statusflow._key_object(binding integer, key anyelement) RETURNS jsonb
 *
 * A key argument, read as transition() reads it, as the jsonb object of the
 * key columns that reports work with: {"id": 42}, {"shop": "n", "code": 7}.
 */
Datum
sf_key_object(PG_FUNCTION_ARGS)
{
	SfBinding  *b;
	Datum		keys[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS] = {false};
	TupleDesc	desc;
	Datum		row;
	char	   *json;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key must not be null")));
	b = sf_binding_by_id(PG_GETARG_INT32(0));
	if (b == NULL)
		elog(ERROR, "statusflow: binding %d does not exist", PG_GETARG_INT32(0));
	sf_key_values(b, PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1),
				  keys);
	desc = key_tupdesc(b);
	row = HeapTupleGetDatum(heap_form_tuple(desc, keys, nulls));
	json = TextDatumGetCString(DirectFunctionCall1(row_to_json, row));
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* "(a, b)=(1, 2)" for key values, for messages. */
static char *
key_text(SfBinding *b, Datum *keys)
{
	bool		nulls[INDEX_MAX_KEYS] = {false};

	return sf_format_key(b, keys, nulls);
}

/*
 * The UPDATE a plan kind runs.  Parameter $1 is the target status (or the
 * event), then one parameter per key column: a value, or an array of values
 * for the set-based forms.
 */
static char *
plan_sql(SfBinding *b, SfPlanKind kind)
{
	StringInfoData sql;
	bool		many = (kind == SF_PLAN_TRANSITION_MANY || kind == SF_PLAN_FIRE_MANY);
	bool		fire = (kind == SF_PLAN_FIRE || kind == SF_PLAN_FIRE_MANY);
	const char *col = quote_identifier(b->column);
	int			k;

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s AS t SET %s = ", b->relname, col);
	if (fire)
		appendStringInfo(&sql, "statusflow._event_target(t.%s, t, %d, $1)", col, b->id);
	else
		appendStringInfoString(&sql, "$1");
	if (many)
	{
		appendStringInfoString(&sql, " FROM ROWS FROM (");
		for (k = 0; k < b->nkeys; k++)
			appendStringInfo(&sql, "%spg_catalog.unnest($%d)", k ? ", " : "", k + 2);
		appendStringInfoString(&sql, ") AS k(");
		for (k = 0; k < b->nkeys; k++)
			appendStringInfo(&sql, "%sc%d", k ? ", " : "", k + 1);
		appendStringInfoString(&sql, ") WHERE ");
		for (k = 0; k < b->nkeys; k++)
			appendStringInfo(&sql, "%st.%s = k.c%d", k ? " AND " : "",
							 quote_identifier(b->key_names[k]), k + 1);
	}
	else
	{
		appendStringInfoString(&sql, " WHERE ");
		for (k = 0; k < b->nkeys; k++)
			appendStringInfo(&sql, "%st.%s = $%d", k ? " AND " : "",
							 quote_identifier(b->key_names[k]), k + 2);
		appendStringInfo(&sql, " RETURNING t.%s::pg_catalog.text", col);
	}
	return sql.data;
}

/* The plan of an API kind for a binding, prepared on first use and kept. */
SPIPlanPtr
sf_update_plan(SfBinding *b, SfPlanKind kind)
{
	bool		many = (kind == SF_PLAN_TRANSITION_MANY || kind == SF_PLAN_FIRE_MANY);
	bool		fire = (kind == SF_PLAN_FIRE || kind == SF_PLAN_FIRE_MANY);
	Oid			argtypes[INDEX_MAX_KEYS + 1];
	int			k;

	if (b->plans[kind])
		return b->plans[kind];
	argtypes[0] = fire ? TEXTOID : b->workflow->type_oid;
	for (k = 0; k < b->nkeys; k++)
	{
		argtypes[k + 1] = many ? get_array_type(b->key_types[k]) : b->key_types[k];
		if (!OidIsValid(argtypes[k + 1]))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("key column \"%s\" of table %s has a type without an array type",
							b->key_names[k], b->relname)));
	}
	return sf_binding_plan(b, kind, plan_sql(b, kind), b->nkeys + 1, argtypes);
}

/* Error context of fire(): which row the event was applied to. */
typedef struct SfCallInfo
{
	const char *what;
	SfBinding  *binding;
	const char *key;
} SfCallInfo;

static void
call_error_context(void *arg)
{
	SfCallInfo *info = arg;

	if (info->key)
		errcontext("%s on %s %s", info->what, info->binding->relname, info->key);
	else
		errcontext("%s on %s", info->what, info->binding->relname);
}

/*
 * Run a plan of the binding with the call's context pushed.  Returns the
 * number of rows updated; *status receives the new status of the first one
 * (copied into the caller's memory) when status is not NULL.
 */
static uint64
run_plan(SfBinding *b, SfPlanKind kind, Datum *params, SfContext *ctx,
		 SfCallInfo *info, char **status)
{
	MemoryContext callercxt = CurrentMemoryContext;
	ErrorContextCallback errcb;
	uint64		processed = 0;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	errcb.callback = call_error_context;
	errcb.arg = info;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
		sf_push_context(ctx);
	PG_TRY();
	{
		rc = SPI_execute_plan(sf_update_plan(b, kind), params, NULL, false, 0);
		if (rc != SPI_OK_UPDATE && rc != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "statusflow: transition query failed: %s",
				 SPI_result_code_string(rc));
		processed = SPI_processed;
		if (status != NULL && processed > 0)
			*status = MemoryContextStrdup(callercxt,
										  SPI_getvalue(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1));
	}
		PG_CATCH();
	{
		sf_pop_context(ctx);
		PG_RE_THROW();
	}
	PG_END_TRY();
	sf_pop_context(ctx);
	error_context_stack = errcb.previous;
	SPI_finish();
	return processed;
}

/* transition() and fire(): one key. */
static Datum
apply_one(FunctionCallInfo fcinfo, bool fire)
{
	SfContext	ctx;
	SfCallInfo	info;
	SfBinding  *b;
	Datum		params[INDEX_MAX_KEYS + 1];
	char	   *target;
	char	   *status = NULL;

	require_args(fcinfo, "key", fire ? "event" : "to_status");
	target = text_to_cstring(PG_GETARG_TEXT_PP(ARG_TARGET));
	b = call_binding(fcinfo, fire ? target : NULL, &ctx);
	if (fire)
		params[0] = CStringGetTextDatum(target);
	else
		params[0] = ObjectIdGetDatum(
			b->workflow->statuses[sf_require_status(b->workflow, target)].enum_oid);
	sf_key_values(b, PG_GETARG_DATUM(ARG_KEY),
			   get_fn_expr_argtype(fcinfo->flinfo, ARG_KEY), &params[1]);
	info.what = fire ? psprintf("statusflow.fire(%s)", quote_literal_cstr(target)) :
		psprintf("statusflow.transition(%s)", quote_literal_cstr(target));
	info.binding = b;
	info.key = key_text(b, &params[1]);
	if (run_plan(b, fire ? SF_PLAN_FIRE : SF_PLAN_TRANSITION, params, &ctx,
				 &info, &status) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s has no row with key %s", b->relname, info.key)));
	PG_RETURN_TEXT_P(cstring_to_text(status));
}

/* transition_many() and fire_many(): an array of keys. */
static Datum
apply_many(FunctionCallInfo fcinfo, bool fire)
{
	SfContext	ctx;
	SfCallInfo	info;
	SfBinding  *b;
	ArrayType  *keys;
	Oid			elemtype;
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	Datum	   *elems;
	bool	   *elemnulls;
	int			nelems,
				i,
				k;
	Datum	  **columns;
	Datum		params[INDEX_MAX_KEYS + 1];
	char	   *target;

	require_args(fcinfo, "keys", fire ? "event" : "to_status");
	target = text_to_cstring(PG_GETARG_TEXT_PP(ARG_TARGET));
	b = call_binding(fcinfo, fire ? target : NULL, &ctx);
	if (fire)
		params[0] = CStringGetTextDatum(target);
	else
		params[0] = ObjectIdGetDatum(
			b->workflow->statuses[sf_require_status(b->workflow, target)].enum_oid);

	keys = PG_GETARG_ARRAYTYPE_P(ARG_KEY);
	elemtype = ARR_ELEMTYPE(keys);
	get_typlenbyvalalign(elemtype, &elemlen, &elembyval, &elemalign);
	deconstruct_array(keys, elemtype, elemlen, elembyval, elemalign,
					  &elems, &elemnulls, &nelems);
	columns = palloc(sizeof(Datum *) * b->nkeys);
	for (k = 0; k < b->nkeys; k++)
		columns[k] = palloc(sizeof(Datum) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
	{
		Datum		one[INDEX_MAX_KEYS];

		if (elemnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("keys must not contain nulls")));
		sf_key_values(b, elems[i], elemtype, one);
		for (k = 0; k < b->nkeys; k++)
			columns[k][i] = one[k];
	}
	for (k = 0; k < b->nkeys; k++)
	{
		int16		len;
		bool		byval;
		char		align;

		get_typlenbyvalalign(b->key_types[k], &len, &byval, &align);
		params[k + 1] = PointerGetDatum(construct_array(columns[k], nelems,
														b->key_types[k],
														len, byval, align));
	}
	info.what = fire ? psprintf("statusflow.fire_many(%s)", quote_literal_cstr(target)) :
		psprintf("statusflow.transition_many(%s)", quote_literal_cstr(target));
	info.binding = b;
	info.key = NULL;
	PG_RETURN_INT64((int64) run_plan(b, fire ? SF_PLAN_FIRE_MANY : SF_PLAN_TRANSITION_MANY,
									 params, &ctx, &info, NULL));
}

/*
 * statusflow.transition(table_name, key, to_status, reason, metadata, actor,
 *						 occurred_at, column_name) returns text
 */
Datum
sf_transition(PG_FUNCTION_ARGS)
{
	return apply_one(fcinfo, false);
}

/*
 * statusflow.fire(table_name, key, event, reason, metadata, actor,
 *				   occurred_at, column_name) returns text
 */
Datum
sf_fire(PG_FUNCTION_ARGS)
{
	return apply_one(fcinfo, true);
}

/* statusflow.transition_many(table_name, keys, to_status, ...) returns bigint */
Datum
sf_transition_many(PG_FUNCTION_ARGS)
{
	return apply_many(fcinfo, false);
}

/* statusflow.fire_many(table_name, keys, event, ...) returns bigint */
Datum
sf_fire_many(PG_FUNCTION_ARGS)
{
	return apply_many(fcinfo, true);
}

/*
 * statusflow._event_target(current_status, row, binding, event): the status
 * the event leads to from the row's current status, after the guards (which
 * may look at the row).  Evaluated by fire()'s UPDATE on the row it has
 * locked, so a concurrent change is seen.
 */
Datum
sf_event_target(PG_FUNCTION_ARGS)
{
	SfBinding  *b;
	SfWorkflow *wf;
	Relation	rel;
	HeapTupleData tuple;
	char	   *event;
	char	   *events;
	int			from,
				to;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("row, binding and event must not be null")));
	b = sf_binding_by_id(PG_GETARG_INT32(2));
	if (b == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("statusflow binding %d does not exist", PG_GETARG_INT32(2))));
	wf = b->workflow;
	event = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("event \"%s\" does not apply to a row without a status", event)));
	from = sf_status_index(wf, PG_GETARG_OID(0));
	if (from < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("status \"%s\" is not registered in workflow \"%s\"",
						DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(0))),
						wf->name)));

	tuple.t_data = PG_GETARG_HEAPTUPLEHEADER(1);
	tuple.t_len = HeapTupleHeaderGetDatumLength(tuple.t_data);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = b->relid;
	/* the UPDATE running this holds a lock on the bound table */
	rel = table_open(b->relid, NoLock);
	if (sf_choose_event(b, sf_binding_relinfo(b, rel), rel, &tuple, from,
						event, &to) < 0)
	{
		events = sf_events_list(wf, from);
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("event \"%s\" does not apply to status \"%s\"",
						event, wf->statuses[from].label),
				 errdetail("Workflow \"%s\" has no transition on event \"%s\" from \"%s\".",
						   wf->name, event, wf->statuses[from].label),
				 events[0] ? errhint("Events from \"%s\": %s.", wf->statuses[from].label, events) :
				 errhint("No event applies to \"%s\".", wf->statuses[from].label)));
	}
	table_close(rel, NoLock);
	PG_RETURN_OID(wf->statuses[to].enum_oid);
}

/*
 * statusflow.can_transition(workflow, from_status, to_status): whether the
 * workflow lets a row go from one status to the other, for the current
 * role.  Staying in the same status is always allowed, as it is no
 * transition.  Guards that depend on the row (conditions, reasons, uses)
 * are not evaluated; a transition back to the previous status counts for
 * every status that can lead to from_status.
 */
Datum
sf_can_transition(PG_FUNCTION_ARGS)
{
	SfWorkflow *wf = sf_workflow_by_name(text_to_cstring(PG_GETARG_TEXT_PP(0)),
										 false);
	int			from = sf_require_status(wf, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	int			to = sf_require_status(wf, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	int			n = wf->nstatuses;
	int			i;

	if (from == to)
		PG_RETURN_BOOL(true);
	for (i = 0; i < wf->ntransitions; i++)
	{
		SfTransition *t = &wf->transitions[i];

		if (t->from != from || !sf_roles_allow(t))
			continue;
		/* back to the previous status: "to" must be able to lead to "from" */
		if (t->to == to || (t->to < 0 && wf->edge_first[to * n + from] >= 0))
			PG_RETURN_BOOL(true);
	}
	PG_RETURN_BOOL(false);
}

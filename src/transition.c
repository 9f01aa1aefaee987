/*-------------------------------------------------------------------------
 *
 * transition.c
 *	  The transition API: transition(), fire(), their set-based forms and
 *	  can_transition().
 *
 * Each call runs UPDATEs of the bound table through plans prepared once per
 * binding, so every change still goes through the binding's triggers: the
 * API adds nothing the triggers would not check.  While an UPDATE runs, the
 * call's actor, reason, metadata, time and event sit on a context stack
 * that the triggers of that binding read for the history row.  A batch
 * (ingest_batch()) pushes one context holding a context per key, so that
 * each row of its UPDATE gets its own.
 *
 * fire() locks the row first (SELECT ... FOR UPDATE), works out in C where
 * the event leads from the locked row's status, then runs the same UPDATE
 * as transition(): a concurrent change is seen, and no function of ours
 * runs inside the caller's UPDATE.
 *
 * The generated SQL names the table with its schema, compares keys with
 * OPERATOR(schema.op), the equality operator of the key type's default
 * operator class, and passes statuses and keys as typed parameters: nothing
 * in it resolves through the caller's search_path.  It runs with the
 * caller's rights and search_path, so that the table's own triggers see
 * what they see for a plain UPDATE.
 *
 * A key is passed as a value of any type and converted exactly to the type
 * of the primary key column: strings by their text form, other values by an
 * implicit cast or by an assignment cast that converts back to the same
 * value (so 1.5 is no integer key).  A composite key is passed as a row,
 * ROW(1, 'a'), or as its text form, '(1,a)'.  The set-based forms take an
 * array of such keys.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "parser/parse_coerce.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "statusflow.h"
#include "compat.h"

PG_FUNCTION_INFO_V1(sf_transition);
PG_FUNCTION_INFO_V1(sf_key_object);
PG_FUNCTION_INFO_V1(sf_fire);
PG_FUNCTION_INFO_V1(sf_transition_many);
PG_FUNCTION_INFO_V1(sf_fire_many);
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
#define ARG_EXPECT		8		/* from 1.1 */

static SfContext *context_top = NULL;

static int	event_target(SfBinding *b, Relation rel, HeapTuple tuple,
						 const char *event);

/*
 * A map from keys (a row of values, never null: a primary key's, say) to
 * numbers, an open-addressing hash table that compares and hashes the
 * values by their binary images, detoasted.  The rows of a table keep
 * their key values' images, so the keys read from its rows find them.  The
 * values are not copied: they must live as long as the map.
 */
struct SfKeyMap
{
	int			ncols;
	int16		typlen[INDEX_MAX_KEYS];
	bool		typbyval[INDEX_MAX_KEYS];
	int			size;			/* slots, a power of two */
	int			count;
	int			capacity;
	Datum	   *keys;			/* [slot * ncols + k] */
	int		   *values;			/* [slot]; -1: the slot is free */
};

/* A map for at most capacity keys of ncols columns of these types. */
SfKeyMap *
sf_key_map_create(int ncols, const Oid *types, int capacity)
{
	SfKeyMap   *map = palloc0(sizeof(SfKeyMap));
	int			k;

	map->ncols = ncols;
	for (k = 0; k < ncols; k++)
		get_typlenbyval(types[k], &map->typlen[k], &map->typbyval[k]);
	map->capacity = Max(capacity, 1);
	map->size = 2;
	while (map->size < 2 * map->capacity)
		map->size *= 2;
	map->keys = palloc(sizeof(Datum) * map->size * ncols);
	map->values = palloc(sizeof(int) * map->size);
	memset(map->values, -1, sizeof(int) * map->size);
	return map;
}

/* The slot of a key: where it is, or the free slot where it would go. */
static int
key_map_slot(SfKeyMap *map, Datum *keys)
{
	uint32		hash = 0;
	int			slot,
				k;

	for (k = 0; k < map->ncols; k++)
		hash = hash_combine(hash, datum_image_hash(keys[k], map->typbyval[k],
												   map->typlen[k]));
	for (slot = hash & (map->size - 1);; slot = (slot + 1) & (map->size - 1))
	{
		Datum	   *there = &map->keys[slot * map->ncols];

		if (map->values[slot] < 0)
			return slot;
		for (k = 0; k < map->ncols; k++)
			if (!datum_image_eq(keys[k], there[k], map->typbyval[k], map->typlen[k]))
				break;
		if (k == map->ncols)
			return slot;
	}
}

/*
 * Add a key with a number (not negative), unless it is there: returns the
 * key's number, value when it is new.
 */
int
sf_key_map_add(SfKeyMap *map, Datum *keys, int value)
{
	int			slot = key_map_slot(map, keys);

	Assert(value >= 0);
	if (map->values[slot] >= 0)
		return map->values[slot];
	if (map->count == map->capacity)
		elog(ERROR, "statusflow: key map is full");
	memcpy(&map->keys[slot * map->ncols], keys, sizeof(Datum) * map->ncols);
	map->values[slot] = value;
	map->count++;
	return value;
}

/* The number of a key, -1 when it is not in the map. */
int
sf_key_map_find(SfKeyMap *map, Datum *keys)
{
	return map->values[key_map_slot(map, keys)];
}

/*
 * The context of the change the triggers of a binding see on the row of
 * a key (keys and key_nulls as sf_row_keys() gives them): the context of
 * the API call now changing rows of the binding, or for a batch, the
 * row's own; NULL for none.
 */
SfContext *
sf_change_context(SfBinding *b, Datum *keys, bool *key_nulls)
{
	SfContext  *ctx = context_top;
	int			i,
				k;

	/* on a Citus worker: the context of the coordinator's call */
	if (ctx == NULL && sf_guc_context != NULL && sf_guc_context[0] != '\0')
		return sf_citus_received_context(sf_guc_context, b->id);
	if (ctx == NULL || ctx->binding_id != b->id)
		return NULL;
	if (ctx->by_key == NULL)
		return ctx;
	for (k = 0; k < b->nkeys; k++)
		if (key_nulls[k])
			return NULL;
	i = sf_key_map_find(ctx->by_key, keys);
	return i < 0 ? NULL : ctx->row_contexts[i];
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

/* Forget every context: the transaction is aborting. */
void
sf_forget_contexts(void)
{
	context_top = NULL;
}

/* Is there a reason for the history row of the change of a key's row? */
bool
sf_reason_given(SfBinding *b, Datum *keys, bool *key_nulls)
{
	SfContext  *ctx = sf_change_context(b, keys, key_nulls);

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
		ctx->occurred_at = sf_check_occurred_at(PG_GETARG_TIMESTAMPTZ(ARG_OCCURRED));
	return b;
}

/* Apply a coercion path found by find_coercion_pathway() to v. */
static Datum
coerce_value(CoercionPathType path, Oid funcid, Datum v, Oid from, Oid to,
			 int32 typmod)
{
	Oid			typoutput,
				typinput,
				typioparam;
	bool		varlena;

	switch (path)
	{
		case COERCION_PATH_RELABELTYPE:
			return v;
		case COERCION_PATH_FUNC:
			if (get_func_nargs(funcid) == 1)
				return OidFunctionCall1(funcid, v);
			return OidFunctionCall3(funcid, v, Int32GetDatum(typmod),
									BoolGetDatum(false));
		default:
			getTypeOutputInfo(from, &typoutput, &varlena);
			getTypeInputInfo(to, &typinput, &typioparam);
			return OidInputFunctionCall(typinput, OidOutputFunctionCall(typoutput, v),
										typioparam, typmod);
	}
}

/* Refuse a key value that does not convert to the key column's type. */
static void
key_type_error(Oid from, Oid to, Datum v, bool inexact)
{
	Oid			typoutput;
	bool		varlena;

	getTypeOutputInfo(from, &typoutput, &varlena);
	if (inexact)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key %s of type %s does not convert exactly to type %s",
						OidOutputFunctionCall(typoutput, v), format_type_be(from),
						format_type_be(to)),
				 errhint("Pass the key as a value of the key column's type.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("a key of type %s cannot be used for a key column of type %s",
					format_type_be(from), format_type_be(to))));
}

/*
 * Does converting v of type from to result, of type to, keep its value:
 * does result convert back to a value equal to v?
 */
static bool
converts_back(Datum v, Oid from, Datum result, Oid to)
{
	TypeCacheEntry *tc = lookup_type_cache(from, TYPECACHE_EQ_OPR_FINFO);
	CoercionPathType path;
	Oid			funcid;
	Datum		back;

	if (!OidIsValid(tc->eq_opr_finfo.fn_oid))
		return false;
	path = find_coercion_pathway(from, to, COERCION_ASSIGNMENT, &funcid);
	if (path == COERCION_PATH_NONE || path == COERCION_PATH_ARRAYCOERCE)
		return false;
	back = coerce_value(path, funcid, result, to, from, -1);
	return DatumGetBool(FunctionCall2Coll(&tc->eq_opr_finfo, tc->typcollation,
										  v, back));
}

/*
 * v of type from, as a value of type to: strings (and untyped literals)
 * through their text form; other values through an implicit cast, or an
 * assignment cast provided the value converts back unchanged.
 */
static Datum
convert_value(Datum v, Oid from, Oid to, int32 typmod)
{
	CoercionPathType path;
	Oid			funcid;
	Datum		result;

	if (from == to)
		return v;
	if (TypeCategory(from) == TYPCATEGORY_STRING ||
		TypeCategory(from) == TYPCATEGORY_UNKNOWN)
		return coerce_value(COERCION_PATH_COERCEVIAIO, InvalidOid, v, from, to,
							typmod);
	path = find_coercion_pathway(to, from, COERCION_IMPLICIT, &funcid);
	if (path != COERCION_PATH_NONE && path != COERCION_PATH_ARRAYCOERCE)
		return coerce_value(path, funcid, v, from, to, typmod);
	path = find_coercion_pathway(to, from, COERCION_ASSIGNMENT, &funcid);
	if (path == COERCION_PATH_NONE || path == COERCION_PATH_ARRAYCOERCE)
		key_type_error(from, to, v, false);
	result = coerce_value(path, funcid, v, from, to, typmod);
	if (!converts_back(v, from, result, to))
		key_type_error(from, to, v, true);
	return result;
}

/* Refuse a key that has not as many values as the table has key columns. */
sf_noreturn static void key_arity_error(SfBinding *b);

static void
key_arity_error(SfBinding *b)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("a key of table %s has %d columns", b->relname, b->nkeys),
			 errhint("Pass a row of the values of (%s), such as ROW(...), or its text form.",
					 sf_key_columns(b, NULL))));
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

/* Key column values as the jsonb object reports use: {"id": 42}. */
Datum
sf_key_json(SfBinding *b, Datum *keys)
{
	bool		nulls[INDEX_MAX_KEYS] = {false};
	Datum		row = HeapTupleGetDatum(heap_form_tuple(key_tupdesc(b), keys, nulls));
	char	   *json = TextDatumGetCString(DirectFunctionCall1(row_to_json, row));

	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

/*
 * statusflow_internal.key_object(binding integer, key anyelement) RETURNS jsonb
 *
 * A key argument, read as transition() reads it, as the jsonb object of the
 * key columns that reports work with: {"id": 42}, {"shop": "n", "code": 7}.
 */
Datum
sf_key_object(PG_FUNCTION_ARGS)
{
	SfBinding  *b;
	Datum		keys[INDEX_MAX_KEYS];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(1) ? "key" : "binding")));
	b = sf_binding_arg(PG_GETARG_INT32(0));
	sf_key_values(b, PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1),
				  keys);
	PG_RETURN_DATUM(sf_key_json(b, keys));
}

/* "(a, b)=(1, 2)" for key values, for messages. */
static char *
key_text(SfBinding *b, Datum *keys)
{
	bool		nulls[INDEX_MAX_KEYS] = {false};

	return sf_format_key(b, keys, nulls);
}

/*
 * "t.a OPERATOR(s.=) <a> AND ...": every key column matched; fmt prints
 * the value of the k-th key column from number first + k.
 */
static void
append_key_match(StringInfo sql, SfBinding *b, const char *fmt, int first)
{
	int			k;

	for (k = 0; k < b->nkeys; k++)
	{
		appendStringInfo(sql, "%st.%s OPERATOR(%s) ", k ? " AND " : "",
						 quote_identifier(b->key_names[k]),
						 sf_equality_operator(b->key_types[k]));
		appendStringInfo(sql, fmt, first + k);
	}
}

/*
 * "ROWS FROM (pg_catalog.unnest($first), ...) AS k(c1, ...)": the rows of
 * key arrays, parameters first..., after a status array when targets is
 * set (column target), numbered (column i) when numbered is set.
 */
static void
append_key_rows(StringInfo sql, SfBinding *b, int first, bool targets, bool numbered)
{
	int			k;

	appendStringInfoString(sql, "ROWS FROM (");
	if (targets)
		appendStringInfo(sql, "pg_catalog.unnest($%d), ", first++);
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(sql, "%spg_catalog.unnest($%d)", k ? ", " : "", first + k);
	appendStringInfo(sql, ")%s AS k(%s", numbered ? " WITH ORDINALITY" : "",
					 targets ? "target, " : "");
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(sql, "%sc%d", k ? ", " : "", k + 1);
	appendStringInfoString(sql, numbered ? ", i)" : ")");
}

/* " ORDER BY t.k1, ...": rows in key order. */
static void
append_key_order(StringInfo sql, SfBinding *b)
{
	int			k;

	appendStringInfoString(sql, " ORDER BY ");
	for (k = 0; k < b->nkeys; k++)
		appendStringInfo(sql, "%st.%s", k ? ", " : "", quote_identifier(b->key_names[k]));
}

/*
 * The SQL of a plan kind.  Key parameters follow the target status:
 *	TRANSITION		UPDATE one key ($2...) to status $1, RETURNING it
 *	TRANSITION_MANY	UPDATE the keys of arrays $2... to status $1
 *	MOVE_MANY		UPDATE each key of arrays $2... to the status at the same
 *					place in array $1
 *	MOVE_RETURNING	the same, RETURNING the rows whole
 *	LOCK			SELECT FOR UPDATE the row of one key ($1...), whole
 *	LOCK_MANY		SELECT FOR UPDATE the rows of the keys of arrays $1..., in
 *					key order
 *	LOCK_KEYS		the same, each row whole with the place of its key in the
 *					arrays (from 1), once for each key that finds it
 */
static char *
plan_sql(SfBinding *b, SfPlanKind kind)
{
	StringInfoData sql;
	const char *col = quote_identifier(b->column);

	initStringInfo(&sql);
	switch (kind)
	{
		case SF_PLAN_TRANSITION:
			appendStringInfo(&sql, "UPDATE %s AS t SET %s = $1 WHERE ", b->relname, col);
			append_key_match(&sql, b, "$%d", 2);
			appendStringInfo(&sql, " RETURNING t.%s", col);
			break;
		case SF_PLAN_TRANSITION_MANY:
			appendStringInfo(&sql, "UPDATE %s AS t SET %s = $1 FROM ", b->relname, col);
			append_key_rows(&sql, b, 2, false, false);
			appendStringInfoString(&sql, " WHERE ");
			append_key_match(&sql, b, "k.c%d", 1);
			break;
		case SF_PLAN_MOVE_MANY:
		case SF_PLAN_MOVE_RETURNING:
			appendStringInfo(&sql, "UPDATE %s AS t SET %s = k.target FROM ", b->relname, col);
			append_key_rows(&sql, b, 1, true, false);
			appendStringInfoString(&sql, " WHERE ");
			append_key_match(&sql, b, "k.c%d", 1);
			if (kind == SF_PLAN_MOVE_RETURNING)
				appendStringInfoString(&sql, " RETURNING t");
			break;
		case SF_PLAN_LOCK:
		case SF_PLAN_READ:
			appendStringInfo(&sql, "SELECT t FROM %s AS t WHERE ", b->relname);
			append_key_match(&sql, b, "$%d", 1);
			if (kind == SF_PLAN_LOCK)
				appendStringInfoString(&sql, " FOR UPDATE OF t");
			break;
		case SF_PLAN_LOCK_MANY:
			appendStringInfo(&sql, "SELECT t FROM %s AS t WHERE EXISTS (SELECT FROM ",
							 b->relname);
			append_key_rows(&sql, b, 1, false, false);
			appendStringInfoString(&sql, " WHERE ");
			append_key_match(&sql, b, "k.c%d", 1);
			appendStringInfoChar(&sql, ')');
			append_key_order(&sql, b);
			appendStringInfoString(&sql, " FOR UPDATE OF t");
			break;
		case SF_PLAN_LOCK_KEYS:
			appendStringInfoString(&sql, "SELECT t, k.i FROM ");
			append_key_rows(&sql, b, 1, false, true);
			appendStringInfo(&sql, " JOIN %s AS t ON ", b->relname);
			append_key_match(&sql, b, "k.c%d", 1);
			append_key_order(&sql, b);
			appendStringInfoString(&sql, ", k.i FOR UPDATE OF t");
			break;
		default:
			elog(ERROR, "statusflow: plan kind %d is not an API plan", (int) kind);
	}
	return sql.data;
}

/* The array type of a key column's type, or an error. */
static Oid
key_array_type(SfBinding *b, int k)
{
	Oid			t = get_array_type(b->key_types[k]);

	if (!OidIsValid(t))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("key column \"%s\" of table %s has a type without an array type",
						b->key_names[k], b->relname)));
	return t;
}

/* The plan of an API kind for a binding, prepared on first use and kept. */
SPIPlanPtr
sf_update_plan(SfBinding *b, SfPlanKind kind)
{
	Oid			argtypes[INDEX_MAX_KEYS + 1];
	int			nargs = 0;
	int			k;

	if (b->plans[kind])
		return b->plans[kind];
	switch (kind)
	{
		case SF_PLAN_TRANSITION:
		case SF_PLAN_TRANSITION_MANY:
			argtypes[nargs++] = b->workflow->type_oid;
			break;
		case SF_PLAN_MOVE_MANY:
		case SF_PLAN_MOVE_RETURNING:
			argtypes[nargs++] = get_array_type(b->workflow->type_oid);
			break;
		default:
			break;
	}
	for (k = 0; k < b->nkeys; k++)
		argtypes[nargs++] = (kind == SF_PLAN_TRANSITION || kind == SF_PLAN_LOCK ||
							 kind == SF_PLAN_READ) ?
			b->key_types[k] : key_array_type(b, k);
	return sf_binding_plan(b, kind, plan_sql(b, kind), nargs, argtypes);
}

/* The label of a status value of the binding's type. */
static char *
status_label(SfBinding *b, Datum value)
{
	int			i = sf_status_index(b->workflow, DatumGetObjectId(value));

	if (i >= 0)
		return b->workflow->statuses[i].label;
	return DatumGetCString(DirectFunctionCall1(enum_out, value));
}

/* Error context of the API: which call, on which row. */
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
 * Run a plan of the binding (SPI connected) with a context pushed; returns
 * the number of rows processed.
 */
uint64
sf_run_with_context(SfBinding *b, SfPlanKind kind, Datum *params, SfContext *ctx)
{
	volatile int rc;			/* set in PG_TRY, read after it */

	sf_citus_send_context(b, ctx);
	sf_push_context(ctx);
	PG_TRY();
	{
		rc = SPI_execute_plan(sf_update_plan(b, kind), params, NULL, false, 0);
	}
	PG_FINALLY();
	{
		sf_pop_context(ctx);
	}
	PG_END_TRY();
	if (rc < 0)
		elog(ERROR, "statusflow: transition query failed: %s",
			 SPI_result_code_string(rc));
	sf_citus_send_context(b, NULL);
	return SPI_processed;
}

/*
 * The whole row of row i of the last SPI result, column 1: a row of the
 * bound relation rel, locked by a LOCK plan or a timer's due-rows query.
 */
HeapTuple
sf_locked_row(Relation rel, uint64 i)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1,
								  &isnull);
	HeapTupleHeader th;
	HeapTuple	tuple;

	if (isnull)
		elog(ERROR, "statusflow: a locked row is null");
	th = DatumGetHeapTupleHeader(d);
	if (HeapTupleHeaderGetTypeId(th) != rel->rd_rel->reltype)
		elog(ERROR, "statusflow: a locked row is not a row of %s",
			 RelationGetRelationName(rel));
	tuple = palloc(HEAPTUPLESIZE);
	tuple->t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple->t_self);
	tuple->t_tableOid = RelationGetRelid(rel);
	tuple->t_data = th;
	return tuple;
}

/*
 * The status an event leads to from a row of the bound table rel, after
 * the guards (which may look at the row, and at the call's context: a
 * reason); raises when it leads nowhere.
 */
int
sf_event_status(SfBinding *b, Relation rel, HeapTuple tuple, const char *event,
				SfContext *ctx)
{
	volatile int to;			/* set in PG_TRY, read after it */

	sf_push_context(ctx);
	PG_TRY();
	{
		to = event_target(b, rel, tuple, event);
	}
	PG_FINALLY();
	{
		sf_pop_context(ctx);
	}
	PG_END_TRY();
	return to;
}

/* sf_event_target(), its context pushed. */
static int
event_target(SfBinding *b, Relation rel, HeapTuple tuple, const char *event)
{
	SfWorkflow *wf = b->workflow;
	SfRelInfo  *ri = sf_binding_relinfo(b, rel);
	bool		isnull;
	Datum		value = heap_getattr(tuple, ri->status_attnum,
									 RelationGetDescr(rel), &isnull);
	char	   *key = sf_key_description(b, ri, RelationGetDescr(rel), tuple);
	char	   *events;
	int			from,
				to;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("event \"%s\" does not apply to %s %s, which has no status",
						event, b->relname, key),
				 errdetail("Events apply from a status; the row's \"%s\" is null.", b->column),
				 errhint("Set one of its initial statuses first: %s.",
						 sf_status_list(wf, true)),
				 sf_errbinding(b)));
	from = sf_status_index(wf, DatumGetObjectId(value));
	if (from < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("status \"%s\" of %s %s is not registered in workflow \"%s\"",
						status_label(b, value), b->relname, key, wf->name),
				 errdetail("Its label was added to type %s behind statusflow's back; workflow \"%s\" has the statuses %s.",
						   format_type_be(wf->type_oid), wf->name, sf_status_list(wf, false)),
				 errhint("Add statuses with statusflow.add_status(), not ALTER TYPE."),
				 sf_errbinding(b)));
	/* the row does not change before the UPDATE: it is its own old row */
	if (sf_choose_event(b, ri, rel, tuple, tuple, from, event, &to) >= 0)
		return to;
	events = sf_events_list(wf, from);
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("event \"%s\" does not apply to status \"%s\" of %s %s",
					event, wf->statuses[from].label, b->relname, key),
			 errdetail("Workflow \"%s\" has no transition on event \"%s\" from \"%s\".",
					   wf->name, event, wf->statuses[from].label),
			 events[0] ? errhint("Events from \"%s\": %s.", wf->statuses[from].label, events) :
			 errhint("No event applies to \"%s\".", wf->statuses[from].label),
			 sf_errbinding(b)));
	return -1;					/* not reached */
}

/*
 * Move n rows of the bound relation rel (whole tuples, locked) each to its
 * target status (an index), with one UPDATE; returns how many it changed.
 */
uint64
sf_move_rows(SfBinding *b, Relation rel, int n, HeapTuple *rows, int *targets,
			 SfContext *ctx)
{
	SfRelInfo  *ri = sf_binding_relinfo(b, rel);
	Datum		params[INDEX_MAX_KEYS + 1];
	Datum	   *statuses = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *keys = palloc(sizeof(Datum) * Max(n, 1) * b->nkeys);
	bool		nulls[INDEX_MAX_KEYS];
	int			i;

	for (i = 0; i < n; i++)
	{
		sf_row_keys(b, ri, RelationGetDescr(rel), rows[i], &keys[i * b->nkeys], nulls);
		statuses[i] = ObjectIdGetDatum(b->workflow->statuses[targets[i]].enum_oid);
	}
	params[0] = sf_status_array(b, n, statuses);
	sf_key_params(b, n, keys, &params[1]);
	return sf_run_with_context(b, SF_PLAN_MOVE_MANY, params, ctx);
}

/* n statuses (enum values) as an array of the workflow's type. */
Datum
sf_status_array(SfBinding *b, int n, Datum *statuses)
{
	return PointerGetDatum(construct_array(statuses, n, b->workflow->type_oid,
										   sizeof(Oid), true, TYPALIGN_INT));
}

/* Lock the row of one key (SPI connected); false when there is none. */
bool
sf_lock_row(SfBinding *b, Datum *keys)
{
	if (SPI_execute_plan(sf_update_plan(b, SF_PLAN_LOCK), keys, NULL, false, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not lock a row of %s", b->relname);
	return SPI_processed > 0;
}

/*
 * Read the row of one key of the bound relation rel whole, as the caller
 * sees it (SPI connected); NULL when there is none.
 */
HeapTuple
sf_read_row(SfBinding *b, Relation rel, Datum *keys)
{
	if (SPI_execute_plan(sf_update_plan(b, SF_PLAN_READ), keys, NULL, true, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not read a row of %s", b->relname);
	return SPI_processed > 0 ? sf_locked_row(rel, 0) : NULL;
}

/* Refuse a call on a key that has no row (key: as sf_format_key() prints it). */
void
sf_no_row(SfBinding *b, const char *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("%s has no row with key %s", b->relname, key),
			 errdetail("No row of %s has this key, or none the current role can see.",
					   b->relname),
			 errhint("Keys are compared exactly, converted to the type of the key columns (%s).",
					 sf_key_columns(b, NULL)),
			 sf_errbinding(b)));
}

/*
 * lock_for_event() of a LOCK_MANY on a Citus-distributed table, whose
 * shards Citus does not lock in one statement: the LOCK plan (a router
 * query) for each key of the arrays key_arrays, in the keys' order.  Keys
 * without a row are skipped, as LOCK_MANY skips them.
 */
static int
lock_each_for_event(SfBinding *b, Datum *key_arrays, const char *event,
					SfContext *ctx, Relation *rel, HeapTuple **rows, int **targets)
{
	Datum	   *columns[INDEX_MAX_KEYS];
	int			nkeys = 0,
				n = 0,
				i,
				k;

	for (k = 0; k < b->nkeys; k++)
	{
		int16		len;
		bool		byval;
		char		align;

		get_typlenbyvalalign(b->key_types[k], &len, &byval, &align);
		deconstruct_array(DatumGetArrayTypeP(key_arrays[k]), b->key_types[k], len,
						  byval, align, &columns[k], NULL, &nkeys);
	}
	*rel = table_open(b->relid, AccessShareLock);
	*rows = palloc(sizeof(HeapTuple) * Max(nkeys, 1));
	*targets = palloc(sizeof(int) * Max(nkeys, 1));
	for (i = 0; i < nkeys; i++)
	{
		Datum		key[INDEX_MAX_KEYS];

		for (k = 0; k < b->nkeys; k++)
			key[k] = columns[k][i];
		if (SPI_execute_plan(sf_update_plan(b, SF_PLAN_LOCK), key, NULL, false, 1)
			!= SPI_OK_SELECT)
			elog(ERROR, "statusflow: could not lock rows of %s", b->relname);
		if (SPI_processed == 0)
			continue;
		(*rows)[n] = sf_locked_row(*rel, 0);
		(*targets)[n] = sf_event_status(b, *rel, (*rows)[n], event, ctx);
		n++;
	}
	return n;
}

/*
 * Lock the rows of a LOCK or LOCK_MANY plan and work out where the event
 * takes each one; returns how many, the rows and their targets.  The bound
 * table is left open in *rel.
 */
static int
lock_for_event(SfBinding *b, SfPlanKind kind, Datum *key_params,
			   const char *event, SfContext *ctx, Relation *rel,
			   HeapTuple **rows, int **targets)
{
	SPITupleTable *locked;
	int			n,
				i;

	if (kind == SF_PLAN_LOCK_MANY && sf_citus_distributed(b))
		return lock_each_for_event(b, key_params, event, ctx, rel, rows, targets);
	if (SPI_execute_plan(sf_update_plan(b, kind), key_params, NULL, false, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not lock rows of %s", b->relname);
	locked = SPI_tuptable;
	n = (int) SPI_processed;
	*rel = table_open(b->relid, AccessShareLock);
	*rows = palloc(sizeof(HeapTuple) * Max(n, 1));
	*targets = palloc(sizeof(int) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		SPI_tuptable = locked;
		(*rows)[i] = sf_locked_row(*rel, i);
		(*targets)[i] = sf_event_status(b, *rel, (*rows)[i], event, ctx);
	}
	return n;
}

/* The status of a row of rel (an index), -1 for none. */
int
sf_row_status(SfBinding *b, Relation rel, HeapTuple row)
{
	bool		isnull;
	Datum		value = heap_getattr(row, sf_binding_relinfo(b, rel)->status_attnum,
									 RelationGetDescr(rel), &isnull);

	return isnull ? -1 : sf_status_index(b->workflow, DatumGetObjectId(value));
}

/*
 * Record a repeated event: an event whose transition leads a row back to
 * its own status changes nothing in the row, so no UPDATE runs, and it is
 * recorded all the same (history row, notification) with the call's who
 * and why.  The row is locked; its guards have passed.
 */
void
sf_record_repeat(SfBinding *b, Relation rel, HeapTuple row, int status,
				 SfContext *ctx)
{
	Datum		keys[INDEX_MAX_KEYS];
	bool		key_nulls[INDEX_MAX_KEYS];
	SfHistoryRow h;

	sf_row_keys(b, sf_binding_relinfo(b, rel), RelationGetDescr(rel), row, keys,
				key_nulls);
	h.keys = keys;
	h.key_nulls = key_nulls;
	h.from_status = h.to_status =
		ObjectIdGetDatum(b->workflow->statuses[status].enum_oid);
	h.from_null = h.to_null = false;
	h.event = ctx->event;
	h.applied = true;
	h.history_relid = InvalidOid;
	sf_push_context(ctx);
	PG_TRY();
	{
		int64		history_id = sf_record_change(b, &h);

		if (b->workflow->nactions > 0)
			sf_run_actions(b, rel, &h, row, row, status, status, history_id);
	}
	PG_FINALLY();
	{
		sf_pop_context(ctx);
	}
	PG_END_TRY();
}

/*
 * The status fire() moves one key's row to, its row locked; a repeated
 * event is recorded here, and *repeated says so.
 */
static int
fire_target(SfBinding *b, Datum *keys, const char *event, const char *key,
			SfContext *ctx, bool *repeated)
{
	Relation	rel;
	HeapTuple  *rows;
	int		   *targets;

	if (lock_for_event(b, SF_PLAN_LOCK, keys, event, ctx, &rel, &rows,
					   &targets) == 0)
		sf_no_row(b, key);
	*repeated = (targets[0] == sf_row_status(b, rel, rows[0]));
	if (*repeated)
		sf_record_repeat(b, rel, rows[0], targets[0], ctx);
	table_close(rel, AccessShareLock);
	return targets[0];
}

/*
 * Compare and set: lock the row of a key and refuse (40001) unless it is
 * still in the status expected, the one the caller last saw.
 */
static void
check_expected(SfBinding *b, Datum *keys, const char *key, const char *expected)
{
	int			want = sf_require_status(b->workflow, expected);
	Relation	rel;
	int			found;

	if (!sf_lock_row(b, keys))
		sf_no_row(b, key);
	rel = table_open(b->relid, AccessShareLock);
	found = sf_row_status(b, rel, sf_locked_row(rel, 0));
	table_close(rel, AccessShareLock);
	if (found != want)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("status of %s %s is no longer \"%s\"", b->relname, key, expected),
				 errdetail("The row is in status %s now: it changed since it was read.",
						   found < 0 ? "null" :
						   psprintf("\"%s\"", b->workflow->statuses[found].label)),
				 errhint("Read the row again and decide on its current status."),
				 sf_errbinding(b)));
}

/* transition() and fire(): one key. */
static Datum
apply_one(FunctionCallInfo fcinfo, bool fire)
{
	SfContext	ctx;
	SfCallInfo	info;
	ErrorContextCallback errcb;
	MemoryContext callercxt = CurrentMemoryContext;
	SfBinding  *b;
	Datum		params[INDEX_MAX_KEYS + 1];
	char	   *target;
	char	   *status;
	int			to = -1;
	bool		repeated = false;
	bool		isnull;

	require_args(fcinfo, "key", fire ? "event" : "to_status");
	target = text_to_cstring(PG_GETARG_TEXT_PP(ARG_TARGET));
	b = call_binding(fcinfo, fire ? target : NULL, &ctx);
	if (!fire)
		to = sf_require_status(b->workflow, target);
	sf_key_values(b, PG_GETARG_DATUM(ARG_KEY),
				  get_fn_expr_argtype(fcinfo->flinfo, ARG_KEY), &params[1]);
	info.what = fire ? psprintf("statusflow.fire(%s)", quote_literal_cstr(target)) :
		psprintf("statusflow.transition(%s)", quote_literal_cstr(target));
	info.binding = b;
	info.key = key_text(b, &params[1]);
	errcb.callback = call_error_context;
	errcb.arg = &info;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	if (PG_NARGS() > ARG_EXPECT && !PG_ARGISNULL(ARG_EXPECT))
		check_expected(b, &params[1], info.key,
					   text_to_cstring(PG_GETARG_TEXT_PP(ARG_EXPECT)));
	if (fire)
		to = fire_target(b, &params[1], target, info.key, &ctx, &repeated);
	params[0] = ObjectIdGetDatum(b->workflow->statuses[to].enum_oid);
	if (repeated)
		status = MemoryContextStrdup(callercxt, b->workflow->statuses[to].label);
	else
	{
		if (sf_run_with_context(b, SF_PLAN_TRANSITION, params, &ctx) == 0)
			sf_no_row(b, info.key);
		status = MemoryContextStrdup(callercxt,
									 status_label(b, SPI_getbinval(SPI_tuptable->vals[0],
																   SPI_tuptable->tupdesc,
																   1, &isnull)));
	}
	error_context_stack = errcb.previous;
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(status));
}

/*
 * The keys of an array of keys (no nulls), converted: n rows of nkeys
 * values, the i-th key at [i * nkeys]; *n set.
 */
Datum *
sf_key_elements(SfBinding *b, ArrayType *keys, int *n)
{
	Oid			elemtype = ARR_ELEMTYPE(keys);
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	Datum	   *elems;
	bool	   *elemnulls;
	Datum	   *out;
	int			i;

	get_typlenbyvalalign(elemtype, &elemlen, &elembyval, &elemalign);
	deconstruct_array(keys, elemtype, elemlen, elembyval, elemalign,
					  &elems, &elemnulls, n);
	out = palloc(sizeof(Datum) * Max(*n, 1) * b->nkeys);
	for (i = 0; i < *n; i++)
	{
		if (elemnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("keys must not contain nulls")));
		sf_key_values(b, elems[i], elemtype, &out[i * b->nkeys]);
	}
	return out;
}

/*
 * n keys (n rows of nkeys values, as sf_key_elements() gives them) as the
 * parameters of a plan: one array per key column.
 */
void
sf_key_params(SfBinding *b, int n, Datum *keys, Datum *params)
{
	Datum	   *column = palloc(sizeof(Datum) * Max(n, 1));
	int			i,
				k;

	for (k = 0; k < b->nkeys; k++)
	{
		int16		len;
		bool		byval;
		char		align;

		for (i = 0; i < n; i++)
			column[i] = keys[i * b->nkeys + k];
		get_typlenbyvalalign(b->key_types[k], &len, &byval, &align);
		params[k] = PointerGetDatum(construct_array(column, n, b->key_types[k],
													len, byval, align));
	}
}

/*
 * A keys argument (argument argno): an array of any type, or text, the
 * form drivers send an array parameter in ('{1,2}'), read as an array of
 * key texts.
 */
ArrayType *
sf_keys_argument(FunctionCallInfo fcinfo, int argno)
{
	Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, argno);
	char	   *literal;

	if (OidIsValid(get_element_type(argtype)))
		return PG_GETARG_ARRAYTYPE_P(argno);
	if (argtype == TEXTOID)
		literal = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	else if (argtype == UNKNOWNOID)
		literal = DatumGetCString(PG_GETARG_DATUM(argno));
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("keys must be an array, or an array literal as text, not %s",
						format_type_be(argtype))));
	return DatumGetArrayTypeP(OidInputFunctionCall(F_ARRAY_IN, literal, TEXTOID, -1));
}

/*
 * fire_many(): lock the rows of the keys, work out each one's target,
 * record the repeated events and move the other rows with one UPDATE.
 * Returns how many rows took the event.
 */
static uint64
fire_rows(SfBinding *b, Datum *key_params, const char *event, SfContext *ctx)
{
	Relation	rel;
	HeapTuple  *rows;
	int		   *targets;
	int			n = lock_for_event(b, SF_PLAN_LOCK_MANY, key_params, event, ctx,
								   &rel, &rows, &targets);
	int			nmoving = 0;
	uint64		taken;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (targets[i] == sf_row_status(b, rel, rows[i]))
			sf_record_repeat(b, rel, rows[i], targets[i], ctx);
		else
		{
			rows[nmoving] = rows[i];
			targets[nmoving++] = targets[i];
		}
	}
	taken = n - nmoving;
	if (nmoving > 0)
		taken += sf_move_rows(b, rel, nmoving, rows, targets, ctx);
	table_close(rel, AccessShareLock);
	return taken;
}

/* transition_many() and fire_many(): an array of keys. */
static Datum
apply_many(FunctionCallInfo fcinfo, bool fire)
{
	SfContext	ctx;
	SfCallInfo	info;
	ErrorContextCallback errcb;
	SfBinding  *b;
	Datum		params[INDEX_MAX_KEYS + 1];
	char	   *target;
	Datum	   *keys;
	int			nkeys;
	uint64		n;

	require_args(fcinfo, "keys", fire ? "event" : "to_status");
	target = text_to_cstring(PG_GETARG_TEXT_PP(ARG_TARGET));
	b = call_binding(fcinfo, fire ? target : NULL, &ctx);
	if (!fire)
		params[0] = ObjectIdGetDatum(
			b->workflow->statuses[sf_require_status(b->workflow, target)].enum_oid);
	keys = sf_key_elements(b, sf_keys_argument(fcinfo, ARG_KEY), &nkeys);
	sf_key_params(b, nkeys, keys, &params[1]);
	info.what = fire ? psprintf("statusflow.fire_many(%s)", quote_literal_cstr(target)) :
		psprintf("statusflow.transition_many(%s)", quote_literal_cstr(target));
	info.binding = b;
	info.key = NULL;
	errcb.callback = call_error_context;
	errcb.arg = &info;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	if (fire)
		n = fire_rows(b, &params[1], target, &ctx);
	else
		n = sf_run_with_context(b, SF_PLAN_TRANSITION_MANY, params, &ctx);
	error_context_stack = errcb.previous;
	SPI_finish();
	PG_RETURN_INT64((int64) n);
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
	int			from,
				to,
				n,
				i;

	sf_check_workflow(wf);
	from = sf_require_status(wf, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	to = sf_require_status(wf, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	n = wf->nstatuses;
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

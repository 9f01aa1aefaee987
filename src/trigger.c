/*-------------------------------------------------------------------------
 *
 * trigger.c
 *	  The row triggers that enforce a binding.
 *
 * enforce() runs AFTER INSERT and AFTER UPDATE, the latter only when the
 * status changed (the trigger's WHEN clause, evaluated before anything is
 * queued).  It refuses a new row outside an initial status and an update
 * that follows no declared transition, then appends the history row.  The
 * error aborts the statement, so a refused change leaves nothing behind.
 *
 * Why AFTER and not BEFORE: it sees the row as finally written, after every
 * BEFORE trigger (including ones that change the status or drop the row, or
 * an INSERT ... ON CONFLICT that turned into an UPDATE); and PostgreSQL
 * locks the old row version (one extra WAL record) for every UPDATE of a
 * table with any BEFORE UPDATE row trigger, even when its WHEN clause is
 * false, which made updates that leave the status alone 25 to 50% slower
 * in bench/core.sh.  An AFTER trigger with a false WHEN clause costs one
 * fetch of the old row version.
 *
 * An UPDATE that moves a row to another partition reaches triggers as a
 * DELETE from the old partition followed by an INSERT into the new one.
 * Bindings of partitioned tables therefore also fire enforce() AFTER
 * DELETE: a deleted row marked as moved is remembered, and the INSERT that
 * follows it at the same query depth is checked as an update from its
 * status.
 *
 * No SQL runs per row: the workflow graph comes from the backend cache.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupconvert.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_enforce);

/* PostgreSQL refuses notification payloads this long (see async.c). */
#define SF_NOTIFY_PAYLOAD_MAX	(BLCKSZ - NAMEDATALEN - 128)

/* The binding a statusflow row trigger was created for, after sanity checks. */
static SfBinding *
trigger_binding(FunctionCallInfo fcinfo, const char *funcname)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	SfBinding  *b;
	int			id;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s was not called by the trigger manager", funcname)));
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_AFTER(td->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be fired AFTER INSERT, UPDATE or DELETE FOR EACH ROW",
						funcname)));
	if (td->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s takes the binding id as its only argument", funcname)));
	id = pg_strtoint32(td->tg_trigger->tgargs[0]);
	b = sf_binding_by_id(id);
	if (b == NULL && sf_citus_present())
		b = sf_citus_load_binding(id, td->tg_relation);
	if (b == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("statusflow binding %d of trigger \"%s\" on table \"%s\" does not exist",
						id, td->tg_trigger->tgname,
						RelationGetRelationName(td->tg_relation)),
				 errdetail("The table has statusflow's triggers but statusflow's catalog has no binding for them, as when a data-only restore loads the table before the catalog."),
				 errhint("Restore data-only dumps with --disable-triggers (pg_dump or pg_restore, as a superuser): the catalog and the history are then loaded as they were. Otherwise attach the workflow again with statusflow.attach()."),
				 errtable(td->tg_relation)));
	return b;
}

/* "(a, b)=(1, 2)": the key of a row, for messages. */
char *
sf_key_description(SfBinding *b, SfRelInfo *ri, TupleDesc tupdesc,
				   HeapTuple tuple)
{
	Datum		keys[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS];

	sf_row_keys(b, ri, tupdesc, tuple, keys, nulls);
	return sf_format_key(b, keys, nulls);
}

/* Label of an enum value that the workflow does not register. */
static char *
unregistered_label(Datum value)
{
	return DatumGetCString(DirectFunctionCall1(enum_out, value));
}

/*
 * Status index of value in the workflow, or an error when the enum type has
 * a label that statusflow does not know (added with ALTER TYPE directly).
 */
static int
status_of(SfBinding *b, Relation rel, SfRelInfo *ri, HeapTuple tuple,
		  Datum value)
{
	int			i = sf_status_index(b->workflow, DatumGetObjectId(value));

	if (i < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("status \"%s\" of %s %s is not registered in workflow \"%s\"",
						unregistered_label(value), b->relname,
						sf_key_description(b, ri, RelationGetDescr(rel), tuple),
						b->workflow->name),
				 errdetail("Its label was added to type %s behind statusflow's back; workflow \"%s\" has the statuses %s.",
						   format_type_be(b->workflow->type_oid), b->workflow->name,
						   sf_status_list(b->workflow, false)),
				 errhint("Add statuses with statusflow.add_status(), not ALTER TYPE."),
				 sf_errbinding(b)));
	return i;
}

/* A new row (INSERT, or an UPDATE away from null) must start initial. */
static void
check_start(SfBinding *b, Relation rel, SfRelInfo *ri, HeapTuple tuple,
			int to)
{
	SfWorkflow *wf = b->workflow;

	if (wf->statuses[to].initial)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s %s cannot start in status \"%s\"", b->relname,
					sf_key_description(b, ri, RelationGetDescr(rel), tuple),
					wf->statuses[to].label),
			 errdetail("\"%s\" is not an initial status of workflow \"%s\".",
					   wf->statuses[to].label, wf->name),
			 errhint("Initial statuses: %s.", sf_status_list(wf, true)),
			 sf_errbinding(b)));
}

/* Refuse an update that follows no declared transition. */
static void
refuse_transition(SfBinding *b, Relation rel, SfRelInfo *ri, HeapTuple tuple,
				  int from, int to)
{
	SfWorkflow *wf = b->workflow;
	const char *fromlabel = wf->statuses[from].label;

	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("status of %s %s cannot change from \"%s\" to \"%s\"",
					b->relname,
					sf_key_description(b, ri, RelationGetDescr(rel), tuple),
					fromlabel, wf->statuses[to].label),
			 errdetail("Workflow \"%s\" has no transition from \"%s\" to \"%s\".",
					   wf->name, fromlabel, wf->statuses[to].label),
			 errhint("%s", sf_allowed_hint(wf, from)),
			 sf_errbinding(b)));
}

/*
 * Refuse a null status in a workflow that does not allow one; from is the
 * status the row had, -1 for a new row.
 */
static void
refuse_null(SfBinding *b, Relation rel, SfRelInfo *ri, HeapTuple tuple, int from)
{
	ereport(ERROR,
			(errcode(ERRCODE_NOT_NULL_VIOLATION),
			 errmsg("status of %s %s cannot be null", b->relname,
					sf_key_description(b, ri, RelationGetDescr(rel), tuple)),
			 errdetail("Workflow \"%s\" does not allow a null status.",
					   b->workflow->name),
			 from < 0 ?
			 errhint("Initial statuses: %s.", sf_status_list(b->workflow, true)) :
			 errhint("%s", sf_allowed_hint(b->workflow, from)),
			 sf_errbinding(b)));
}

/*
 * A row a cross-partition UPDATE deleted, waiting for its INSERT: the row
 * before the change, in its old partition's row type, copied into the
 * transaction's memory.
 */
typedef struct SfMovedRow
{
	int			depth;
	int			binding_id;
	bool		status_null;
	Datum		status;			/* enum OID, passed by value */
	HeapTuple	old;
	TupleDesc	olddesc;
} SfMovedRow;

static SfMovedRow *moved_rows = NULL;
static int	nmoved = 0;
static int	maxmoved = 0;

/* AFTER DELETE of a row that moved to another partition: remember it. */
static void
remember_moved(SfBinding *b, Relation rel, HeapTuple old, Datum status,
			   bool status_null)
{
	MemoryContext cxt;

	if (nmoved == maxmoved)
	{
		maxmoved = Max(8, maxmoved * 2);
		moved_rows = moved_rows ?
			repalloc(moved_rows, sizeof(SfMovedRow) * maxmoved) :
			MemoryContextAlloc(TopMemoryContext, sizeof(SfMovedRow) * maxmoved);
	}
	moved_rows[nmoved].depth = sf_executor_depth;
	moved_rows[nmoved].binding_id = b->id;
	moved_rows[nmoved].status = status;
	moved_rows[nmoved].status_null = status_null;
	cxt = MemoryContextSwitchTo(TopTransactionContext);
	moved_rows[nmoved].old = heap_copytuple(old);
	moved_rows[nmoved].olddesc = CreateTupleDescCopy(RelationGetDescr(rel));
	MemoryContextSwitchTo(cxt);
	nmoved++;
}

/*
 * The moved row an INSERT into rel completes, if any: the last one of its
 * binding; *old is the row before the change, in rel's row type.
 */
static bool
take_moved(SfBinding *b, Relation rel, Datum *status, bool *status_null,
		   HeapTuple *old)
{
	int			i;

	for (i = nmoved - 1; i >= 0; i--)
	{
		TupleConversionMap *map;

		if (moved_rows[i].depth != sf_executor_depth ||
			moved_rows[i].binding_id != b->id)
			continue;
		*status = moved_rows[i].status;
		*status_null = moved_rows[i].status_null;
		map = convert_tuples_by_name(moved_rows[i].olddesc, RelationGetDescr(rel));
		*old = map ? execute_attr_map_tuple(moved_rows[i].old, map) :
			moved_rows[i].old;
		memmove(&moved_rows[i], &moved_rows[i + 1],
				sizeof(SfMovedRow) * (nmoved - i - 1));
		nmoved--;
		return true;
	}
	return false;
}

/* Forget moved rows remembered deeper than a query depth (or all: 0). */
void
sf_moved_rows_forget(int above_depth)
{
	while (nmoved > 0 && moved_rows[nmoved - 1].depth > above_depth)
		nmoved--;
	if (above_depth == 0)
		nmoved = 0;
}

/* The status change a row trigger sees. */
typedef struct SfChange
{
	HeapTuple	newtuple;
	HeapTuple	oldtuple;		/* NULL for a new row */
	bool		from_null;
	bool		to_null;
	Datum		from_value;
	Datum		to_value;
	int			from;
	int			to;
	int			transition;
	Datum		keys[INDEX_MAX_KEYS];	/* the row's, as it is written */
	bool		key_nulls[INDEX_MAX_KEYS];
	SfContext  *ctx;			/* the API's context of the change, or NULL */
} SfChange;

/*
 * Read the change and check it against the workflow graph.  Returns false
 * when the status did not change at all.  ch->transition is the transition
 * taken, or -1 for a row that starts (or moves to null) and so takes none.
 */
static bool
read_change(TriggerData *td, SfBinding *b, SfRelInfo *ri, SfChange *ch)
{
	Relation	rel = td->tg_relation;
	TupleDesc	tupdesc = RelationGetDescr(rel);

	ch->newtuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ?
		td->tg_newtuple : td->tg_trigtuple;
	ch->oldtuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_trigtuple : NULL;
	ch->to_value = heap_getattr(ch->newtuple, ri->status_attnum, tupdesc,
								&ch->to_null);
	ch->from_null = true;
	ch->from_value = (Datum) 0;
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) ||
		(rel->rd_rel->relispartition &&
		 take_moved(b, rel, &ch->from_value, &ch->from_null, &ch->oldtuple)))
	{
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			ch->from_value = heap_getattr(td->tg_trigtuple, ri->status_attnum,
										  tupdesc, &ch->from_null);
		if (ch->from_null == ch->to_null &&
			(ch->to_null || ch->from_value == ch->to_value))
			return false;
	}
	sf_row_keys(b, ri, tupdesc, ch->newtuple, ch->keys, ch->key_nulls);
	ch->ctx = sf_change_context(b, ch->keys, ch->key_nulls);
	ch->from = ch->from_null ? -1 : status_of(b, rel, ri, ch->newtuple, ch->from_value);
	ch->to = ch->to_null ? -1 : status_of(b, rel, ri, ch->newtuple, ch->to_value);
	ch->transition = -1;

	if (ch->to_null)
	{
		if (!b->workflow->allow_null)
			refuse_null(b, rel, ri, ch->newtuple, ch->from);
	}
	else if (ch->from_null)
		check_start(b, rel, ri, ch->newtuple, ch->to);
	else
	{
		ch->transition = sf_choose_transition(b, ri, rel, ch->newtuple,
											  ch->oldtuple, ch->from, ch->to,
											  ch->ctx ? ch->ctx->event : NULL);
		if (ch->transition < 0)
			refuse_transition(b, rel, ri, ch->newtuple, ch->from, ch->to);
	}
	if (!ch->to_null && b->workflow->has_guards)
		sf_check_entry_condition(b, ri, rel, ch->newtuple, ch->oldtuple, ch->to);
	return true;
}

/*
 * The event to record: the one the API fired, else the event of the
 * transition the guards chose, or of the only transition between the two
 * statuses, else none.
 */
static const char *
change_event(SfBinding *b, SfChange *ch)
{
	SfWorkflow *wf = b->workflow;

	if (ch->ctx && ch->ctx->event)
		return ch->ctx->event;
	if (ch->transition < 0 ||
		(!wf->has_guards &&
		 wf->edge_count[ch->from * wf->nstatuses + ch->to] != 1))
		return NULL;
	return wf->transitions[ch->transition].event;
}

/* A status or null as a JSON value. */
static void
append_json_status(StringInfo buf, bool isnull, Datum status)
{
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, DatumGetCString(DirectFunctionCall1(enum_out, status)));
}

/*
 * ", "from": ..., "to": ..., "event": ..., "history_id": n": the fields of
 * a change that notifications and actions share.
 */
void
sf_append_change_fields(StringInfo buf, SfHistoryRow *row, int64 history_id)
{
	appendStringInfoString(buf, ", \"from\": ");
	append_json_status(buf, row->from_null, row->from_status);
	appendStringInfoString(buf, ", \"to\": ");
	append_json_status(buf, row->to_null, row->to_status);
	appendStringInfoString(buf, ", \"event\": ");
	if (row->event)
		escape_json(buf, row->event);
	else
		appendStringInfoString(buf, "null");
	appendStringInfo(buf, ", \"history_id\": " INT64_FORMAT, history_id);
}

/* The key of a history row as a JSON object of text values. */
void
sf_append_json_key(StringInfo buf, SfBinding *b, SfHistoryRow *row)
{
	int			k;

	appendStringInfoChar(buf, '{');
	for (k = 0; k < b->nkeys; k++)
	{
		Oid			typoutput;
		bool		varlena;

		appendStringInfoString(buf, k ? ", " : "");
		escape_json(buf, b->key_names[k]);
		appendStringInfoString(buf, ": ");
		if (row->key_nulls[k])
		{
			appendStringInfoString(buf, "null");
			continue;
		}
		getTypeOutputInfo(b->key_types[k], &typoutput, &varlena);
		escape_json(buf, OidOutputFunctionCall(typoutput, row->keys[k]));
	}
	appendStringInfoChar(buf, '}');
}

/*
 * NOTIFY the binding's channel of a change: {"table", "key", "from", "to",
 * "event", "history_id"}, key values as text.  A key too long for a
 * notification (8000 bytes in all) is sent as null with "key_truncated":
 * true, the history_id telling which history row to read.  PostgreSQL delivers it at commit,
 * and drops it if the transaction rolls back.
 */
static void
notify_change(SfBinding *b, SfHistoryRow *row, int64 history_id)
{
	StringInfoData buf;
	StringInfoData key;
	StringInfoData rest;

	initStringInfo(&key);
	sf_append_json_key(&key, b, row);
	initStringInfo(&rest);
	sf_append_change_fields(&rest, row, history_id);
	appendStringInfoChar(&rest, '}');

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"table\": ");
	escape_json(&buf, b->relname);
	if (buf.len + key.len + rest.len + 16 < SF_NOTIFY_PAYLOAD_MAX)
		appendStringInfo(&buf, ", \"key\": %s", key.data);
	else
		appendStringInfoString(&buf, ", \"key\": null, \"key_truncated\": true");
	appendStringInfoString(&buf, rest.data);
	Async_Notify(b->notify_channel, buf.data);
}

/* AFTER INSERT / AFTER UPDATE row trigger of a binding. */
Datum
sf_enforce(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	SfBinding  *b = trigger_binding(fcinfo, "statusflow_internal.enforce()");
	SfRelInfo  *ri = sf_binding_relinfo(b, td->tg_relation);
	TupleDesc	tupdesc = RelationGetDescr(td->tg_relation);
	SfChange	ch;
	SfHistoryRow row;
	int64		history_id;

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		bool		isnull;
		Datum		status;

		if (HeapTupleHeaderIndicatesMovedPartitions(td->tg_trigtuple->t_data))
		{
			status = heap_getattr(td->tg_trigtuple, ri->status_attnum, tupdesc,
								  &isnull);
			remember_moved(b, td->tg_relation, td->tg_trigtuple, status, isnull);
		}
		PG_RETURN_POINTER(NULL);
	}
	if (!read_change(td, b, ri, &ch))
	{
		/* the status stays: its condition must still hold */
		if (!ch.to_null && b->workflow->has_guards)
			sf_check_invariant(b, ri, td->tg_relation, ch.newtuple, ch.oldtuple,
							   status_of(b, td->tg_relation, ri, ch.newtuple,
										 ch.to_value));
		PG_RETURN_POINTER(NULL);
	}
	row.keys = ch.keys;
	row.key_nulls = ch.key_nulls;
	row.from_status = ch.from_value;
	row.from_null = ch.from_null;
	row.to_status = ch.to_value;
	row.to_null = ch.to_null;
	row.event = change_event(b, &ch);
	row.applied = true;
	row.history_relid = ri->history_relid;
	history_id = sf_record_change(b, &row);
	if (b->workflow->nactions > 0)
		sf_run_actions(b, td->tg_relation, &row, ch.newtuple, ch.oldtuple,
					   ch.from, ch.to, history_id);
	PG_RETURN_POINTER(NULL);
}

/*
 * Record a change: its history row, and its notification when the binding
 * has a channel.  Returns the history_id.
 */
int64
sf_record_change(SfBinding *b, SfHistoryRow *row)
{
	int64		history_id = sf_history_append(b, row);

	if (b->notify_channel)
		notify_change(b, row, history_id);
	return history_id;
}

/*-------------------------------------------------------------------------
 *
 * citus.c
 *	  The shards of bound tables distributed by Citus.
 *
 * Citus copies a bound table's row triggers to each of its shards with the
 * same argument, the binding id.  On a worker, the binding (copied there
 * from the coordinator's catalog, see src/sql/80_citus.sql) names the
 * worker's shell table, so a trigger firing on a shard must find, once per
 * shard and backend, that the shard belongs to that table and which shard
 * of the history table is co-located with it: history rows are written
 * straight into that history shard.  History ids come from the shell
 * history table's identity sequence (shards have no identity).
 *
 * The transition API runs on the coordinator, the triggers on the workers:
 * what the triggers need from the call (its context: event, actor, reason,
 * metadata, time, event id) travels in the setting statusflow.context,
 * which Citus sends to the workers' connections of the transaction (SET
 * LOCAL with citus.propagate_set_commands = 'local').
 *
 * Whether the database has Citus is looked up once per catalog cache load;
 * nothing here runs for a table that is not a Citus shard.  Citus is read
 * through its metadata tables and functions (pg_dist_shard, shard_name()),
 * never linked against.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "access/tupdesc.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "statusflow.h"

static bool citus_present = false;

/* Note whether the database has the citus extension: once per cache load. */
void
sf_citus_detect(void)
{
	citus_present = OidIsValid(get_extension_oid("citus", true));
}

/* Does the database have the citus extension (as of the last cache load)? */
bool
sf_citus_present(void)
{
	return citus_present;
}

/*
 * Connect to SPI with search_path pinned to pg_catalog, pg_temp: these
 * queries run in the caller's session and must resolve nothing through its
 * path.  Returns the level citus_spi_finish() unwinds.
 */
static int
citus_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	return sf_pin_search_path();
}

static void
citus_spi_finish(int nest)
{
	sf_unpin_search_path(nest);
	SPI_finish();
}

/*
 * The shard id Citus put at the end of a shard's name (<name>_<shardid>),
 * or 0 when the name has none.
 */
static int64
shard_id_of(const char *relname)
{
	const char *digits = strrchr(relname, '_');
	int64		id = 0;

	if (digits == NULL || digits[1] == '\0')
		return 0;
	for (digits++; *digits; digits++)
	{
		if (*digits < '0' || *digits > '9' || id > PG_INT64_MAX / 10 - 9)
			return 0;
		id = id * 10 + (*digits - '0');
	}
	return id;
}

/*
 * When rel is a Citus shard of the binding's table, the shard of its history
 * table that holds the same hash range; InvalidOid when rel is no shard of
 * that table.  Refuses a shard whose history table is not distributed with
 * it (a table distributed after attach() without statusflow.distribute()).
 */
Oid
sf_citus_history_shard(SfBinding *b, Relation rel)
{
	int			nest;
	Oid			argtypes[4] = {INT8OID, OIDOID, OIDOID, OIDOID};
	Datum		args[4];
	int64		shardid;
	Oid			history = InvalidOid;
	bool		found;
	bool		isnull = true;

	if (!citus_present)
		return InvalidOid;
	shardid = shard_id_of(RelationGetRelationName(rel));
	if (shardid == 0)
		return InvalidOid;
	args[0] = Int64GetDatum(shardid);
	args[1] = ObjectIdGetDatum(b->relid);
	args[2] = ObjectIdGetDatum(b->history_relid);
	args[3] = ObjectIdGetDatum(RelationGetRelid(rel));
	nest = citus_spi_connect();
	if (SPI_execute_with_args("SELECT pg_catalog.to_regclass(pg_catalog.shard_name($3, h.shardid, false))::pg_catalog.oid"
							  " FROM pg_catalog.pg_dist_shard s"
							  " LEFT JOIN pg_catalog.pg_dist_shard h"
							  "   ON h.logicalrelid OPERATOR(pg_catalog.=) $3"
							  "  AND h.shardminvalue OPERATOR(pg_catalog.=) s.shardminvalue"
							  "  AND h.shardmaxvalue OPERATOR(pg_catalog.=) s.shardmaxvalue"
							  " WHERE s.shardid OPERATOR(pg_catalog.=) $1"
							  "   AND s.logicalrelid OPERATOR(pg_catalog.=) $2"
							  "   AND pg_catalog.to_regclass(pg_catalog.shard_name($2, $1, false))::pg_catalog.oid"
							  "       OPERATOR(pg_catalog.=) $4",
							  4, argtypes, args, NULL, true, 2) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: reading Citus's shards failed");
	found = SPI_processed == 1;
	if (found)
		history = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	citus_spi_finish(nest);
	if (found && (isnull || !OidIsValid(history)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the history table of %s is not distributed with it", b->relname),
				 errdetail("Shard \"%s\" has no co-located shard of history table %s.",
						   RelationGetRelationName(rel), b->history_relname),
				 errhint("Distribute a bound table with statusflow.distribute(), not create_distributed_table()."),
				 sf_errbinding(b)));
	return found ? history : InvalidOid;
}

/*
 * The binding id of a trigger on rel, a Citus shard, which this node's
 * catalog does not have: the catalog is loaded from this node's placement
 * of cluster_catalog (a node added after the catalog was last written, see
 * statusflow_internal.citus_reload_catalog()), then looked up again.
 * Refuses the write when the binding is still unknown: a bound table
 * distributed after attach() without statusflow.distribute(), or a node
 * without the reference table's placement.  NULL when rel is no shard.
 */
SfBinding *
sf_citus_load_binding(int id, Relation rel)
{
	char	   *name = pstrdup(RelationGetRelationName(rel));
	int			nest;
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(id)};
	SfBinding  *b;

	if (shard_id_of(name) == 0)
		return NULL;
	nest = citus_spi_connect();
	if (SPI_execute_with_args("SELECT statusflow_internal.citus_reload_catalog($1)",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: loading the catalog from Citus's reference table failed");
	citus_spi_finish(nest);
	/* the load's invalidation reaches this backend's cache */
	CommandCounterIncrement();
	b = sf_binding_by_id(id);
	if (b != NULL)
		return b;
	/* the table's name: the shard's without its suffix (its metadata may not be here yet) */
	*strrchr(name, '_') = '\0';
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the shards of table %s have the triggers of statusflow binding %d, which this node does not know",
					quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), name),
					id),
			 errdetail("A table distributed by Citus after statusflow.attach() keeps its triggers, but its binding does not reach the workers; a node added later needs the placement of Citus's reference tables."),
			 errhint("Distribute a bound table with statusflow.distribute(); on a node added later, run replicate_reference_tables() on the coordinator."),
			 errtable(rel)));
	return NULL;				/* keep the compiler quiet */
}

/*
 * Refuse a history shard whose columns are not those of the shell history
 * table, which the writer's layout describes.
 */
void
sf_citus_check_history_shard(SfBinding *b, Relation shell, Relation shard)
{
	TupleDesc	a = RelationGetDescr(shell);
	TupleDesc	s = RelationGetDescr(shard);
	int			i;

	for (i = 0; i < Max(a->natts, s->natts); i++)
	{
		Form_pg_attribute x = i < a->natts ? TupleDescAttr(a, i) : NULL;
		Form_pg_attribute y = i < s->natts ? TupleDescAttr(s, i) : NULL;

		if (x && y && x->attisdropped == y->attisdropped &&
			(x->attisdropped ||
			 (x->atttypid == y->atttypid &&
			  strcmp(NameStr(x->attname), NameStr(y->attname)) == 0)))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("history shard \"%s\" does not have the columns of history table %s",
						RelationGetRelationName(shard), b->history_relname),
				 errhint("Detach the column with statusflow.detach() and attach it again.")));
	}
}

/*
 * Is the binding's table hash-distributed by Citus?  Found once per cache
 * generation.
 */
bool
sf_citus_distributed(SfBinding *b)
{
	if (!citus_present)
		return false;
	if (b->citus_distributed == 0)
	{
		Oid			argtypes[1] = {OIDOID};
		Datum		args[1] = {ObjectIdGetDatum(b->relid)};
		int			nest;

		nest = citus_spi_connect();
		if (SPI_execute_with_args("SELECT FROM pg_catalog.pg_dist_partition p"
								  " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1"
								  "   AND p.partmethod OPERATOR(pg_catalog.=) 'h'",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "statusflow: reading Citus's tables failed");
		b->citus_distributed = SPI_processed > 0 ? 1 : -1;
		citus_spi_finish(nest);
	}
	return b->citus_distributed > 0;
}

/*
 * On the coordinator, before and after the API's statement on a distributed
 * binding: send the call's context ctx to the workers (ctx NULL: clear it).
 * Does nothing for other tables.
 */
void
sf_citus_send_context(SfBinding *b, SfContext *ctx)
{
	int			nest;
	Oid			argtypes[7] = {INT4OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,
	TIMESTAMPTZOID, TEXTOID};
	Datum		args[7];
	char		nulls[7] = {'n', 'n', 'n', 'n', 'n', 'n', 'n'};

	if (!sf_citus_distributed(b))
		return;
	if (ctx)
	{
		args[0] = Int32GetDatum(b->id);
		nulls[0] = ' ';
#define ARG(i, present, datum) \
	((present) ? (args[i] = (datum), nulls[i] = ' ') : 0)
		ARG(1, ctx->event != NULL, CStringGetTextDatum(ctx->event ? ctx->event : ""));
		ARG(2, ctx->reason != NULL, PointerGetDatum(ctx->reason));
		ARG(3, ctx->actor != NULL, PointerGetDatum(ctx->actor));
		ARG(4, ctx->metadata != NULL, JsonbPGetDatum(ctx->metadata));
		ARG(5, ctx->has_occurred_at, TimestampTzGetDatum(ctx->occurred_at));
		ARG(6, ctx->event_id != NULL, PointerGetDatum(ctx->event_id));
#undef ARG
	}
	nest = citus_spi_connect();
	if (SPI_execute_with_args("SELECT statusflow_internal.citus_context($1, $2, $3, $4, $5, $6, $7)",
							  7, argtypes, args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: sending the call's context to Citus's workers failed");
	citus_spi_finish(nest);
}

/*
 * On the coordinator, around prune_history()'s DELETE of a distributed
 * binding's history: tell the append-only triggers of the history shards
 * on the workers that this DELETE is the prune (statusflow.pruning, the
 * history table's schema-qualified name; cleared when pruning is false).  Does nothing for
 * other tables.
 */
void
sf_citus_send_pruning(SfBinding *b, bool pruning)
{
	int			nest;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	if (!sf_citus_distributed(b))
		return;
	/* by name: the workers' OIDs differ (see sf_citus_pruning_shard()) */
	args[0] = CStringGetTextDatum(sf_relation_name(b->history_relid));
	nest = citus_spi_connect();
	if (SPI_execute_with_args("SELECT statusflow_internal.citus_set_local('statusflow.pruning', $1)",
							  1, argtypes, args, pruning ? NULL : "n", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: sending the prune of %s to Citus's workers failed", b->relname);
	citus_spi_finish(nest);
}

/*
 * The table whose Citus shard rel is (as its name and pg_dist_shard say),
 * or InvalidOid: without Citus, for a table that is no shard.
 */
Oid
sf_citus_shell_of(Relation rel)
{
	int			nest;
	Oid			argtypes[2] = {INT8OID, OIDOID};
	Datum		args[2];
	int64		shardid;
	Oid			shell = InvalidOid;
	bool		isnull = true;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return InvalidOid;
	shardid = shard_id_of(RelationGetRelationName(rel));
	if (shardid == 0)
		return InvalidOid;
	args[0] = Int64GetDatum(shardid);
	args[1] = ObjectIdGetDatum(RelationGetRelid(rel));
	nest = citus_spi_connect();
	if (SPI_execute_with_args("SELECT s.logicalrelid::pg_catalog.oid FROM pg_catalog.pg_dist_shard s"
							  " WHERE s.shardid OPERATOR(pg_catalog.=) $1"
							  "   AND pg_catalog.to_regclass(pg_catalog.shard_name(s.logicalrelid, $1, false))::pg_catalog.oid"
							  "       OPERATOR(pg_catalog.=) $2",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: reading Citus's shards failed");
	if (SPI_processed == 1)
		shell = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	citus_spi_finish(nest);
	return isnull ? InvalidOid : shell;
}

/*
 * On a worker, is rel a shard of the history table that the coordinator's
 * prune_history() deletes from (statusflow.pruning), and the current user
 * its owner, who may prune it?  The setting is anyone's to set: the owner
 * check keeps the rule prune_history() applies.
 */
bool
sf_citus_pruning_shard(Relation rel)
{
	Oid			shell;

	if (sf_guc_pruning == NULL || sf_guc_pruning[0] == '\0')
		return false;
	shell = sf_citus_shell_of(rel);
	return OidIsValid(shell) &&
		strcmp(sf_relation_name(shell), sf_guc_pruning) == 0 &&
		sf_class_ownercheck(shell, GetUserId());
}

/* The string value of key in a JSON object, or NULL. */
static text *
json_text(Jsonb *j, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&j->root, key, strlen(key), &v) == NULL ||
		v.type != jbvString)
		return NULL;
	return cstring_to_text_with_len(v.val.string.val, v.val.string.len);
}

static char *received_source = NULL;	/* the setting last parsed */
static SfContext *received = NULL;	/* what it says */
static MemoryContext received_cxt = NULL;

/*
 * On a worker, the context the coordinator sent in the setting value (see
 * sf_citus_send_context()), when it is a context of this binding; parsed
 * once per value.
 */
SfContext *
sf_citus_received_context(const char *value, int binding_id)
{
	if (!citus_present)
		return NULL;
	if (received_source == NULL || strcmp(received_source, value) != 0)
	{
		MemoryContext old;
		Jsonb	   *j;
		JsonbValue	v;
		text	   *t;

		if (received_cxt == NULL)
			received_cxt = AllocSetContextCreate(TopMemoryContext,
												 "statusflow Citus context",
												 ALLOCSET_SMALL_SIZES);
		MemoryContextReset(received_cxt);
		received_source = NULL;
		received = NULL;
		old = MemoryContextSwitchTo(received_cxt);
		j = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(value)));
		received = palloc0(sizeof(SfContext));
		received->binding_id = -1;
		if (getKeyJsonValueFromContainer(&j->root, "binding", 7, &v) != NULL &&
			v.type == jbvNumeric)
			received->binding_id =
				DatumGetInt32(DirectFunctionCall1(numeric_int4,
												  NumericGetDatum(v.val.numeric)));
		t = json_text(j, "event");
		received->event = t ? text_to_cstring(t) : NULL;
		received->reason = json_text(j, "reason");
		received->actor = json_text(j, "actor");
		received->event_id = json_text(j, "event_id");
		if (getKeyJsonValueFromContainer(&j->root, "metadata", 8, &v) != NULL &&
			v.type != jbvNull)
			received->metadata = JsonbValueToJsonb(&v);
		t = json_text(j, "occurred_at");
		if (t)
		{
			received->has_occurred_at = true;
			received->occurred_at =
				DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
														CStringGetDatum(text_to_cstring(t)),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
			/* the setting is the caller's to set: as the API checks it */
			sf_check_occurred_at(received->occurred_at);
		}
		received_source = pstrdup(value);
		MemoryContextSwitchTo(old);
	}
	return received->binding_id == binding_id ? received : NULL;
}

/*
 * Give the history row in slot a history_id from the identity sequence of
 * the worker that holds its row, as the rows its triggers write get, so
 * that an entity's rows stay in history_id order (see
 * statusflow_internal.citus_shard_of() and citus_history_id()).
 */
static void
set_worker_history_id(SfBinding *b, TupleTableSlot *slot)
{
	int			nest;
	SfHistoryLayout *h = &b->history;
	Datum	   *keys = palloc(sizeof(Datum) * b->nkeys);
	Oid			argtypes[2] = {INT4OID, TEXTARRAYOID};
	Datum		args[2];
	bool		isnull;
	int			k;

	for (k = 0; k < b->nkeys; k++)
	{
		Oid			out;
		bool		varlena;

		if (slot->tts_isnull[h->att_keys[k] - 1])
			return;
		getTypeOutputInfo(b->key_types[k], &out, &varlena);
		keys[k] = CStringGetTextDatum(OidOutputFunctionCall(out,
															slot->tts_values[h->att_keys[k] - 1]));
	}
	args[0] = Int32GetDatum(b->id);
	args[1] = PointerGetDatum(construct_array(keys, b->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
	nest = citus_spi_connect();
	if (SPI_execute_with_args("SELECT statusflow_internal.citus_history_id($1,"
							  " statusflow_internal.citus_shard_of($1, $2))",
							  2, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: a history id for %s could not be drawn", b->relname);
	if (SPI_processed == 1)
	{
		Datum		id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			slot->tts_values[h->att[HC_ID] - 1] = id;
	}
	citus_spi_finish(nest);
}

/*
 * Insert the history row in slot (a row of the binding's shell history
 * table, filled by the writer) through Citus, which sends it to the shard of
 * its distribution value: for the history rows the API writes itself on the
 * coordinator (repeated events, ingested events that changed nothing).
 */
void
sf_citus_insert_history(SfBinding *b, TupleTableSlot *slot)
{
	int			nest;
	TupleDesc	desc = slot->tts_tupleDescriptor;
	StringInfoData sql;
	StringInfoData values;
	Oid		   *argtypes = palloc(sizeof(Oid) * Max(desc->natts, 1));
	Datum	   *args = palloc(sizeof(Datum) * Max(desc->natts, 1));
	char	   *nulls = palloc(Max(desc->natts, 1));
	int			nargs = 0;
	int			i;

	slot_getallattrs(slot);
	set_worker_history_id(b, slot);
	initStringInfo(&sql);
	initStringInfo(&values);
	appendStringInfo(&sql, "INSERT INTO %s (", b->history_relname);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped || a->attgenerated)
			continue;
		appendStringInfo(&sql, "%s%s", nargs ? ", " : "", quote_identifier(NameStr(a->attname)));
		appendStringInfo(&values, "%s$%d", nargs ? ", " : "", nargs + 1);
		argtypes[nargs] = a->atttypid;
		args[nargs] = slot->tts_values[i];
		nulls[nargs] = slot->tts_isnull[i] ? 'n' : ' ';
		nargs++;
	}
	appendStringInfo(&sql, ") OVERRIDING SYSTEM VALUE VALUES (%s)", values.data);
	nest = citus_spi_connect();
	if (SPI_execute_with_args(sql.data, nargs, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "statusflow: a history row of %s could not be inserted", b->relname);
	citus_spi_finish(nest);
}

/*-------------------------------------------------------------------------
 *
 * summaries.c
 *	  Folding a binding's history into its summaries as the owner of the
 *	  history table, from refresh_summaries() and from tick().
 *
 * The fold itself is statusflow_internal.fold_summaries() (in
 * src/sql/65_summaries.sql), which reads the history and writes the
 * summary tables, both the history table owner's.  It runs as that owner,
 * in a security-restricted operation with search_path = pg_catalog,
 * pg_temp, the way tick() moves a table's rows (sf_become): a superuser
 * running tick() runs no code of the table's owner with its own rights.
 * Only the owners of the table or of its history (and superusers) may
 * fold.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_fold_as_owner);
PG_FUNCTION_INFO_V1(sf_system_id);

/*
 * The summaries of a binding that its reports may read (summary_for():
 * built for this cluster and history table, readable by the current
 * role), into summary, in the current memory context; false when there
 * are none.  The caller is connected to SPI.
 */
bool
sf_summary_for(int binding_id, SfSummary *summary)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(binding_id)};
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;

	if (SPI_execute_with_args("SELECT s.counts::pg_catalog.oid, s.entities::pg_catalog.oid, "
							  "s.period, s.folded FROM statusflow.binding b, "
							  "statusflow_internal.summary_for(b, NULL) s "
							  "WHERE b.id OPERATOR(pg_catalog.=) $1 AND s.binding_id IS NOT NULL",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not read the summaries of binding %d", binding_id);
	if (SPI_processed == 0)
		return false;
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	summary->counts = sf_relation_name(DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull)));
	summary->entities = sf_relation_name(DatumGetObjectId(SPI_getbinval(tuple, desc, 2, &isnull)));
	summary->period = sf_period_usecs(DatumGetIntervalP(SPI_getbinval(tuple, desc, 3, &isnull)));
	summary->folded = datumCopy(SPI_getbinval(tuple, desc, 4, &isnull), false, -1);
	return true;
}

/*
 * statusflow_internal.system_id(): the cluster's system identifier, which
 * says to which cluster the transaction ids of a summary belong.
 */
Datum
sf_system_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) GetSystemIdentifier());
}

/* The owner of a relation. */
static Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * statusflow_internal.fold_as_owner(binding integer, rebuild boolean,
 *									 skip_locked boolean) RETURNS bigint
 *
 * fold_summaries() of the binding as the owner of its history table; the
 * caller must own the bound table or the history table.  Returns how many
 * history rows were folded, NULL when the binding keeps no summaries or
 * (skip_locked) another fold holds them.
 */
Datum
sf_fold_as_owner(PG_FUNCTION_ARGS)
{
	Oid			argtypes[3] = {INT4OID, BOOLOID, BOOLOID};
	Datum		args[3];
	SfBinding  *b;
	Oid			history_owner;
	SfIdentity	saved;
	Datum		folded;
	bool		isnull = true;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("binding, rebuild and skip_locked must not be null")));
	b = sf_binding_arg(PG_GETARG_INT32(0));
	history_owner = relation_owner(b->history_relid);
	if (!has_privs_of_role(GetUserId(), b->owner) &&
		!has_privs_of_role(GetUserId(), history_owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s or of its history to refresh its summaries",
						b->relname)));
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	args[2] = PG_GETARG_DATUM(2);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	sf_become(history_owner, &saved);
	if (SPI_execute_with_args("SELECT statusflow_internal.fold_summaries($1, $2, $3)",
							  3, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not fold the summaries of binding %d", b->id);
	folded = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	sf_unbecome(&saved);
	SPI_finish();
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(folded);
}

/*
 * What tick() does for summaries (statusflow_internal.tick_summaries()),
 * unless the extension's SQL is of a version without them.
 */
void
sf_tick_summaries(void)
{
	int			nest;
	bool		isnull = true;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	nest = sf_pin_search_path();
	if (SPI_execute("SELECT pg_catalog.to_regprocedure('statusflow_internal.tick_summaries()') "
					"IS NOT NULL", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not look for statusflow_internal.tick_summaries()");
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) &&
		SPI_execute("SELECT statusflow_internal.tick_summaries()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not refresh summaries");
	sf_unpin_search_path(nest);
	SPI_finish();
}

/*-------------------------------------------------------------------------
 *
 * security.c
 *	  Running SQL without trusting the caller's environment.
 *
 * statusflow runs SQL in other people's sessions: catalog loads, history
 * lookups for guards, quota counts, the transition API's UPDATEs, timers.
 * None of it may resolve a name through the caller's search_path, where a
 * hostile role may have put its own operators and functions first:
 *
 *	- generated SQL names every function and type with its schema and every
 *	  operator as OPERATOR(schema.op), the operator found from the types'
 *	  default operator class (sf_equality_operator), not by name;
 *	- SQL that reads statusflow's own tables or history tables also runs
 *	  under search_path = pg_catalog, pg_temp (sf_pin_search_path);
 *	- SQL that must run with another role's rights (a guard reading history
 *	  the changer may not read, timers moving a tenant's rows, the trigger
 *	  installation a binding needs) runs as that role in a security-restricted
 *	  operation with the pinned path, as PostgreSQL runs VACUUM and REFRESH
 *	  MATERIALIZED VIEW as a table's owner (sf_become).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_sync_binding);

/* The only search_path statusflow resolves names under. */
#define SF_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Set search_path to pg_catalog, pg_temp until sf_unpin_search_path() with
 * the level returned; an error unwinds it with the (sub)transaction.
 * Unpinning also undoes any setting changed in between, even with a plain
 * SET: code that ran as another role (a table owner's trigger during
 * tick()) leaves nothing behind in the caller's session.
 */
int
sf_pin_search_path(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", SF_SAFE_SEARCH_PATH, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

void
sf_unpin_search_path(int nest)
{
	AtEOXact_GUC(false, nest);
}

/*
 * Act as role in a security-restricted operation with the pinned
 * search_path, until sf_unbecome(saved).
 */
void
sf_become(Oid role, SfIdentity *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(role, saved->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	saved->nest = sf_pin_search_path();
}

void
sf_unbecome(SfIdentity *saved)
{
	sf_unpin_search_path(saved->nest);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

/*
 * "schema.op": the equality operator of a type's default btree (else hash)
 * operator class, for OPERATOR(...) in generated SQL.
 */
char *
sf_equality_operator(Oid type)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	Form_pg_operator op;
	char	   *result;

	if (!OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s has no default equality operator",
						format_type_be(type)),
				 errhint("statusflow compares keys with the equality operator of their type's default operator class.")));
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", tc->eq_opr);
	op = (Form_pg_operator) GETSTRUCT(tup);
	result = psprintf("%s.%s",
					  quote_identifier(get_namespace_name(op->oprnamespace)),
					  NameStr(op->oprname));
	ReleaseSysCache(tup);
	return result;
}

/*
 * Refuse a report or lookup on a table whose rows the current role may not
 * read at all.  (Which rows it may read, under row-level security, the
 * reports decide by joining the history to the table.)
 */
void
sf_require_select(SfBinding *b)
{
	if (pg_class_aclcheck(b->relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK ||
		pg_attribute_aclcheck_all(b->relid, GetUserId(), ACL_SELECT,
								  ACLMASK_ANY) == ACLCHECK_OK)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for table %s", b->relname),
			 errdetail("Reading the history of a table's rows requires the right to read the table.")));
}

/* The owner of a function: for ours, the role that created the extension. */
static Oid
function_owner(Oid funcid)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * statusflow_internal.sync_binding(binding integer)
 *
 * Bring the triggers and indexes of a binding in line with the catalog, as
 * the extension's owner: the trigger functions are not
 * executable by PUBLIC, and the owner of a workflow adding a quota or a
 * timer need not own the tables bound to it.  The caller must own the bound
 * table or the workflow's type; what runs is statusflow's own
 * sync_binding_objects(), which creates only statusflow's triggers and plain
 * column indexes.
 */
Datum
sf_sync_binding(PG_FUNCTION_ARGS)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];
	Oid			relid,
				typid;
	bool		isnull;
	int			nest;
	SfIdentity	saved;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("binding must not be null")));
	args[0] = PG_GETARG_DATUM(0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	nest = sf_pin_search_path();
	if (SPI_execute_with_args("SELECT b.table_name::pg_catalog.oid,"
							  " w.status_type::pg_catalog.oid"
							  " FROM statusflow.binding b JOIN statusflow.workflow w"
							  "   ON w.name OPERATOR(pg_catalog.=) b.workflow"
							  " WHERE b.id OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: binding lookup failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("statusflow binding %d does not exist", DatumGetInt32(args[0]))));
	relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	typid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 2, &isnull));
	if (!sf_class_ownercheck(relid, GetUserId()) &&
		!sf_type_ownercheck(typid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s or of type %s",
						sf_relation_name(relid), format_type_be(typid))));
	sf_become(function_owner(fcinfo->flinfo->fn_oid), &saved);
	if (SPI_execute_with_args("SELECT statusflow_internal.sync_binding_objects($1)",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "statusflow: could not synchronise binding %d",
			 DatumGetInt32(args[0]));
	sf_unbecome(&saved);
	sf_unpin_search_path(nest);
	SPI_finish();
	PG_RETURN_VOID();
}

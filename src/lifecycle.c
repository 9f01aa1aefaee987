/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  What statusflow says when the extension itself is dropped.
 *
 * DROP EXTENSION statusflow CASCADE drops the catalog (every workflow's
 * definition) and, through their functions, the triggers of every bound
 * table and history table.  The tables, their rows, their history and the
 * workflows' enum types stay.  An event trigger on ddl_command_start says
 * so before it happens, naming what loses its enforcement, and how to take
 * it back: create the extension again, define the workflows again
 * (create_workflow() takes the existing enum types) and attach the tables
 * (attach() takes their history tables over).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_before_drop_extension);

/* Does this DROP EXTENSION name statusflow?  With CASCADE, says cascade. */
static bool
drops_statusflow(Node *parsetree, bool *cascade)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	*cascade = (stmt->behavior == DROP_CASCADE);
	foreach(lc, stmt->objects)
	{
		Node	   *name = lfirst(lc);

		if (IsA(name, String) && strcmp(strVal(name), "statusflow") == 0)
			return true;
	}
	return false;
}

/*
 * statusflow_internal.before_drop_extension(): warn, before statusflow is
 * dropped, about the workflows and bound tables it leaves behind.
 */
Datum
sf_before_drop_extension(PG_FUNCTION_ARGS)
{
	int			nest;
	bool		isnull;
	int64		workflows;
	int64		bindings;
	char	   *tables;
	bool		cascade;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("before_drop_extension() must be called as an event trigger")));
	if (!drops_statusflow(((EventTriggerData *) fcinfo->context)->parsetree, &cascade))
		PG_RETURN_VOID();
	nest = sf_pin_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "statusflow: SPI_connect failed");
	if (SPI_execute("SELECT (SELECT pg_catalog.count(*) FROM statusflow.workflow),"
					" pg_catalog.count(*),"
					" pg_catalog.string_agg(b.table_name::pg_catalog.text, ', ' ORDER BY b.id)"
					" FROM statusflow.binding b", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "statusflow: cannot read the catalog");
	workflows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull));
	bindings = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 2, &isnull));
	tables = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	/* without CASCADE, a bound table's triggers make the drop fail anyway */
	if (workflows > 0 && (bindings == 0 || cascade))
		ereport(WARNING,
				(errmsg("dropping extension statusflow drops every workflow definition and the enforcement of every bound table"),
				 errdetail("Workflows: %lld. Bound tables: %s. The tables, their history tables (no longer append-only) and the workflows' enum types stay.",
						   (long long) workflows, bindings > 0 ? tables : "none"),
				 errhint("To take them back, create the extension again, define the workflows again (create_workflow() takes the existing enum types) and attach the tables (attach() takes their history tables over).")));
	SPI_finish();
	sf_unpin_search_path(nest);
	PG_RETURN_VOID();
}

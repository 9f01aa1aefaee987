/*-------------------------------------------------------------------------
 *
 * statusflow.c
 *	  Module entry point: settings, hooks and transaction callbacks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "statusflow.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(sf_event_target);

/* statusflow.actor / statusflow.reason / statusflow.metadata */
char	   *sf_guc_actor = NULL;
char	   *sf_guc_reason = NULL;
char	   *sf_guc_context = NULL;	/* an API call's context, sent by a Citus
									 * coordinator (citus.c) */
char	   *sf_guc_pruning = NULL;	/* the history table a Citus coordinator's
									 * prune_history() deletes from (citus.c) */
static char *sf_guc_metadata_text = NULL;

/* statusflow.metadata parsed once per distinct value */
static char *parsed_metadata_source = NULL;
static Jsonb *parsed_metadata = NULL;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* How many ExecutorFinish calls are running: AFTER triggers fire in them. */
int			sf_executor_depth = 0;

/* Report which setting a JSON syntax error came from. */
static void
metadata_error_context(void *arg)
{
	errcontext("while reading setting \"statusflow.metadata\"");
}

/*
 * The value of statusflow.metadata as jsonb, or NULL when unset.  Parsed the
 * first time a value is seen, not once per history row.
 */
Jsonb *
sf_guc_metadata(void)
{
	ErrorContextCallback errcb;
	Datum		parsed;
	MemoryContext oldcxt;

	if (sf_guc_metadata_text == NULL || sf_guc_metadata_text[0] == '\0')
		return NULL;
	if (parsed_metadata_source != NULL &&
		strcmp(parsed_metadata_source, sf_guc_metadata_text) == 0)
		return parsed_metadata;

	errcb.callback = metadata_error_context;
	errcb.arg = NULL;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	parsed = DirectFunctionCall1(jsonb_in, CStringGetDatum(sf_guc_metadata_text));
	error_context_stack = errcb.previous;

	if (parsed_metadata_source)
		pfree(parsed_metadata_source);
	if (parsed_metadata)
		pfree(parsed_metadata);
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	parsed_metadata_source = pstrdup(sf_guc_metadata_text);
	parsed_metadata = DatumGetJsonbPCopy(parsed);
	MemoryContextSwitchTo(oldcxt);
	return parsed_metadata;
}

/* A query may read history: insert the rows waiting for a batch first. */
static void
sf_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	sf_history_flush_all();
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * So may a utility command (COPY of a history table, say), or change it;
 * COPY into a bound table fires its triggers itself: flush after it too.
 */
static void
sf_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree, ProcessUtilityContext context,
				  ParamListInfo params, QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	sf_history_flush_all();
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	sf_history_flush_all();
}

/*
 * Count nesting: the AFTER triggers of a query fire inside its
 * ExecutorFinish, those of a query run by a trigger one level deeper.
 * Once they have fired, the history rows they wrote are inserted.
 */
static void
sf_ExecutorFinish(QueryDesc *queryDesc)
{
	sf_executor_depth++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
		sf_history_flush_all();
	}
	PG_FINALLY();
	{
		sf_executor_depth--;
	}
	PG_END_TRY();
}

/*
 * History writers stay open for the rest of a statement only: close them
 * when any query ends, so that DDL later in the transaction finds the
 * history tables free.  Forget partition moves this query left unpaired.
 */
static void
sf_ExecutorEnd(QueryDesc *queryDesc)
{
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
	sf_history_close_all();
	sf_moved_rows_forget(sf_executor_depth);
}

/* Close or forget per-transaction state when the transaction ends. */
static void
sf_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			sf_history_close_all();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			sf_history_forget_all();
			sf_history_abort();
			sf_forget_contexts();
			sf_executor_depth = 0;
			sf_moved_rows_forget(0);
			sf_cache_xact_end();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			sf_history_forget_all();
			sf_moved_rows_forget(0);
			sf_cache_xact_end();
			break;
		default:
			break;
	}
}

/*
 * statusflow._event_target() of statusflow 1.0, which 1.1 no longer has:
 * its SQL definition calls this until ALTER EXTENSION statusflow UPDATE,
 * and the 1.0 install script (which the upgrade test runs) needs the symbol.
 */
Datum
sf_event_target(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("statusflow._event_target() is no longer part of statusflow"),
			 errhint("Run ALTER EXTENSION statusflow UPDATE.")));
	PG_RETURN_NULL();
}

void
_PG_init(void)
{
	DefineCustomStringVariable("statusflow.actor",
							   "Application actor recorded in history rows.",
							   "Set it with SET LOCAL for the changes of one transaction.",
							   &sf_guc_actor, "", PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("statusflow.reason",
							   "Reason recorded in history rows.",
							   "Set it with SET LOCAL for the changes of one transaction.",
							   &sf_guc_reason, "", PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("statusflow.metadata",
							   "JSON object recorded as metadata in history rows.",
							   "Set it with SET LOCAL for the changes of one transaction.",
							   &sf_guc_metadata_text, "", PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("statusflow.context",
							   "Context of a statusflow API call, sent to Citus's workers.",
							   "Set by statusflow on a Citus coordinator; not meant to be set by hand.",
							   &sf_guc_context, "", PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("statusflow.pruning",
							   "History table whose rows statusflow.prune_history() deletes, sent to Citus's workers.",
							   "Set by statusflow on a Citus coordinator; not meant to be set by hand.",
							   &sf_guc_pruning, "", PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	MarkGUCPrefixReserved("statusflow");

	sf_cache_init();
	sf_history_init();
	sf_citus_guard_init();

	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = sf_ExecutorStart;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = sf_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = sf_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = sf_ProcessUtility;
	RegisterXactCallback(sf_xact_callback, NULL);
}

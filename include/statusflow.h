/*-------------------------------------------------------------------------
 *
 * statusflow.h
 *	  Shared declarations of the statusflow extension.
 *
 * A workflow is an enum type plus the statuses' metadata, the declared
 * transitions with their guards, and quotas; a binding attaches a workflow
 * to one column of a table and names the history table.  All of it is read
 * from the statusflow.* catalog tables into a per-backend cache (catalog.c)
 * that the triggers use without running any SQL per row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STATUSFLOW_H
#define STATUSFLOW_H

#include "postgres.h"

#include "access/htup.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/resowner.h"

/* Longest reason and actor (in characters) and metadata (in bytes) kept. */
#define SF_MAX_REASON_CHARS		2000
#define SF_MAX_ACTOR_CHARS		200
#define SF_MAX_METADATA_BYTES	65536
#define SF_MAX_EVENT_ID_CHARS	200

/* One status of a workflow; a workflow keeps them in rank (enum) order. */
typedef struct SfStatus
{
	char	   *label;
	Oid			enum_oid;		/* pg_enum row, the enum value's Datum */
	bool		initial;
	bool		terminal;
	bool		sticky;			/* ingestion never moves a row out of it */
	char	   *group_name;		/* NULL when the status has no group */
	char	   *condition;		/* row condition to enter it, or NULL */
} SfStatus;

/* One declared transition, with its guards. */
typedef struct SfTransition
{
	int			id;
	int			from;			/* index into SfWorkflow.statuses */
	int			to;				/* -1: back to the previous status */
	char	   *event;			/* NULL when the transition has no event */
	bool		automatic;
	int			nroles;			/* 0: any role may take it */
	Oid		   *roles;
	char	   *condition;		/* row condition, or NULL */
	bool		require_reason;
	int			max_uses;		/* 0: no limit */
} SfTransition;

/* A timer: rows staying in a status move on by themselves; automation.c. */
typedef struct SfTimer
{
	int			id;
	int			status;			/* index of the status it watches */
	char	   *after;			/* interval as text, or NULL */
	char	   *at_column;		/* column holding the time, or NULL */
	int			to;				/* target status, or -1 for an event */
	char	   *event;			/* event to fire, or NULL */
} SfTimer;

/* When an action runs; see actions.c. */
typedef enum SfActionWhen
{
	SF_ACTION_LEAVE,			/* a row leaves the status */
	SF_ACTION_EVENT,			/* a row takes a transition on the event */
	SF_ACTION_ENTER				/* a row enters the status */
} SfActionWhen;

/* A function a workflow calls on a change; see actions.c. */
typedef struct SfAction
{
	int			id;
	SfActionWhen when;
	int			status;			/* index, for SF_ACTION_LEAVE and _ENTER */
	char	   *event;			/* for SF_ACTION_EVENT */
	Oid			function;
} SfAction;

/* A quota on entering some statuses; see prepare.c. */
typedef struct SfQuota
{
	int			id;
	bool	   *counted;		/* [status index]: entries counted */
	char	   *per_column;
	int			max_entries;
	char	   *period;			/* day, week, month or year */
	int			overflow;		/* status index, or -1 to refuse */
} SfQuota;

/*
 * What is wrong with a workflow or binding whose catalog rows statusflow
 * cannot use; a broken one fails only its own tables, with this error.
 */
typedef struct SfBroken
{
	int			sqlerrcode;
	char	   *message;
} SfBroken;

typedef struct SfWorkflow
{
	char	   *name;
	Oid			type_oid;
	SfBroken	broken;			/* message NULL: fine */
	bool		allow_null;
	bool		monotonic;		/* ingestion never moves a row back in rank */
	int			nstatuses;
	SfStatus   *statuses;
	Oid		   *sorted_oids;	/* enum OIDs ascending, for binary search */
	int		   *sorted_index;	/* status index of sorted_oids[i] */
	int			ntransitions;
	SfTransition *transitions;	/* ordered by (from, to, id), restoring ones
								 * (to = -1) first for each from */
	int		   *edge_first;		/* [from * n + to]: first transition or -1 */
	int		   *edge_count;		/* [from * n + to]: how many transitions */
	int		   *restore_first;	/* [from]: first restoring transition or -1 */
	int		   *restore_count;	/* [from]: how many */
	bool		has_guards;		/* any guard or status condition at all */
	int			nquotas;
	SfQuota    *quotas;
	int			ntimers;
	SfTimer    *timers;
	int			nactions;
	SfAction   *actions;		/* in id order */
} SfWorkflow;

/*
 * Where a binding's columns sit in one relation: the bound table itself or
 * one of its partitions (whose attribute numbers may differ).
 */
typedef struct SfRelInfo
{
	Oid			relid;
	bool		valid;			/* cleared by relcache invalidation */
	AttrNumber	status_attnum;
	AttrNumber *key_attnums;	/* nkeys of them */
	AttrNumber	entered_at_attnum;	/* 0 when the binding has none */
	AttrNumber *quota_attnums;	/* [quota]: its per_column */
	Oid			history_relid;	/* a Citus shard: its history shard; else
								 * InvalidOid (the binding's history table) */
	/* row conditions compiled for this relation on first use (guards.c) */
	struct ExprState **transition_conds;	/* [transition] */
	struct ExprState **status_conds;	/* [status] */
	struct TupleTableSlot *slot;	/* to evaluate them on a row */
	struct TupleTableSlot *old_slot;	/* and on the row before its change */
} SfRelInfo;

/* Plans run through SPI, prepared once per binding and kept. */
typedef enum SfPlanKind
{
	SF_PLAN_TRANSITION,			/* set the status of one key */
	SF_PLAN_TRANSITION_MANY,	/* set the status of an array of keys */
	SF_PLAN_MOVE_MANY,			/* set each key of an array to its status */
	SF_PLAN_MOVE_RETURNING,		/* the same, returning the rows */
	SF_PLAN_LOCK,				/* lock one key's row, read it whole */
	SF_PLAN_READ,				/* read one key's row whole, without a lock */
	SF_PLAN_LOCK_MANY,			/* lock the rows of an array of keys */
	SF_PLAN_LOCK_KEYS,			/* the same, with the place of each key */
	SF_PLAN_USES,				/* history: times a key took a transition */
	SF_PLAN_PREVIOUS,			/* history: the status before the current */
	SF_PLAN_ENTRIES,			/* history: times a key entered a status */
	SF_PLAN_ENTRIES_VISIBLE,	/* the same, if its row is visible (RLS) */
	SF_PLAN_QUOTA,				/* count one entry against a quota */
	SF_PLAN_SEEN,				/* history: has an event id been seen */
	SF_PLAN_COUNT
} SfPlanKind;

/* The fixed columns of a history table, besides the key columns. */
typedef enum SfHistoryColumn
{
	HC_ID,
	HC_FROM,
	HC_TO,
	HC_EVENT,
	HC_ACTOR,
	HC_ROLE,
	HC_REASON,
	HC_METADATA,
	HC_OCCURRED,
	HC_RECORDED,
	HC_TXID,
	HC_APPLIED,
	HC_EVENT_ID,
	HC_COUNT
} SfHistoryColumn;

/* Where the columns of a binding's history table are; see layout.c. */
typedef struct SfHistoryLayout
{
	bool		valid;			/* cleared by relcache invalidation */
	Oid			id_seq;			/* identity sequence of history_id */
	AttrNumber	att[HC_COUNT];
	AttrNumber *att_keys;		/* nkeys of them */
} SfHistoryLayout;

typedef struct SfBinding
{
	MemoryContext cxt;			/* the cache generation it lives in */
	int			id;
	SfBroken	broken;			/* message NULL: fine */
	Oid			relid;			/* the bound table (root when partitioned) */
	char	   *relname;		/* schema-qualified, quoted, for messages */
	char	   *schema_name;	/* the same, unquoted, for error fields */
	char	   *table_name;
	char	   *constraint_name;	/* <table>_<column>_workflow: see sf_errbinding */
	Oid			owner;			/* owner of the bound table */
	char	   *column;
	SfWorkflow *workflow;		/* NULL only when broken */
	Oid			history_relid;
	char	   *history_relname;	/* schema-qualified, quoted */
	char	   *entered_at_column;	/* NULL when the binding has none */
	char	   *notify_channel;	/* NULL: no notifications */
	int			nkeys;
	char	  **key_names;
	Oid		   *key_types;
	int32	   *key_typmods;
	int			nrels;
	int			maxrels;
	SfRelInfo  *rels;
	SfHistoryLayout history;
	SPIPlanPtr	plans[SF_PLAN_COUNT];
	SPIPlanPtr *timer_plans;	/* [timer]: its due rows, locked */
	bool		event_index_known;	/* cleared by relcache invalidation */
	Oid			event_index;	/* the history's index of event ids, or
								 * InvalidOid: see history.c */
	int			citus_distributed;	/* 1: hash-distributed by Citus, -1: not,
									 * 0: not known yet (citus.c) */
} SfBinding;

/* A map from keys to numbers; see transition.c. */
typedef struct SfKeyMap SfKeyMap;

/*
 * Who and why, for the history rows a transition API call writes.  The API
 * pushes one while its UPDATE runs; the triggers of that binding read it.
 * A batch pushes one whose by_key holds each row's own.
 */
typedef struct SfContext
{
	int			binding_id;
	const char *event;
	text	   *reason;
	text	   *actor;
	Jsonb	   *metadata;
	bool		has_occurred_at;
	TimestampTz occurred_at;
	text	   *event_id;		/* provider event id (ingestion), or NULL */
	/* a batch: row_contexts[n] is the context of the row of a key numbered n */
	SfKeyMap   *by_key;
	struct SfContext **row_contexts;
	struct SfContext *prev;
} SfContext;

/* security.c */
typedef struct SfIdentity
{
	Oid			userid;
	int			sec_context;
	int			nest;			/* GUC nest level of the pinned search_path */
} SfIdentity;

extern int	sf_pin_search_path(void);
extern void sf_unpin_search_path(int nest);
extern void sf_become(Oid role, SfIdentity *saved);
extern void sf_unbecome(SfIdentity *saved);
extern char *sf_equality_operator(Oid type);
extern void sf_require_select(SfBinding *binding);

/* keys.c: how to hash, compare and copy the key columns of fold rows */
typedef struct SfKeyInfo
{
	int			nkeys;
	FmgrInfo	hash[INDEX_MAX_KEYS];
	FmgrInfo	eq[INDEX_MAX_KEYS];
	Oid			collation[INDEX_MAX_KEYS];
	bool		byval[INDEX_MAX_KEYS];
	int16		len[INDEX_MAX_KEYS];
} SfKeyInfo;

extern void sf_key_info_init(SfKeyInfo *info, TupleDesc desc, int nkeys);
extern Datum sf_key_column(SfKeyInfo *info, Datum key, int k);
extern uint32 sf_key_hash(SfKeyInfo *info, Datum key);
extern bool sf_key_equal(SfKeyInfo *info, Datum a, Datum b);
extern Datum sf_key_copy(SfKeyInfo *info, Datum *values);
extern Datum sf_key_copy_key(SfKeyInfo *info, Datum key);

/* summary_fold.c: a change to a summary's counts, or an entity */
#ifndef PG_INT128_TYPE
#error "statusflow needs a compiler with a 128-bit integer type"
#endif
#define SF_MAX_SUMMARY_STATUSES 64
#define SF_DURATION_BUCKETS 7296	/* see sf_duration_bucket() */
#define SF_PERIODS_PER_BLOCK 64	/* moves, entries, open stays by block */

typedef struct SfFoldOut
{
	char		kind;			/* see summary_fold.c */
	TimestampTz bucket;
	TimestampTz at;
	Oid			from_status;	/* InvalidOid: none */
	Oid			status;
	int64		x;
	uint64		reached;		/* bit i: statuses[i] */
	const Oid  *statuses;
	int64		n;
	int128		total;
	bool		regular;
	Datum		key;			/* E: the entity's key, read with keys */
	SfKeyInfo  *keys;
} SfFoldOut;

typedef void (*SfFoldSink) (void *arg, const SfFoldOut *out);

extern void sf_fold(SfBinding *binding, Datum *folded, Datum *upto, int64 period,
					bool open_rows, SfFoldSink sink, void *sink_arg);
extern int	sf_reached_oids(const SfFoldOut *out, Oid *oids);
extern bool sf_columns_are(SfBinding *binding, TupleDesc desc, int first,
						   const Oid *types, int ntypes);
extern int64 sf_period_usecs(Interval *period);
extern TimestampTz sf_bucket_of(TimestampTz t, int64 period);
extern int64 sf_duration_bucket(int64 usecs);
extern int64 sf_duration_bucket_start(int64 bucket);

/* reports.c */
extern double sf_percentile_rank(double fraction, int64 n, int64 *lower);
extern double sf_interpolate(double low, double high, double fraction);
extern double sf_mean_seconds(int128 sum, int64 count);

/* summaries.c */
typedef struct SfSummary
{
	char	   *counts;			/* the summary tables, qualified */
	char	   *entities;
	int64		period;			/* microseconds */
	Datum		folded;			/* pg_snapshot: what they count */
} SfSummary;

extern bool sf_summary_for(int binding_id, SfSummary *summary);
extern void sf_tick_summaries(void);

/* statusflow.c */
extern int	sf_executor_depth;
extern char *sf_guc_actor;
extern char *sf_guc_reason;
extern char *sf_guc_context;
extern char *sf_guc_pruning;
extern Jsonb *sf_guc_metadata(void);

/* catalog.c */
extern void sf_cache_init(void);
extern void sf_cache_xact_end(void);
extern char *sf_relation_name(Oid relid);
extern SfBinding *sf_binding_by_id(int binding_id);
extern SfBinding *sf_binding_arg(int binding_id);
extern int	sf_binding_count(void);
extern SfBinding *sf_binding_at(int i);
extern SfBinding *sf_binding_for_table(Oid relid, const char *column);
extern void sf_check_binding(SfBinding *binding);
extern SfWorkflow *sf_workflow_by_name(const char *name, bool missing_ok);
extern void sf_check_workflow(SfWorkflow *wf);
extern SfRelInfo *sf_binding_relinfo(SfBinding *binding, Relation rel);
extern int	sf_status_index(SfWorkflow *wf, Oid enum_oid);
extern int	sf_status_by_label(SfWorkflow *wf, const char *label);
extern int	sf_require_status(SfWorkflow *wf, const char *label);
extern int	sf_find_transition(SfWorkflow *wf, int from, int to,
							   const char *event);
extern void sf_row_keys(SfBinding *binding, SfRelInfo *ri, TupleDesc tupdesc,
						HeapTuple tuple, Datum *keys, bool *nulls);
extern char *sf_key_columns(SfBinding *binding, const char *alias);
extern char *sf_same_key(SfBinding *binding, const char *a, const char *c);
extern char *sf_format_key(SfBinding *binding, Datum *keys, bool *nulls);
extern char *sf_status_list(SfWorkflow *wf, bool initial_only);
extern char *sf_events_list(SfWorkflow *wf, int from);
extern char *sf_allowed_hint(SfWorkflow *wf, int from);
extern int	sf_errbinding(SfBinding *binding);
extern SPIPlanPtr sf_binding_plan(SfBinding *binding, SfPlanKind kind,
								  const char *sql, int nargs, Oid *argtypes);

/* citus.c */
extern void sf_citus_detect(void);
extern bool sf_citus_present(void);
extern Oid	sf_citus_history_shard(SfBinding *b, Relation rel);
extern void sf_citus_check_history_shard(SfBinding *b, Relation shell, Relation shard);
extern void sf_citus_send_context(SfBinding *b, SfContext *ctx);
extern void sf_citus_send_pruning(SfBinding *b, bool pruning);
extern bool sf_citus_pruning_shard(Relation rel);
extern Oid	sf_citus_shell_of(Relation rel);
extern SfBinding *sf_citus_load_binding(int id, Relation rel);

/* citus_guard.c */
extern void sf_citus_guard_init(void);
extern bool sf_citus_distributed(SfBinding *b);
extern void sf_citus_insert_history(SfBinding *b, struct TupleTableSlot *slot);
extern SfContext *sf_citus_received_context(const char *value, int binding_id);

/* trigger.c */
extern void sf_moved_rows_forget(int above_depth);
struct SfHistoryRow;
extern int64 sf_record_change(SfBinding *binding, struct SfHistoryRow *row);
extern void sf_append_change_fields(StringInfo buf, struct SfHistoryRow *row,
									int64 history_id);
extern void sf_append_json_key(StringInfo buf, SfBinding *binding,
							   struct SfHistoryRow *row);

/* actions.c */
extern void sf_run_actions(SfBinding *binding, Relation rel,
						   struct SfHistoryRow *row, HeapTuple newtuple,
						   HeapTuple oldtuple, int from, int to, int64 history_id);
extern char *sf_key_description(SfBinding *binding, SfRelInfo *ri,
								TupleDesc tupdesc, HeapTuple tuple);

/* guards.c */
extern int	sf_choose_transition(SfBinding *binding, SfRelInfo *ri, Relation rel,
								 HeapTuple tuple, HeapTuple old, int from,
								 int to, const char *event);
extern int	sf_choose_event(SfBinding *binding, SfRelInfo *ri, Relation rel,
							HeapTuple tuple, HeapTuple old, int from,
							const char *event, int *to);
extern void sf_check_entry_condition(SfBinding *binding, SfRelInfo *ri,
									 Relation rel, HeapTuple tuple,
									 HeapTuple old, int to);
/* Why a transition's guards refuse a change, worst last; see guards.c. */
typedef enum SfGuardFailure
{
	GUARD_PASS,
	GUARD_ROLE,
	GUARD_CONDITION,
	GUARD_ENTRY,				/* the target status's condition */
	GUARD_REASON,
	GUARD_PREVIOUS,
	GUARD_USES
} SfGuardFailure;

extern SfGuardFailure sf_check_guards(SfBinding *binding, SfRelInfo *ri, Relation rel,
									  HeapTuple tuple, HeapTuple old, Datum *keys,
									  int transition, int from, int *to,
									  bool reason_given);
extern bool sf_status_condition_holds(SfBinding *binding, SfRelInfo *ri, Relation rel,
									  HeapTuple tuple, HeapTuple old, int status);
extern void sf_check_invariant(SfBinding *binding, SfRelInfo *ri, Relation rel,
							   HeapTuple tuple, HeapTuple old, int status);
extern bool sf_roles_allow(SfTransition *t);
extern bool sf_conditions_read_only_row(SfWorkflow *wf, Relation rel);
extern void sf_require_trusted_function(Oid funcid, Relation rel, const char *what);

/* layout.c */
extern void sf_describe_history(SfBinding *binding, Relation rel);
extern bool sf_is_history_column(SfBinding *binding, AttrNumber att);

/* writer.c */
typedef struct SfHistoryRow
{
	Datum	   *keys;
	bool	   *key_nulls;
	Datum		from_status;
	bool		from_null;
	Datum		to_status;
	bool		to_null;
	const char *event;
	bool		applied;		/* false: an ingested event that changed nothing */
	Oid			history_relid;	/* the history shard of a Citus shard's
								 * change, or InvalidOid */
} SfHistoryRow;

/*
 * A history row h that entered its status, as SQL: not a repeated event
 * (from_status = to_status), which keeps the status.
 */
#define SF_ENTRY_SQL \
	"NOT coalesce(h.from_status OPERATOR(pg_catalog.=) h.to_status, false)"

extern void sf_history_init(void);
extern int64 sf_history_append(SfBinding *binding, SfHistoryRow *row);
extern void sf_history_flush_all(void);
extern void sf_history_close_all(void);
extern void sf_history_forget_all(void);
extern void sf_history_invalidate(Oid relid);

/* history.c */
extern TimestampTz sf_check_occurred_at(TimestampTz t);
extern void sf_history_abort(void);
extern int64 sf_history_uses(SfBinding *binding, Datum *keys, Datum from_status,
							 Datum to_status);
extern bool sf_history_previous(SfBinding *binding, Datum *keys, Datum current,
								Datum *status);
extern void sf_history_seen(SfBinding *binding, int n, text **event_ids,
							bool *seen);

/* automation.c */
/* What a subtransaction returns to when it ends. */
typedef struct SfSub
{
	MemoryContext cxt;
	ResourceOwner owner;
} SfSub;

extern void sf_begin_sub(SfSub *sub);
extern void sf_end_sub(SfSub *sub, bool commit);
extern ErrorData *sf_fail_sub(SfSub *sub);

/* transition.c */
extern SfKeyMap *sf_key_map_create(int ncols, const Oid *types, int capacity);
extern int	sf_key_map_add(SfKeyMap *map, Datum *keys, int value);
extern int	sf_key_map_find(SfKeyMap *map, Datum *keys);
extern SfContext *sf_change_context(SfBinding *binding, Datum *keys,
									 bool *key_nulls);
extern void sf_push_context(SfContext *ctx);
extern void sf_no_row(SfBinding *binding, const char *key);
extern void sf_record_repeat(SfBinding *binding, Relation rel, HeapTuple row,
							 int status, SfContext *ctx);
extern void sf_pop_context(SfContext *ctx);
extern void sf_forget_contexts(void);
extern bool sf_reason_given(SfBinding *binding, Datum *keys, bool *key_nulls);
extern void sf_key_values(SfBinding *binding, Datum v, Oid argtype, Datum *out);
extern Datum *sf_key_elements(SfBinding *binding, ArrayType *keys, int *n);
extern void sf_key_params(SfBinding *binding, int n, Datum *keys, Datum *params);
extern ArrayType *sf_keys_argument(FunctionCallInfo fcinfo, int argno);
extern Datum sf_key_json(SfBinding *binding, Datum *keys);
extern SPIPlanPtr sf_update_plan(SfBinding *binding, SfPlanKind kind);
extern uint64 sf_run_with_context(SfBinding *binding, SfPlanKind kind,
								  Datum *params, SfContext *ctx);
extern bool sf_lock_row(SfBinding *binding, Datum *keys);
extern HeapTuple sf_read_row(SfBinding *binding, Relation rel, Datum *keys);
extern int	sf_row_status(SfBinding *binding, Relation rel, HeapTuple row);
extern HeapTuple sf_locked_row(Relation rel, uint64 i);
extern int	sf_event_status(SfBinding *binding, Relation rel, HeapTuple tuple,
							const char *event, SfContext *ctx);
extern uint64 sf_move_rows(SfBinding *binding, Relation rel, int n,
						   HeapTuple *rows, int *targets, SfContext *ctx);
extern Datum sf_status_array(SfBinding *binding, int n, Datum *statuses);

#endif							/* STATUSFLOW_H */

/*-------------------------------------------------------------------------
 *
 * layout.c
 *	  The shape of a history table: which columns statusflow fills, where
 *	  they are, and whether an existing table can become a history table.
 *
 * A history table belongs to the owner of the bound table, who may change
 * it.  The columns statusflow fills must have the types it writes: they are
 * found and checked whenever the table's definition changes (the layout is
 * cleared by relcache invalidation), and when attach() takes over an
 * existing table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "statusflow.h"

PG_FUNCTION_INFO_V1(sf_adopt_history);

static const char *const history_column_names[HC_COUNT] = {
	"history_id", "from_status", "to_status", "event", "actor", "db_role",
	"reason", "metadata", "occurred_at", "recorded_at", "txid", "applied",
	"event_id"
};

/* The types of those columns; InvalidOid: the workflow's enum type. */
static const Oid history_column_types[HC_COUNT] = {
	INT8OID, InvalidOid, InvalidOid, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID, XID8OID, BOOLOID,
	TEXTOID
};

/*
 * Raise an error about a history table the writer cannot use; adopting
 * names the bound table when attach() was to take the table over.
 */
static void
bad_history(Relation rel, const char *column, const char *problem,
			const char *hint, const char *adopting)
{
	char	   *name = sf_relation_name(RelationGetRelid(rel));
	char	   *sentence = psprintf("%s.", problem);

	sentence[0] = pg_toupper((unsigned char) sentence[0]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
			 adopting ?
			 errmsg("existing table %s cannot be the history table of %s", name, adopting) :
			 errmsg("history table %s cannot be written: %s", name, problem),
			 adopting ? errdetail_internal("%s", sentence) : 0,
			 adopting ?
			 errhint("Choose another name with history_table: an existing table is taken over only when it has the columns of a history table.") :
			 hint ? errhint("%s", hint) : 0,
			 column ? errtablecol(rel, SPI_fnumber(RelationGetDescr(rel), column)) :
			 errtable(rel)));
}

/*
 * The attribute number of a column of the history table, checked to have
 * type typid (and, for a key, the typmod of the bound table's key column).
 */
static AttrNumber
history_column(Relation rel, const char *colname, Oid typid, int32 typmod,
			   const char *adopting)
{
	AttrNumber	att = SPI_fnumber(RelationGetDescr(rel), colname);
	Form_pg_attribute a;

	if (att <= 0)
		bad_history(rel, NULL,
					psprintf("it has no column \"%s\"", colname),
					"Do not drop or rename the columns of a history table.", adopting);
	a = TupleDescAttr(RelationGetDescr(rel), att - 1);
	if (a->atttypid != typid || (typmod >= 0 && a->atttypmod != typmod) ||
		a->attgenerated)
		bad_history(rel, colname,
					psprintf("column \"%s\" has type %s, not %s", colname,
							 format_type_with_typemod(a->atttypid, a->atttypmod),
							 format_type_with_typemod(typid, typmod)),
					psprintf("Change it back with ALTER TABLE %s ALTER COLUMN %s TYPE %s.",
							 sf_relation_name(RelationGetRelid(rel)),
							 quote_identifier(colname),
							 format_type_with_typemod(typid, typmod)),
					adopting);
	return att;
}

/*
 * Find the columns of history table rel for a status type and keys (names,
 * types and typmods of the bound table's key columns), checking their
 * types, and its identity sequence, into h (att_keys allocated).  adopting:
 * see bad_history().
 */
static void
history_layout(Relation rel, Oid status_type, int nkeys, char **key_names,
			   const Oid *key_types, const int32 *key_typmods, const char *adopting,
			   SfHistoryLayout *h)
{
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		bad_history(rel, NULL, "it is not a table", NULL, adopting);
	for (i = 0; i < HC_COUNT; i++)
		h->att[i] = history_column(rel, history_column_names[i],
								   OidIsValid(history_column_types[i]) ?
								   history_column_types[i] : status_type,
								   -1, adopting);
	for (i = 0; i < nkeys; i++)
		h->att_keys[i] = history_column(rel, key_names[i], key_types[i],
										key_typmods[i], adopting);
	h->id_seq = sf_identity_sequence(rel, h->att[HC_ID]);
	if (!OidIsValid(h->id_seq))
		bad_history(rel, "history_id", "column \"history_id\" is not an identity column",
					NULL, adopting);
}

/*
 * The layout of a binding's history table, found once per cache generation
 * and relcache invalidation.
 */
void
sf_describe_history(SfBinding *b, Relation rel)
{
	if (b->history.valid)
		return;
	history_layout(rel, b->workflow->type_oid, b->nkeys, b->key_names,
				   b->key_types, b->key_typmods, NULL, &b->history);
	b->history.valid = true;
}

/* Refuse to take over a table statusflow already binds or writes. */
static void
check_not_bound(Oid history, Oid table)
{
	int			i;
	bool		taken = (history == table);

	for (i = 0; i < sf_binding_count() && !taken; i++)
		taken = (sf_binding_at(i)->relid == history ||
				 sf_binding_at(i)->history_relid == history);
	if (taken)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("table %s cannot be the history table of %s: it is a bound table or a history table already",
						sf_relation_name(history), sf_relation_name(table)),
				 errhint("Choose another name with history_table.")));
}

/*
 * statusflow_internal.adopt_history(history regclass, table_name regclass,
 * keys name[], status_type regtype): may attach() take the existing table
 * history over as the history table of table_name's binding of these key
 * columns to a workflow of status_type?  Both tables must be the caller's,
 * history no table statusflow uses, and of the shape the writer needs.
 */
Datum
sf_adopt_history(PG_FUNCTION_ARGS)
{
	Oid			history,
				table;
	Datum	   *keys;
	int			nkeys,
				i;
	char	  **names;
	Oid		   *types;
	int32	   *typmods;
	SfHistoryLayout layout;
	Relation	rel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("history, table_name, keys and status_type must not be null")));
	history = PG_GETARG_OID(0);
	table = PG_GETARG_OID(1);
	if (!sf_class_ownercheck(table, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", sf_relation_name(table))));
	if (!sf_class_ownercheck(history, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to make it a history table",
						sf_relation_name(history))));
	check_not_bound(history, table);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), NAMEOID, NAMEDATALEN, false,
					  TYPALIGN_CHAR, &keys, NULL, &nkeys);
	names = palloc(sizeof(char *) * Max(nkeys, 1));
	types = palloc(sizeof(Oid) * Max(nkeys, 1));
	typmods = palloc(sizeof(int32) * Max(nkeys, 1));
	for (i = 0; i < nkeys; i++)
	{
		AttrNumber	att;
		Oid			collation;

		names[i] = NameStr(*DatumGetName(keys[i]));
		att = get_attnum(table, names[i]);
		if (att <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of table %s does not exist", names[i],
							sf_relation_name(table))));
		get_atttypetypmodcoll(table, att, &types[i], &typmods[i], &collation);
	}
	layout.att_keys = palloc(sizeof(AttrNumber) * Max(nkeys, 1));
	rel = table_open(history, AccessShareLock);
	history_layout(rel, PG_GETARG_OID(3), nkeys, names, types, typmods,
				   sf_relation_name(table), &layout);
	table_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}

/* Is att one of the columns statusflow fills? */
bool
sf_is_history_column(SfBinding *b, AttrNumber att)
{
	int			i;

	for (i = 0; i < HC_COUNT; i++)
		if (b->history.att[i] == att)
			return true;
	for (i = 0; i < b->nkeys; i++)
		if (b->history.att_keys[i] == att)
			return true;
	return false;
}

/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  Entity keys of the rows a fold reads: hashing, comparing and copying
 *	  the values of a binding's key columns, for the hash tables of entities
 *	  that reports.c and summary_fold.c keep.
 *
 * A key of one column is that column's value; a key of several columns is
 * a pointer to their values.  Columns are hashed and compared with their
 * types' default hash and equality functions, found from the type cache
 * (never by name).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/typcache.h"

#include "statusflow.h"

/*
 * Look up how to hash, compare and copy the key columns, the first nkeys
 * columns of desc, in the current memory context.
 */
void
sf_key_info_init(SfKeyInfo *info, TupleDesc desc, int nkeys)
{
	int			k;

	Assert(nkeys >= 1 && nkeys <= INDEX_MAX_KEYS && nkeys <= desc->natts);
	info->nkeys = nkeys;
	for (k = 0; k < nkeys; k++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, k);
		TypeCacheEntry *type = lookup_type_cache(att->atttypid,
												 TYPECACHE_HASH_PROC_FINFO |
												 TYPECACHE_EQ_OPR_FINFO);

		if (!OidIsValid(type->hash_proc) || !OidIsValid(type->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("key column \"%s\" has type %s, which cannot be hashed",
							NameStr(att->attname), format_type_be(att->atttypid))));
		fmgr_info_copy(&info->hash[k], &type->hash_proc_finfo, CurrentMemoryContext);
		fmgr_info_copy(&info->eq[k], &type->eq_opr_finfo, CurrentMemoryContext);
		info->collation[k] = att->attcollation;
		info->byval[k] = att->attbyval;
		info->len[k] = att->attlen;
	}
}

/* The value of the k-th column of a key. */
Datum
sf_key_column(SfKeyInfo *info, Datum key, int k)
{
	return info->nkeys == 1 ? key : ((Datum *) DatumGetPointer(key))[k];
}

/* The hash of a key, from its columns' hash functions. */
uint32
sf_key_hash(SfKeyInfo *info, Datum key)
{
	uint32		hash = 0;
	int			k;

	for (k = 0; k < info->nkeys; k++)
		hash = hash_combine(hash,
							DatumGetUInt32(FunctionCall1Coll(&info->hash[k],
															 info->collation[k],
															 sf_key_column(info, key, k))));
	return murmurhash32(hash);
}

/* Are two keys equal, by their columns' equality operators? */
bool
sf_key_equal(SfKeyInfo *info, Datum a, Datum b)
{
	int			k;

	for (k = 0; k < info->nkeys; k++)
		if (!DatumGetBool(FunctionCall2Coll(&info->eq[k], info->collation[k],
											sf_key_column(info, a, k),
											sf_key_column(info, b, k))))
			return false;
	return true;
}

/* A key made of copies of the key columns' values, in the current context. */
Datum
sf_key_copy(SfKeyInfo *info, Datum *values)
{
	Datum	   *copies;
	int			k;

	if (info->nkeys == 1)
		return datumCopy(values[0], info->byval[0], info->len[0]);
	copies = palloc(sizeof(Datum) * info->nkeys);
	for (k = 0; k < info->nkeys; k++)
		copies[k] = datumCopy(values[k], info->byval[k], info->len[k]);
	return PointerGetDatum(copies);
}

/* The same for a key as sf_key_column() reads it (a copy to keep). */
Datum
sf_key_copy_key(SfKeyInfo *info, Datum key)
{
	Datum		values[INDEX_MAX_KEYS];
	int			k;

	for (k = 0; k < info->nkeys; k++)
		values[k] = sf_key_column(info, key, k);
	return sf_key_copy(info, values);
}

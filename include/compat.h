/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  What differs between the PostgreSQL versions statusflow builds on.
 *
 * Every version difference the C code meets is named here once, behind a
 * PG_VERSION_NUM guard, so that the code itself reads the same everywhere.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STATUSFLOW_COMPAT_H
#define STATUSFLOW_COMPAT_H

#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/acl.h"
#include "utils/syscache.h"

/*
 * Ownership checks: one function for every object class from 16 on, and
 * from 18 a missing object is an internal error ("cache lookup failed").
 * Checked here first, with the error the earlier versions give.
 */
#if PG_VERSION_NUM >= 160000
#define sf_ownercheck_of(classid, objid, roleid) \
	object_ownercheck((classid), (objid), (roleid))
#else
#define sf_ownercheck_of(classid, objid, roleid) \
	((classid) == RelationRelationId ? pg_class_ownercheck((objid), (roleid)) : \
	 pg_type_ownercheck((objid), (roleid)))
#endif

static inline bool
sf_ownercheck(Oid classid, int cacheid, Oid objid, Oid roleid)
{
	if (!SearchSysCacheExists1(cacheid, ObjectIdGetDatum(objid)))
		ereport(ERROR,
				(errcode(classid == RelationRelationId ? ERRCODE_UNDEFINED_TABLE :
						 ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s with OID %u does not exist",
						classid == RelationRelationId ? "relation" : "type", objid)));
	return sf_ownercheck_of(classid, objid, roleid);
}

#define sf_class_ownercheck(relid, roleid) \
	sf_ownercheck(RelationRelationId, RELOID, (relid), (roleid))
#define sf_type_ownercheck(typid, roleid) \
	sf_ownercheck(TypeRelationId, TYPEOID, (typid), (roleid))

/* EXECUTE and other rights on a function: one function from 16 on. */
#if PG_VERSION_NUM >= 160000
#define sf_proc_aclcheck(funcid, roleid, mode) \
	object_aclcheck(ProcedureRelationId, (funcid), (roleid), (mode))
#else
#define sf_proc_aclcheck(funcid, roleid, mode) pg_proc_aclcheck((funcid), (roleid), (mode))
#endif

/* Index entries of a new row: 16 added "only summarizing indexes". */
#if PG_VERSION_NUM >= 160000
#define sf_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#else
#define sf_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

/* The conversion from a partitioned table's row type to a partition's. */
#if PG_VERSION_NUM >= 160000
#define sf_root_to_child_map(rri, estate) ExecGetRootToChildMap((rri), (estate))
#else
#define sf_root_to_child_map(rri, estate) ((rri)->ri_RootToPartitionMap)
#endif

/* An index scan without instrumentation: 18 takes its instrumentation. */
#if PG_VERSION_NUM >= 180000
#define sf_index_beginscan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), 0)
#else
#define sf_index_beginscan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), 0)
#endif

/* The sequence behind an identity column: 17 takes the relation itself. */
#if PG_VERSION_NUM >= 170000
#define sf_identity_sequence(rel, attnum) \
	getIdentitySequence((rel), (attnum), true)
#else
#define sf_identity_sequence(rel, attnum) \
	getIdentitySequence(RelationGetRelid(rel), (attnum), true)
#endif

/* A function that never returns, marked before its declaration: 18 renamed it. */
#if PG_VERSION_NUM >= 180000
#define sf_noreturn pg_noreturn
#else
#define sf_noreturn pg_attribute_noreturn()
#endif

#endif							/* STATUSFLOW_COMPAT_H */

/*
 * Every binding's triggers, history guard and indexes brought in line with
 * this version's code: nothing to do in a fresh install, what changed in an
 * upgrade (which runs every code file again).
 */
SELECT statusflow_internal.sync_binding_objects(b.id) FROM statusflow.binding b;

/*
 * Access to the catalog: who may write which rows (row-level security), and
 * the statement triggers that tell every backend to reload its cache.
 */

/* Does the current role own (directly or through membership) this type? */
CREATE FUNCTION statusflow_internal.owns_type(t regtype)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.pg_has_role(typowner, 'USAGE')
	FROM pg_catalog.pg_type WHERE oid OPERATOR(pg_catalog.=) t
$$;

/* Does the current role own the enum type of this workflow? */
CREATE FUNCTION statusflow_internal.owns_workflow(w text)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.owns_type(status_type)
	FROM statusflow.workflow WHERE name OPERATOR(pg_catalog.=) w
$$;

/* Does the current role own this table? */
CREATE FUNCTION statusflow_internal.owns_relation(r regclass)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.pg_has_role(relowner, 'USAGE')
	FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) r
$$;

/* Does the current role own the table of this binding? */
CREATE FUNCTION statusflow_internal.owns_binding(b integer)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.owns_relation(table_name)
	FROM statusflow.binding WHERE id OPERATOR(pg_catalog.=) b
$$;

/* Does the current role own the history table of this binding? */
CREATE FUNCTION statusflow_internal.owns_history(b integer)
RETURNS boolean LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT statusflow_internal.owns_relation(history_table)
	FROM statusflow.binding WHERE id OPERATOR(pg_catalog.=) b
$$;

ALTER TABLE statusflow.workflow ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.status ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.transition ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.binding ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.quota ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.quota_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.timer ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.action ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.feed ENABLE ROW LEVEL SECURITY;
ALTER TABLE statusflow.summary ENABLE ROW LEVEL SECURITY;

CREATE POLICY read_all ON statusflow.workflow FOR SELECT USING (true);
CREATE POLICY type_owner ON statusflow.workflow
	USING (statusflow_internal.owns_type(status_type))
	WITH CHECK (statusflow_internal.owns_type(status_type));
CREATE POLICY read_all ON statusflow.status FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.status
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.transition FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.transition
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.quota FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.quota
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.timer FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.timer
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
CREATE POLICY read_all ON statusflow.action FOR SELECT USING (true);
CREATE POLICY workflow_owner ON statusflow.action
	USING (statusflow_internal.owns_workflow(workflow))
	WITH CHECK (statusflow_internal.owns_workflow(workflow));
-- a feed is its reader's and the bound table owner's
CREATE POLICY reader_or_owner ON statusflow.feed
	USING (pg_catalog.pg_has_role(reader, 'USAGE')
		   OR statusflow_internal.owns_binding(binding_id))
	WITH CHECK (statusflow_internal.owns_binding(binding_id)
				OR pg_catalog.pg_has_role(reader, 'USAGE'));
-- summaries are written by the owners of the table or of its history
CREATE POLICY read_all ON statusflow.summary FOR SELECT USING (true);
CREATE POLICY owner ON statusflow.summary
	USING (statusflow_internal.owns_binding(binding_id)
		   OR statusflow_internal.owns_history(binding_id))
	WITH CHECK (statusflow_internal.owns_binding(binding_id)
				OR statusflow_internal.owns_history(binding_id));
CREATE POLICY table_owner ON statusflow.quota_usage
	USING (statusflow_internal.owns_binding(binding_id))
	WITH CHECK (statusflow_internal.owns_binding(binding_id));
CREATE POLICY read_all ON statusflow.binding FOR SELECT USING (true);
CREATE POLICY table_owner ON statusflow.binding
	USING (statusflow_internal.owns_relation(table_name))
	WITH CHECK (statusflow_internal.owns_relation(table_name)
				AND statusflow_internal.owns_relation(history_table));


/* Statement trigger on the catalog tables: tells every backend to reload. */
CREATE FUNCTION statusflow_internal.invalidate_cache()
RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'sf_invalidate_cache';

CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.workflow
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.status
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.transition
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.binding
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.quota
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.timer
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();
CREATE TRIGGER invalidate_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON statusflow.action
	FOR EACH STATEMENT EXECUTE FUNCTION statusflow_internal.invalidate_cache();

-- Create the extension and the roles the other test files use.
CREATE EXTENSION statusflow;
SELECT extname, extversion, extrelocatable, n.nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE extname = 'statusflow';

DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['regress_sf_owner', 'regress_sf_other',
							 'regress_sf_app', 'regress_sf_business',
							 'regress_sf_customer'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I', r);
		END IF;
	END LOOP;
END
$$;
GRANT CREATE ON SCHEMA public TO regress_sf_owner, regress_sf_other;

-- every object of the extension lives in schema statusflow (the catalog,
-- its views and the API) or statusflow_internal (everything else)
SELECT count(*) AS objects_outside_schemas
FROM pg_depend d
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'statusflow'
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
WHERE d.deptype = 'e'
  AND coalesce(p.pronamespace, c.relnamespace, 'statusflow'::regnamespace)
	  NOT IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace);

-- SECURITY DEFINER functions pin search_path
SELECT p.oid::regprocedure::text AS definer_function, p.proconfig
FROM pg_proc p
WHERE p.pronamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
  AND p.prosecdef
ORDER BY 1;

-- every SQL and PL/pgSQL function pins search_path
SELECT p.oid::regprocedure::text AS unpinned_function
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace IN ('statusflow'::regnamespace, 'statusflow_internal'::regnamespace)
  AND l.lanname IN ('sql', 'plpgsql')
  AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
ORDER BY 1;

-- trigger and event trigger functions, and what runs as the extension's
-- owner, are not executable by PUBLIC
SELECT p.oid::regprocedure::text AS private_function,
	   has_function_privilege('regress_sf_other', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p
WHERE p.pronamespace = 'statusflow_internal'::regnamespace
  AND (p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
	   OR p.proname IN ('sync_binding_objects', 'binding_triggers', 'needs_prepare'))
ORDER BY 1;

-- the documented API is what schema statusflow holds
SELECT p.oid::regprocedure::text AS api_function
FROM pg_proc p
WHERE p.pronamespace = 'statusflow'::regnamespace
ORDER BY 1;

-- every function, view and catalog table of schema statusflow has a comment
SELECT p.oid::regprocedure::text AS uncommented_function
FROM pg_proc p
WHERE p.pronamespace = 'statusflow'::regnamespace
  AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT c.oid::regclass::text
FROM pg_class c
WHERE c.relnamespace = 'statusflow'::regnamespace AND c.relkind IN ('r', 'v')
  AND obj_description(c.oid, 'pg_class') IS NULL
ORDER BY 1;

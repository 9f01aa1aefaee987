-- test/fuzz/selftest.sql: for FUZZ_SELFTEST=1, three faulty functions made
-- part of the extension, which the fuzzer must catch: one that crashes the
-- backend (textout() given an integer: a null or wild pointer), one that
-- raises an internal error, one that gives the attacker a privilege (a
-- SECURITY DEFINER function owned by the superuser).
\set ON_ERROR_STOP 1
CREATE FUNCTION statusflow._fuzz_selftest_crash(integer) RETURNS text
LANGUAGE internal STRICT AS 'textout';
CREATE FUNCTION statusflow._fuzz_selftest_internal(what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'fuzz self-test: %', left(what, 20) USING ERRCODE = 'XX000';
END
$$;
CREATE FUNCTION statusflow._fuzz_selftest_escalate(n integer) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	GRANT SELECT ON fuzz_tenant_b.invites TO fuzz_attacker;
$$;
ALTER EXTENSION statusflow ADD FUNCTION statusflow._fuzz_selftest_crash(integer);
ALTER EXTENSION statusflow ADD FUNCTION statusflow._fuzz_selftest_internal(text);
ALTER EXTENSION statusflow ADD FUNCTION statusflow._fuzz_selftest_escalate(integer);

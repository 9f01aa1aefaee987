-- test/fuzz/generator.sql: builds the fuzzed calls (loaded by run.sh, as a
-- superuser, into schema fuzz_driver after setup.sql).
--
--   fuzz_driver.pool_src      hostile values per kind, as SQL expressions
--   fuzz_driver.ctx_src       the bindings, for calls whose arguments agree
--                             with each other (a table, one of its keys, a
--                             status of its workflow...)
--   fuzz_driver.pool, ctx     their copies for the role being fuzzed
--   fuzz_driver.functions(role)  the extension's functions role may execute,
--                             found through pg_depend (any schema)
--   fuzz_driver.generate(seed, role, calls, rollback[, only_re])  the calls
--                             (of the functions whose signature matches the
--                             regular expression only_re, if given): rows
--                             (call_no, fn, stmt), one statement each; fn is
--                             null for the lines that only prepare or clean
--                             up the session around call call_no (with
--                             rollback, each call is in BEGIN ... ROLLBACK)
--
-- Deterministic: random() after setseed(); pools and contexts are read in a
-- fixed order.  Everything a call uses is written in its statement, so a
-- statement replays by itself against a database made by setup.sql.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET search_path = fuzz_driver, pg_catalog;

CREATE TABLE pool_src (
	id		serial,
	kind	text NOT NULL,
	expr	text NOT NULL
);

------------------------------------------------------------------------
-- static pools
------------------------------------------------------------------------
INSERT INTO pool_src (kind, expr) VALUES
-- text (also name, varchar)
('text', $$''$$), ('text', $$' '$$), ('text', $$'x'$$), ('text', $$'a'$$),
('text', $$repeat('A', 100000)$$), ('text', $$repeat('é', 50000)$$),
('text', $$repeat('n', 63)$$), ('text', $$repeat('n', 64)$$), ('text', $$repeat('é', 32)$$),
('text', $$repeat('x', 2001)$$), ('text', $$repeat('x', 201)$$),
('text', $$'ünïcödé ✓ 🚀 ﷽ 𝕏'$$), ('text', $$E'line\nbreak\ttab\r'$$), ('text', $$chr(1)$$),
('text', $$E'\\'$$), ('text', $$'"'$$), ('text', $$''''$$), ('text', $$'%s %I %L %1$s %%'$$),
('text', $$'''; DROP TABLE fuzz_tenant_a.orders; --'$$),
('text', $$'x''); SELECT pg_sleep(0.01); --'$$),
('text', $$'"; DROP SCHEMA fuzz_tenant_b CASCADE; --'$$),
('text', $q$'$$ || (SELECT 1) || $$'$q$),
('text', $$'1; ALTER ROLE fuzz_attacker SUPERUSER'$$),
('text', $$'x) OR (true'$$),
('text', $$'NULL'$$), ('text', $$'null'$$), ('text', $$'-1'$$), ('text', $$'0'$$),
('text', $$'2147483648'$$), ('text', $$'1e400'$$), ('text', $$'NaN'$$), ('text', $$'infinity'$$),
('text', $$'(north,7)'$$), ('text', $$'(1,2,3)'$$), ('text', $$'()'$$), ('text', $$'(,)'$$),
('text', $$'(north'$$), ('text', $$'{}'$$), ('text', $$'{"a":1}'$$), ('text', $$'a.b.c.d'$$),
('text', $$'"unterminated'$$), ('text', $$'"Odd ""name"""'$$), ('text', $$'select'$$),
('text', $$'pg_catalog.pg_authid'$$), ('text', $$'pg_authid'$$), ('text', $$'pg_temp'$$),
('text', $$'pg_temp.x'$$), ('text', $$'statusflow.binding'$$), ('text', $$'statusflow'$$),
('text', $$'public'$$), ('text', $$'public.x'$$),
('text', $$'manual'$$), ('text', $$'automatic'$$), ('text', $$'MANUAL'$$),
('text', $$'day'$$), ('text', $$'week'$$), ('text', $$'month'$$), ('text', $$'year'$$),
('text', $$'hour'$$), ('text', $$'century'$$),
('text', $$'amount < 100'$$), ('text', $$'true'$$), ('text', $$'false'$$), ('text', $$'1'$$),
('text', $$'(SELECT true)'$$), ('text', $$'amount < 100) OR (true'$$),
('text', $$'pg_sleep(0.01) IS NOT NULL'$$), ('text', $$'statusflow._sync_triggers(1) IS NULL'$$),
('text', $$'current_user = ''postgres'''$$), ('text', $$'status = ''new'''$$),
('text', $$'channel = ''sms'''$$), ('text', $$'id > 0; DROP TABLE x'$$),
('text', $$'nonexistent_column = 1'$$), ('text', $$'random() < 0.5'$$),
('text', $$'count(*) > 0'$$), ('text', $$'row_number() over () = 1'$$),
('text', $$'generate_series(1, 2) = 1'$$), ('text', $$'$1 = 1'$$),
('text', $$'amount::text::int > 0'$$), ('text', $$'id'$$), ('text', $$'ctid'$$),
('text', $$'xmin'$$), ('text', $$'tableoid'$$), ('text', $$'history_id'$$),
('text', $$'SELECT 1'$$), ('text', $$'h.%1$I'$$), ('text', $$'%1$s%2$s%3$s%4$s'$$),
('text', $$', h.x'$$), ('text', $$'h'$$), ('text', $$'$1'$$), ('text', $$'$3'$$),
('text', $$'nonexistent_role'$$), ('text', $$'postgres'$$),
('text', $$'review_request'$$), ('text', $$'establishment_invitation'$$),
('text', $$'beta_prelaunch'$$), ('text', $$'beta_general'$$), ('text', $$'sms_outreach'$$),
('text', $$'loyalty_connection'$$), ('text', $$'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'$$),
-- SQL queries (the "query" arguments of the report folds)
('query', $$'SELECT id, history_id, to_status, occurred_at, 1 FROM fuzz_attacker.mine_status_history WHERE occurred_at >= coalesce($1, ''-infinity'') AND occurred_at < coalesce($2, ''infinity'')'$$),
('query', $$'SELECT id, history_id, to_status, occurred_at FROM fuzz_attacker.mine_status_history'$$),
('query', $$'SELECT id, history_id, to_status, occurred_at, 1 FROM fuzz_attacker.mine_status_history ORDER BY history_id'$$),
('query', $$'SELECT id, history_id, to_status::text, occurred_at, 1 FROM fuzz_attacker.mine_status_history'$$),
('query', $$'SELECT id::text, history_id::text, to_status, occurred_at::text, 1 FROM fuzz_attacker.mine_status_history'$$),
('query', $$'SELECT history_id, to_status, occurred_at, 1 FROM fuzz_attacker.mine_status_history'$$),
('query', $$'SELECT id, to_status, occurred_at FROM fuzz_attacker.mine_status_history'$$),
('query', $$'SELECT 1, 2, 3'$$), ('query', $$'SELECT 1'$$), ('query', $$'SELECT'$$),
('query', $$'SELECT ''a''::text, ''b''::text, ''c''::text, ''d''::text, ''e''::text'$$),
('query', $$'SELECT NULL, NULL, NULL, NULL, NULL'$$),
('query', $$'SELECT NULL::int, NULL::int8, NULL::oid, NULL::timestamptz, NULL::int4'$$),
('query', $$'SELECT 1::int8, 1::int8, 1::int4, now(), 1'$$),
('query', $$'SELECT 1::int8, 2::int8, 3::oid, now(), 4 FROM generate_series(1, 10)'$$),
('query', $$'SELECT g, g::int8, NULL::fuzz_attacker.evil_status, now(), g FROM generate_series(1, 1000) g'$$),
('query', $$'SELECT g, g::int8, ''x''::fuzz_attacker.evil_status, ''infinity''::timestamptz, -1 FROM generate_series(1, 100) g'$$),
('query', $$'SELECT g % 3, (1000 - g)::int8, ''y''::fuzz_attacker.evil_status, ''-infinity''::timestamptz - g * interval ''1 s'', g FROM generate_series(1, 100) g'$$),
('query', $$'SELECT ROW(1, 2), 1::int8, ''x''::fuzz_attacker.evil_status, now(), -1'$$),
('query', $$'SELECT ''north''::text, 7, 1::int8, ''x''::fuzz_attacker.evil_status, now(), 1'$$),
('query', $$'SELECT repeat(''k'', 100000), 1::int8, ''x''::fuzz_attacker.evil_status, now(), 1'$$),
('query', $$'SELECT $1, $2, $3'$$), ('query', $$'SELECT 1 WHERE false'$$), ('query', $$''$$),
('query', $$'SELECT 1; SELECT 2'$$), ('query', $$'INSERT INTO fuzz_attacker.orders (id, account_id, amount) VALUES (1, 1, 1) RETURNING *'$$),
('query', $$'DO $x$ BEGIN END $x$'$$), ('query', $$'SELECT pg_sleep(0.01)'$$),
('query', $$'SELECT * FROM pg_authid'$$), ('query', $$'SELECT * FROM fuzz_tenant_b.invites_status_history'$$),
('query', $$'SELECT id, history_id, to_status, occurred_at, 1 FROM fuzz_tenant_a.orders_status_history'$$),
('query', $$'VALUES (1, 2::int8, 0::oid, now(), 1), (1, 3::int8, 0::oid, now(), 2)'$$),
('query', $$'SELECT 1, 1::int8, 0::oid, ''2000-01-01''::timestamptz, 1 UNION ALL SELECT 1, 0::int8, 0::oid, ''1999-01-01''::timestamptz, 2'$$),
-- integers
('int', '0'), ('int', '1'), ('int', '2'), ('int', '3'), ('int', '5'), ('int', '-1'), ('int', '7'),
('int', '2147483647'), ('int', '(-2147483647 - 1)'), ('int', '999999'), ('int', '100000'),
('int', '(SELECT max(id) FROM statusflow.binding)'), ('int', '(SELECT max(id) + 1 FROM statusflow.binding)'),
('int', '(SELECT min(id) FROM statusflow.timer)'), ('int', '(SELECT max(id) FROM statusflow.timer)'),
('nkeys', '0'), ('nkeys', '1'), ('nkeys', '2'), ('nkeys', '3'), ('nkeys', '-1'), ('nkeys', '5'),
('nkeys', '100'), ('nkeys', '2147483647'), ('nkeys', '(-2147483647 - 1)'),
-- booleans
('bool', 'true'), ('bool', 'false'),
-- jsonb
('jsonb', $$'{}'$$), ('jsonb', $$'[]'$$), ('jsonb', $$'null'$$), ('jsonb', $$'0'$$),
('jsonb', $$'-1.5e300'$$), ('jsonb', $$'"s"'$$), ('jsonb', $$'true'$$),
('jsonb', $$'{"a": {"b": [1, 2, {"c": null}]}}'$$), ('jsonb', $$'{"id": 1}'$$),
('jsonb', $$'{"id": "1"}'$$), ('jsonb', $$'{"id": null}'$$), ('jsonb', $$'{"id": [1, 2]}'$$),
('jsonb', $$'{"id": {"x": 1}}'$$), ('jsonb', $$'{"id": 1.5}'$$), ('jsonb', $$'{"id": "x"}'$$),
('jsonb', $$'{"account_id": 1}'$$), ('jsonb', $$'{"account_id": "x"}'$$),
('jsonb', $$'{"account_id": [1, 2]}'$$), ('jsonb', $$'{"region": "north", "n": 7}'$$),
('jsonb', $$'{"region": "north"}'$$), ('jsonb', $$'{"id": 1, "region": "north"}'$$),
('jsonb', $$'{"status": "new"}'$$), ('jsonb', $$'{"nope": 1}'$$),
('jsonb', $$'{"x''; DROP TABLE fuzz_tenant_a.orders; --": 1}'$$),
('jsonb', $$'{"\"q\"": 1}'$$), ('jsonb', $$'{"": 1}'$$), ('jsonb', $$'{"id": 1, "id": 2}'$$),
('jsonb', $$'[1, "a", null, {"b": 2}]'$$), ('jsonb', $$'{"double_opt_in": true}'$$),
('jsonb', $$'{"double_opt_in": "yes"}'$$), ('jsonb', $$'{"regenerate_limit": -1}'$$),
('jsonb', $$'{"regenerate_limit": 2147483648}'$$), ('jsonb', $$'{"regenerate_limit": 1.5}'$$),
('jsonb', $$'{"account_column": "id; DROP TABLE x"}'$$), ('jsonb', $$'{"channel_column": ""}'$$),
('jsonb', $$'{"interaction_column": null}'$$), ('jsonb', $$'{"account_column": {"a": 1}}'$$),
('jsonb', $$jsonb_build_object('k', repeat('x', 100000))$$),
('jsonb', $$(SELECT jsonb_object_agg(g::text, g) FROM generate_series(1, 10000) g)$$),
('jsonb', $$(repeat('[', 2000) || repeat(']', 2000))::jsonb$$),
('jsonb', $$(repeat('{"a":', 500) || '1' || repeat('}', 500))::jsonb$$),
('jsonb', $$'{"u": "\u00e9\ud83d\ude80"}'$$), ('jsonb', $$to_jsonb(now())$$),
('jsonb', $$'[1, 2, 3]'$$), ('jsonb', $$'["1", "2"]'$$), ('jsonb', $$'[1, "x", null]'$$),
('jsonb', $$'{"new": 1, "approved": 2}'$$), ('jsonb', $$'{"1": "x"}'$$),
-- timestamps
('ts', 'now()'), ('ts', $$'infinity'$$), ('ts', $$'-infinity'$$),
('ts', $$'4714-11-24 00:00:00+00 BC'$$), ('ts', $$'294276-12-31 23:59:59.999999+00'$$),
('ts', $$'epoch'$$), ('ts', $$'2000-01-01 00:00+00'$$), ('ts', $$now() - interval '10 years'$$),
('ts', $$now() + interval '1 day'$$), ('ts', $$now() - interval '1 day'$$),
('ts', $$'2038-01-19 03:14:08+00'$$), ('ts', $$'2026-02-29 12:00+14'$$),
-- intervals
('interval', $$'0'$$), ('interval', $$'1 microsecond'$$), ('interval', $$'-1 day'$$),
('interval', $$'1 day'$$), ('interval', $$'3 days'$$), ('interval', $$'178000000 years'$$),
('interval', $$'-178000000 years'$$), ('interval', $$'2147483647 days'$$),
('interval', $$'-2147483648 days'$$), ('interval', $$'2147483647 days 2147483647 months'$$),
('interval', $$'1 mon -30 days'$$), ('interval', $$'-1 microsecond'$$),
('interval', $$'9223372036854775807 microseconds'$$), ('interval', $$'P1Y2M3DT4H5M6S'$$),
-- numerics and floats
('num', '0'), ('num', '1.5'), ('num', '-1'), ('num', $$'NaN'$$), ('num', $$'Infinity'$$),
('num', $$'-Infinity'$$), ('num', '1e1000'), ('num', '-1e1000'), ('num', '0.000000000000000000001'),
('num', '100'), ('num', '2147483648'), ('num', '1e-1000'),
('float', '0'), ('float', '1.5'), ('float', $$'NaN'$$), ('float', $$'Infinity'$$),
('float', $$'-Infinity'$$), ('float', '1e308'), ('float', '-1e308'), ('float', '4.9e-324'),
('float', $$'-0'$$), ('float', '86400'), ('float', '-1'),
-- relations (more are added from the catalog)
('regclass', $$'pg_class'$$), ('regclass', $$'pg_catalog.pg_authid'$$), ('regclass', $$'pg_proc'$$),
('regclass', $$'pg_catalog.pg_statistic'$$), ('regclass', $$'pg_enum'$$), ('regclass', '0'),
('regclass', $$'4294967295'$$), ('regclass', '1259'),
('regclass', $$(SELECT max(oid) FROM pg_catalog.pg_class)$$),
('regclass', $$(SELECT max(oid) + 1 FROM pg_catalog.pg_class)$$),
('regclass', $$'information_schema.tables'$$), ('regclass', $$'pg_class_oid_index'$$),
('regclass', $$'nonexistent_table'$$),
-- types
('regtype', $$'int4'$$), ('regtype', $$'text'$$), ('regtype', $$'statusflow.binding'$$),
('regtype', $$'anyenum'$$), ('regtype', $$'record'$$), ('regtype', '0'), ('regtype', $$'4294967295'$$),
('regtype', $$'bool'$$), ('regtype', $$'pg_class'$$), ('regtype', $$'int4[]'$$),
-- roles
('regrole', $$'fuzz_tenant_a'$$), ('regrole', $$'fuzz_tenant_b'$$), ('regrole', $$'fuzz_attacker'$$),
('regrole', $$'postgres'$$), ('regrole', $$'pg_read_all_data'$$), ('regrole', '0'),
-- records
('record', 'ROW(1)'), ('record', 'ROW(1, 2)'), ('record', 'ROW(NULL)'), ('record', 'ROW()'),
('record', $$ROW('a', NULL, 3.5)$$), ('record', 'ROW(ROW(1))'), ('record', 'NULL::record'),
('record', $$ROW(repeat('x', 100000))$$), ('record', $$ROW(1::bigint, 1, 1::numeric, 'new'::text)$$),
('record', $$ROW(1::bigint, 2, 2147483647, 2147483647, 2147483647)$$),
('record', $$ROW(1::bigint, 1, 1.5, 'paid'::fuzz_tenant_a.a_order_status, now(), now())$$),
('record', $$ROW('north', 7)$$), ('record', $$ROW(7, 'north')$$),
('record', $$ROW('abc'::text, 'x'::text, 'y'::text)$$), ('record', $$ROW(1::int2)$$),
('record', $$ROW(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)$$),
('record', $$ROW(point(1, 2), '{"a": 1}'::json, 'x'::name)$$),
('record', $$(SELECT c FROM pg_catalog.pg_class c WHERE c.relname = 'pg_class')$$),
('record', $$(SELECT p FROM pg_catalog.pg_proc p LIMIT 1)$$),
('record', $$(SELECT a FROM pg_catalog.pg_authid a LIMIT 1)$$),
('record', $$(SELECT b FROM statusflow.binding b ORDER BY b.id LIMIT 1)$$),
('record', $$(SELECT t FROM statusflow.transition t ORDER BY t.id LIMIT 1)$$),
('record', $$(SELECT t FROM fuzz_attacker.orders t LIMIT 1)$$),
('record', $$(SELECT t FROM fuzz_attacker.binding t LIMIT 1)$$),
-- typed scalars, the fields of made-up rows ("a record of another shape")
('scalar', '0'), ('scalar', '1'), ('scalar', '2'), ('scalar', '-1'), ('scalar', '1::int2'),
('scalar', '1::bigint'), ('scalar', '0::bigint'), ('scalar', '2147483632::bigint'),
('scalar', '(-9223372036854775807)::bigint'), ('scalar', '1.5::float8'), ('scalar', '1.5::float4'),
('scalar', '1.5::numeric'), ('scalar', $$'NaN'::numeric$$), ('scalar', 'true'), ('scalar', 'now()'),
('scalar', $$'infinity'::timestamptz$$), ('scalar', $$'abc'::text$$), ('scalar', $$''::text$$),
('scalar', $$repeat('x', 3000)$$), ('scalar', $$'sms'::text$$), ('scalar', $$'north'::text$$),
('scalar', 'NULL::int'), ('scalar', 'NULL::text'), ('scalar', $$'\x00ff'::bytea$$),
('scalar', $$'{1,2}'::int[]$$), ('scalar', 'point(1, 2)'), ('scalar', $$'{"a": 1}'::jsonb$$),
('scalar', $$'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid$$), ('scalar', $$'x'::name$$),
('scalar', $$'1'::"char"$$), ('scalar', $$'new'::fuzz_tenant_a.a_order_status$$),
('scalar', $$'x'::fuzz_attacker.evil_status$$), ('scalar', 'ROW(1, 2)'), ('scalar', $$'1 day'::interval$$),
-- arrays of text (also name[])
('textarr', $$'{}'$$), ('textarr', 'ARRAY[NULL]'), ('textarr', $$ARRAY['']$$), ('textarr', $$ARRAY['x']$$),
('textarr', $$ARRAY[NULL, 'new']$$), ('textarr', $$ARRAY[['new', 'approved'], ['paid', 'shipped']]$$),
('textarr', $$'[5:6]={new,approved}'$$), ('textarr', $$'[-2147483648:-2147483647]={new,approved}'$$),
('textarr', $$array_fill('x'::text, ARRAY[10000])$$),
('textarr', $$ARRAY[repeat('x', 100000)]$$), ('textarr', $$ARRAY['fuzz_tenant_a', 'postgres']$$),
('textarr', $$ARRAY['pg_read_all_data']$$), ('textarr', $$ARRAY['public']$$),
('textarr', $$ARRAY['nonexistent_role']$$), ('textarr', $$ARRAY['fuzz_tenant_b']$$),
('textarr', $$ARRAY['fuzz_attacker']$$), ('textarr', $$ARRAY['"; DROP TABLE x; --']$$),
('textarr', $$ARRAY['new', 'new']$$), ('textarr', $$ARRAY['id', 'region']$$),
('textarr', $$ARRAY['x', 'y', 'z']$$), ('textarr', $$'{{}}'$$),
-- anyelement: values of many types (keys of the bound tables come from ctx)
('anyelement', '1'), ('anyelement', '2'), ('anyelement', '(-1)'), ('anyelement', '2147483647'),
('anyelement', '1::bigint'), ('anyelement', '1::smallint'), ('anyelement', '9223372036854775807'),
('anyelement', '1.5'), ('anyelement', '1.5::float8'), ('anyelement', $$'NaN'::numeric$$),
('anyelement', $$repeat('9', 1000)::numeric$$), ('anyelement', $$'1'::text$$),
('anyelement', $$'(north,7)'::text$$), ('anyelement', $$''::text$$),
('anyelement', $$repeat('k', 100000)$$), ('anyelement', $$'{"id": 1}'::jsonb$$),
('anyelement', $$'{"region": "north", "n": 7}'::jsonb$$), ('anyelement', $$'[1]'::jsonb$$),
('anyelement', $$'null'::jsonb$$), ('anyelement', $$'{"a": 1}'::json$$),
('anyelement', $$ROW('north', 7)$$), ('anyelement', $$ROW(7, 'north')$$), ('anyelement', 'ROW(1)'),
('anyelement', $$ROW('north', 7, 1)$$), ('anyelement', 'ROW(NULL, NULL)'),
('anyelement', 'ARRAY[1, 2]'), ('anyelement', 'true'), ('anyelement', 'now()'),
('anyelement', $$'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid$$), ('anyelement', $$'\x00ff'::bytea$$),
('anyelement', $$'1'::oid$$), ('anyelement', 'NULL::int'), ('anyelement', $$'infinity'::timestamptz$$),
('anyelement', $$'x'::name$$), ('anyelement', $$'1'::"char"$$), ('anyelement', 'point(1, 2)'),
('anyelement', $$'[1,2)'::int4range$$), ('anyelement', $$'1'::money$$),
('anyelement', $$'1 day'::interval$$), ('anyelement', $$'01:02'::time$$),
('anyelement', $$'pg_class'::regclass$$), ('anyelement', 'pg_current_xact_id()'),
('anyelement', $$'1'::varchar$$), ('anyelement', $$'{1,2}'::int[]$$),
('anyelement', $$(SELECT t FROM fuzz_tenant_a.orders t ORDER BY t.id LIMIT 1)$$),
('anyelement', $$(SELECT t FROM fuzz_attacker.mine t ORDER BY t.id LIMIT 1)$$),
('anyelement', $$(SELECT c FROM pg_catalog.pg_class c WHERE c.relname = 'pg_class')$$),
('anyelement', $$'x'::fuzz_attacker.evil_status$$), ('anyelement', $$'new'::fuzz_tenant_a.a_order_status$$),
-- anyarray
('anyarray', 'NULL::int[]'), ('anyarray', 'NULL::text[]'), ('anyarray', 'ARRAY[1, 2, 3]'), ('anyarray', 'ARRAY[1]'), ('anyarray', $$'{}'::int[]$$),
('anyarray', $$'{}'::text[]$$), ('anyarray', 'ARRAY[NULL]::int[]'), ('anyarray', 'ARRAY[NULL, 1]'),
('anyarray', 'ARRAY[[1, 2], [3, 4]]'), ('anyarray', $$ARRAY[['north', '7']]$$),
('anyarray', $$'[0:1]={1,2}'::int[]$$), ('anyarray', $$'[-2147483648:-2147483647]={1,2}'::int[]$$),
('anyarray', $$ARRAY['1', '2']::text[]$$), ('anyarray', $$ARRAY['(north,7)', '(south,1)']$$),
('anyarray', $$ARRAY[ROW('north', 7), ROW('south', 1)]$$), ('anyarray', 'ARRAY[1.5]'),
('anyarray', $$ARRAY['{"id": 1}'::jsonb]$$), ('anyarray', 'ARRAY[now()]'),
('anyarray', 'array_fill(1, ARRAY[10000])'), ('anyarray', '(SELECT array_agg(g) FROM generate_series(1, 10000) g)'),
('anyarray', $$(SELECT array_agg(t) FROM fuzz_tenant_a.orders t)$$),
('anyarray', $$(SELECT array_agg(t) FROM fuzz_attacker.mine t)$$),
('anyarray', 'ARRAY[point(1, 2)]'), ('anyarray', $$ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]$$),
('anyarray', 'ARRAY[true]'), ('anyarray', 'ARRAY[2147483647, -2147483647 - 1]'),
('anyarray', 'ARRAY[1::bigint, 2, 3, 4, 5, 6]'), ('anyarray', $$ARRAY[repeat('x', 100000)]$$),
('anyarray', $$ARRAY['x'::fuzz_attacker.evil_status]$$), ('anyarray', $$ARRAY['{"a": 1}'::json]$$),
('anyarray', $$ARRAY[ROW(1)]$$), ('anyarray', $$'{{1},{2}}'::int8[]$$);

-- the session settings statusflow reads
CREATE TABLE setting_src (id serial, expr text NOT NULL);
INSERT INTO setting_src (expr) VALUES
($$SELECT set_config('statusflow.metadata', '{"batch": 1}', false);$$),
($$SELECT set_config('statusflow.metadata', '[1, 2]', false);$$),
($$SELECT set_config('statusflow.metadata', 'not json', false);$$),
($$SELECT set_config('statusflow.metadata', '', false);$$),
($$SELECT set_config('statusflow.metadata', (SELECT jsonb_object_agg(g::text, repeat('x', 100)) FROM generate_series(1, 1000) g)::text, false);$$),
($$SELECT set_config('statusflow.metadata', repeat('[', 5000) || repeat(']', 5000), false);$$),
($$SELECT set_config('statusflow.actor', repeat('a', 100000), false);$$),
($$SELECT set_config('statusflow.actor', 'ünïcödé 🚀', false);$$),
($$SELECT set_config('statusflow.reason', repeat('r', 100000), false);$$),
($$SELECT set_config('statusflow.reason', '', false);$$),
($$SELECT set_config('statusflow.reason', 'fuzz', false);$$),
($$SET search_path = fuzz_attacker, pg_catalog;$$),
($$SET search_path = '';$$),
($$SET TimeZone = 'Pacific/Kiritimati';$$),
($$SET DateStyle = 'SQL, DMY';$$),
($$SET IntervalStyle = 'iso_8601';$$),
($$SET transaction_isolation = 'serializable';$$);

------------------------------------------------------------------------
-- pools and contexts read from the catalog
------------------------------------------------------------------------
-- a relation as its name, or by OID looked up in pg_class (which works
-- without USAGE on its schema)
CREATE FUNCTION rel_exprs(r regclass) RETURNS text[] LANGUAGE sql AS $$
	SELECT ARRAY[quote_literal(format('%I.%I', n.nspname, c.relname)),
				 format('(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %L AND c.relname = %L)',
						n.nspname, c.relname)]
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = r
$$;

CREATE TABLE ctx_src (
	n			int PRIMARY KEY,
	binding_id	int,
	schema_name	name,		-- the table's schema
	row_type	oid,		-- the table's row type
	tables		text[],		-- expressions for the table
	column_name	text,
	workflow	text,
	labels		text[],		-- literals
	enum_values	text[],		-- typed expressions
	events		text[],
	keys		text[],		-- expressions for keys (anyelement and text)
	key_texts	text[],		-- the same as text literals
	key_arrays	text[],		-- expressions for arrays of keys
	key_jsons	text[],		-- jsonb objects of keys
	rows		text[],		-- row expressions of the table
	columns		text[],		-- its column names, as literals
	steps		text[],		-- its workflow's transitions: from, event, to
								-- (literals, 'NULL' for none), from as enum,
								-- tab-separated
	-- one of the steps, chosen for each call (see generate())
	step_from	text,
	step_event	text,
	step_to		text,
	step_enum	text
);

CREATE FUNCTION fill() RETURNS void LANGUAGE plpgsql AS $fill$
DECLARE
	b record;
	w record;
	k record;
	i int := 0;
	key_cols text;
	keys text[];
	key_texts text[];
	key_jsons text[];
	labels text[];
BEGIN
	-- relations of the fuzz schemas and of the extension's schemas
	INSERT INTO pool_src (kind, expr)
	SELECT 'regclass', unnest(rel_exprs(c.oid))
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname LIKE 'fuzz\_%' AND n.nspname <> 'fuzz_driver'
	   OR n.oid IN (SELECT objid FROM pg_depend
					WHERE classid = 'pg_namespace'::regclass AND deptype = 'e'
					  AND refclassid = 'pg_extension'::regclass
					  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'statusflow'))
	   OR c.oid IN (SELECT objid FROM pg_depend
					WHERE classid = 'pg_class'::regclass AND deptype = 'e'
					  AND refclassid = 'pg_extension'::regclass
					  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'statusflow'))
	ORDER BY n.nspname, c.relname;
	INSERT INTO pool_src (kind, expr)
	SELECT 'text', quote_literal(format('%I.%I', n.nspname, c.relname))
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname LIKE 'fuzz\_%' AND n.nspname <> 'fuzz_driver' AND c.relkind IN ('r', 'p', 'v')
	ORDER BY 1;
	-- column names of the fuzz tables
	INSERT INTO pool_src (kind, expr)
	SELECT DISTINCT 'text', quote_literal(a.attname)
	FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname LIKE 'fuzz\_%' AND n.nspname <> 'fuzz_driver' AND a.attnum > 0
	  AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
	ORDER BY 2;
	-- workflows, their types, statuses and events; roles; presets
	FOR w IN SELECT wf.name, wf.status_type FROM statusflow.workflow wf ORDER BY wf.name LOOP
		INSERT INTO pool_src (kind, expr) VALUES ('text', quote_literal(w.name));
		INSERT INTO pool_src (kind, expr)
		SELECT 'regtype', unnest(ARRAY[quote_literal(w.status_type::text),
				format('(SELECT t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %L AND t.typname = %L)',
					   n.nspname, t.typname)])
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = w.status_type;
		SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) INTO labels
		FROM pg_enum e WHERE e.enumtypid = w.status_type;
		INSERT INTO pool_src (kind, expr)
		SELECT 'text', quote_literal(l) FROM unnest(labels) l;
		INSERT INTO pool_src (kind, expr)
		SELECT 'anyenum', format('%L::%s', l, w.status_type) FROM unnest(labels) l;
		INSERT INTO pool_src (kind, expr) VALUES ('anyenum', format('NULL::%s', w.status_type));
		INSERT INTO pool_src (kind, expr) VALUES
			('textarr', quote_literal(labels::text)),
			('textarr', quote_literal((SELECT array_agg(l ORDER BY o DESC) FROM unnest(labels) WITH ORDINALITY u(l, o))::text)),
			('textarr', quote_literal(labels[1:2]::text)),
			('textarr', quote_literal(labels[2:2]::text)),
			('textarr', quote_literal(labels[3:]::text));
	END LOOP;
	INSERT INTO pool_src (kind, expr)
	SELECT DISTINCT 'text', quote_literal(t.event) FROM statusflow.transition t
	WHERE t.event IS NOT NULL ORDER BY 2;
	INSERT INTO pool_src (kind, expr)
	SELECT 'int', t.id::text FROM statusflow.transition t ORDER BY t.id LIMIT 5;
	INSERT INTO pool_src (kind, expr)
	SELECT 'int', b2.id::text FROM statusflow.binding b2 ORDER BY b2.id;
	INSERT INTO pool_src (kind, expr)
	SELECT 'int', t.id::text FROM statusflow.timer t ORDER BY t.id;
	INSERT INTO pool_src (kind, expr)
	SELECT 'text', quote_literal(b2.history_table::text) FROM statusflow.binding b2 ORDER BY b2.id;
	INSERT INTO pool_src (kind, expr)
	SELECT 'text', quote_literal(b2.notify_channel) FROM statusflow.binding b2
	WHERE b2.notify_channel IS NOT NULL ORDER BY b2.id;
	INSERT INTO pool_src (kind, expr)
	SELECT 'record', format('(SELECT t FROM %s t LIMIT 1)', c.oid::regclass)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname LIKE 'fuzz\_%' AND n.nspname <> 'fuzz_driver' AND c.relkind IN ('r', 'p')
	ORDER BY 1;

	-- one context per binding
	FOR b IN SELECT * FROM statusflow.binding ORDER BY id LOOP
		SELECT string_agg(format('%I', kc), ', ') INTO key_cols FROM unnest(b.key_columns) kc;
		keys := '{}';
		key_texts := '{}';
		key_jsons := '{}';
		IF cardinality(b.key_columns) = 1 THEN
			FOR k IN EXECUTE format('SELECT %s::text AS v, pg_typeof(%s)::text AS t FROM %s ORDER BY 1 LIMIT 4',
									key_cols, key_cols, b.table_name) LOOP
				keys := keys || format('%L::%s', k.v, k.t) || quote_literal(k.v);
				key_texts := key_texts || quote_literal(k.v);
				key_jsons := key_jsons || quote_literal(jsonb_build_object(b.key_columns[1], k.v)::text);
			END LOOP;
			keys := keys || ARRAY['999999', $$'999999'$$, '(-1)', '0'];
		ELSE
			FOR k IN EXECUTE format('SELECT ROW(%s)::text AS v, to_jsonb(t) AS j FROM (SELECT %s FROM %s) t ORDER BY 1 LIMIT 4',
									key_cols, key_cols, b.table_name) LOOP
				keys := keys || quote_literal(k.v)
					|| (SELECT format('ROW(%s)', string_agg(quote_literal(x), ', '))
						FROM jsonb_each_text(k.j) e(c, x)
						JOIN unnest(b.key_columns) WITH ORDINALITY kc(c, o) USING (c));
				key_texts := key_texts || quote_literal(k.v);
				key_jsons := key_jsons || quote_literal(k.j::text);
			END LOOP;
			keys := keys || ARRAY[$$'(nowhere,0)'$$, $$ROW('nowhere', 0)$$, $$'(1)'$$, $$ROW(1)$$,
								  $$ROW(1, 2, 3)$$, $$'(,)'$$];
		END IF;
		i := i + 1;
		INSERT INTO ctx_src
		SELECT i, b.id, (SELECT c.relnamespace::regnamespace::name FROM pg_class c WHERE c.oid = b.table_name),
			   (SELECT c.reltype FROM pg_class c WHERE c.oid = b.table_name),
			   rel_exprs(b.table_name), b.column_name, b.workflow,
			   (SELECT array_agg(quote_literal(e.enumlabel) ORDER BY e.enumsortorder)
				FROM pg_enum e WHERE e.enumtypid = wf.status_type),
			   (SELECT array_agg(format('%L::%s', e.enumlabel, wf.status_type) ORDER BY e.enumsortorder)
				FROM pg_enum e WHERE e.enumtypid = wf.status_type),
			   coalesce((SELECT array_agg(DISTINCT quote_literal(t.event)) FROM statusflow.transition t
						 WHERE t.workflow = b.workflow AND t.event IS NOT NULL), '{}'),
			   keys, key_texts,
			   ARRAY[format('ARRAY[%s]', array_to_string(key_texts, ', ')),
					 format('ARRAY[%s]', array_to_string(keys[1:2], ', ')),
					 format('ARRAY[%s]', array_to_string(keys[1:1], ', '))],
			   key_jsons,
			   ARRAY[format('(SELECT t FROM %s t LIMIT 1)', b.table_name),
					 format('(SELECT t FROM %s t LIMIT 1)', b.history_table),
					 format('(SELECT t FROM ONLY %s t LIMIT 1)', b.table_name)],
			   (SELECT array_agg(quote_literal(a.attname) ORDER BY a.attnum) FROM pg_attribute a
				WHERE a.attrelid = b.table_name AND a.attnum > 0 AND NOT a.attisdropped),
			   (SELECT array_agg(concat_ws(E'\t', quote_literal(t.from_status), quote_nullable(t.event),
										   quote_nullable(t.to_status),
										   format('%L::%s', t.from_status, wf.status_type))
								 ORDER BY t.id)
				FROM statusflow.transition t WHERE t.workflow = b.workflow)
		FROM statusflow.workflow wf WHERE wf.name = b.workflow;
	END LOOP;

END
$fill$;

-- the per-role copies: pool and ctx without the expressions that name
-- objects in schemas the role may not use (they would only ever fail the
-- core's permission check); strings naming them stay
CREATE TABLE pool (LIKE pool_src);
ALTER TABLE pool ADD COLUMN n int;
ALTER TABLE pool ADD PRIMARY KEY (kind, n);
CREATE TABLE ctx (LIKE ctx_src);
CREATE TABLE denied (nspname name);

CREATE FUNCTION usable(e text) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT NOT EXISTS (SELECT 1 FROM fuzz_driver.denied d WHERE strpos(e, d.nspname || '.') > 0)
$$;

CREATE FUNCTION usable_all(a text[]) RETURNS text[] LANGUAGE sql STABLE AS $$
	SELECT ARRAY(SELECT e FROM unnest(a) WITH ORDINALITY u(e, o) WHERE fuzz_driver.usable(e) ORDER BY o)
$$;

CREATE FUNCTION prepare_for(role name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM fuzz_driver.denied;
	INSERT INTO fuzz_driver.denied
	SELECT nspname FROM pg_namespace
	WHERE nspname LIKE 'fuzz\_%' AND NOT has_schema_privilege(role, oid, 'USAGE');
	DELETE FROM fuzz_driver.pool;
	INSERT INTO fuzz_driver.pool (id, kind, expr, n)
	SELECT id, kind, expr, row_number() OVER (PARTITION BY kind ORDER BY id) - 1
	FROM fuzz_driver.pool_src
	WHERE kind IN ('text', 'textarr', 'query', 'jsonb') OR fuzz_driver.usable(expr);
	DELETE FROM fuzz_driver.ctx;
	INSERT INTO fuzz_driver.ctx
	SELECT n, binding_id, schema_name, row_type, fuzz_driver.usable_all(tables), column_name,
		   workflow, labels, fuzz_driver.usable_all(enum_values), events,
		   fuzz_driver.usable_all(keys), key_texts, fuzz_driver.usable_all(key_arrays), key_jsons,
		   fuzz_driver.usable_all(rows), columns, steps
	FROM fuzz_driver.ctx_src;
END
$$;

------------------------------------------------------------------------
-- the functions to fuzz
------------------------------------------------------------------------
-- The extension's functions (pg_depend), and any other function in its
-- schemas (its own schema, and any schema it creates), that role may execute.
CREATE FUNCTION functions(role name)
RETURNS TABLE (oid oid, signature text) LANGUAGE sql STABLE AS $$
	WITH ext AS (
		SELECT e.oid, e.extnamespace FROM pg_extension e WHERE e.extname = 'statusflow'
	), members AS (
		SELECT d.classid, d.objid FROM pg_depend d, ext
		WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
	)
	SELECT p.oid, p.oid::regprocedure::text
	FROM pg_proc p
	WHERE (p.oid IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
		   OR p.pronamespace IN (SELECT objid FROM members WHERE classid = 'pg_namespace'::regclass)
		   OR p.pronamespace = (SELECT extnamespace FROM ext))
	  AND has_function_privilege(role, p.oid, 'EXECUTE')
	ORDER BY 2
$$;

------------------------------------------------------------------------
-- the generator
------------------------------------------------------------------------
CREATE FUNCTION rnd(n int) RETURNS int LANGUAGE sql VOLATILE AS
$$ SELECT floor(random() * n)::int $$;

CREATE FUNCTION pick(k text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	cnt int;
	i int;
	e text;
BEGIN
	SELECT count(*) INTO cnt FROM fuzz_driver.pool WHERE kind = k;
	IF cnt = 0 THEN
		RETURN 'NULL';
	END IF;
	i := fuzz_driver.rnd(cnt);
	SELECT expr INTO e FROM fuzz_driver.pool WHERE kind = k AND n = i;
	RETURN e;
END
$$;

CREATE FUNCTION any_of(a text[]) RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN cardinality(a) > 0 THEN a[1 + fuzz_driver.rnd(cardinality(a))] END
$$;

-- The pool kind for a type, or null.
CREATE FUNCTION kind_of(t oid) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT CASE
		WHEN t IN ('anyelement'::regtype, 'anycompatible'::regtype, 'anynonarray'::regtype,
				   'anycompatiblenonarray'::regtype) THEN 'anyelement'
		WHEN t IN ('anyarray'::regtype, 'anycompatiblearray'::regtype) THEN 'anyarray'
		WHEN t = 'anyenum'::regtype THEN 'anyenum'
		WHEN t = 'record'::regtype THEN 'record'
		WHEN t IN ('text'::regtype, 'name'::regtype, 'varchar'::regtype, 'bpchar'::regtype) THEN 'text'
		WHEN t IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'oid'::regtype) THEN 'int'
		WHEN t = 'numeric'::regtype THEN 'num'
		WHEN t IN ('float4'::regtype, 'float8'::regtype) THEN 'float'
		WHEN t = 'bool'::regtype THEN 'bool'
		WHEN t IN ('jsonb'::regtype, 'json'::regtype) THEN 'jsonb'
		WHEN t IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN 'ts'
		WHEN t = 'interval'::regtype THEN 'interval'
		WHEN t = 'regclass'::regtype THEN 'regclass'
		WHEN t = 'regtype'::regtype THEN 'regtype'
		WHEN t = 'regrole'::regtype THEN 'regrole'
		WHEN t IN ('text[]'::regtype, 'name[]'::regtype, 'varchar[]'::regtype) THEN 'textarr'
	END
$$;

-- A value for type t (an expression of that type or castable to it);
-- hint is the argument's name, c the call's context (a binding) or null.
CREATE FUNCTION value_for(t oid, hint text, c fuzz_driver.ctx, depth int, coh float8)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	k text := fuzz_driver.kind_of(t);
	ty record;
	r float8 := random();
	fields text;
	v text;
	kinds text[] := ARRAY['text', 'int', 'bool', 'jsonb', 'ts', 'interval', 'num', 'float',
						  'regclass', 'record', 'anyelement', 'anyarray', 'textarr', 'anyenum'];
BEGIN
	IF r < (1 - coh) * 0.24 AND (k IS NULL OR k NOT IN ('anyelement', 'anyarray', 'anyenum', 'record')) THEN
		RETURN 'NULL';
	ELSIF r < (1 - coh) * 0.4 AND depth = 0 THEN
		-- a value of some other type
		RETURN fuzz_driver.pick(fuzz_driver.any_of(kinds));
	END IF;
	-- arguments that make sense together: the context's binding
	IF c IS NOT NULL AND random() < coh THEN
		CASE
		WHEN hint IN ('table_name', 'r') AND k IN ('regclass', 'text') THEN
			v := fuzz_driver.any_of(c.tables);
		WHEN hint = 'key' AND k IN ('anyelement', 'text') THEN
			v := fuzz_driver.any_of(c.keys);
		WHEN hint = 'key' AND k = 'jsonb' THEN
			v := fuzz_driver.any_of(c.key_jsons);
		WHEN hint = 'keys' THEN
			v := fuzz_driver.any_of(c.key_arrays);
		WHEN hint IN ('from_status', 'status') AND k = 'text' AND c.step_from IS NOT NULL
			 AND random() < 0.5 THEN
			v := c.step_from;
		WHEN hint = 'to_status' AND k = 'text' AND c.step_to IS NOT NULL AND random() < 0.5 THEN
			v := c.step_to;
		WHEN hint IN ('to_status', 'status', 'from_status', 'overflow_status', 'before', 'after')
			 AND k = 'text' THEN
			v := fuzz_driver.any_of(c.labels);
		WHEN hint = 'status_or_event' THEN
			v := fuzz_driver.any_of(c.labels || c.events);
		WHEN hint = 'event' AND k = 'text' AND c.step_event IS NOT NULL AND random() < 0.6 THEN
			v := c.step_event;
		WHEN hint = 'event' AND k = 'text' THEN
			v := fuzz_driver.any_of(c.events || c.labels[1:1]);
		WHEN hint IN ('workflow', 'wf', 'w', 'workflow_name') AND k = 'text' THEN
			v := quote_literal(c.workflow);
		WHEN hint = 'column_name' THEN
			v := CASE WHEN random() < 0.8 THEN quote_literal(c.column_name)
						ELSE fuzz_driver.any_of(c.columns) END;
		WHEN hint IN ('per_column', 'at_column', 'entered_at_column') THEN
			v := fuzz_driver.any_of(c.columns);
		WHEN hint IN ('binding', 'b') AND k = 'int' THEN
			v := c.binding_id::text;
		WHEN hint IN ('statuses', 'from_statuses', 'steps', 'labels', 'suspendable') THEN
			v := format('ARRAY[%s]::text[]', array_to_string(
				(SELECT array_agg(l) FROM unnest(c.labels) l WHERE random() < 0.5), ', '));
		WHEN hint = 'current_status' AND c.step_enum IS NOT NULL AND random() < 0.6 THEN
			v := c.step_enum;
		WHEN hint = 'current_status' THEN
			v := fuzz_driver.any_of(c.enum_values);
		WHEN hint = 'row_value' THEN
			r := random();
			IF r < 0.3 THEN
				v := fuzz_driver.any_of(c.rows);
			ELSIF r < 0.6 THEN
				v := fuzz_driver.value_for(c.row_type, 'row', c, 1, coh);
			ELSE
				v := fuzz_driver.random_row();
			END IF;
		WHEN hint = 'filter' THEN
			v := fuzz_driver.any_of(c.key_jsons || ARRAY[$j$'{"account_id": 1}'$j$, $j$'{}'$j$]);
		ELSE
			NULL;
		END CASE;
		-- (null when the context has nothing the role may name)
		IF v IS NOT NULL AND fuzz_driver.usable(v) THEN
			RETURN v;
		END IF;
	END IF;
	IF hint = 'query' THEN
		RETURN fuzz_driver.pick('query');
	ELSIF hint = 'nkeys' THEN
		RETURN fuzz_driver.pick('nkeys');
	END IF;
	IF k = 'record' AND random() < 0.5 THEN
		RETURN fuzz_driver.random_row();
	ELSIF k = 'anyelement' AND random() < 0.1 THEN
		RETURN fuzz_driver.random_row();
	ELSIF k IS NOT NULL THEN
		RETURN fuzz_driver.pick(k);
	END IF;
	SELECT typtype, typrelid, typelem, typbasetype, typcategory INTO ty FROM pg_type WHERE oid = t;
	IF ty.typtype = 'd' THEN
		RETURN fuzz_driver.value_for(ty.typbasetype, hint, c, depth, coh);
	ELSIF ty.typtype = 'e' THEN
		RETURN fuzz_driver.any_of((SELECT array_agg(quote_literal(enumlabel) ORDER BY enumsortorder)
								  FROM pg_enum WHERE enumtypid = t) || ARRAY[$e$'no such label'$e$]);
	ELSIF ty.typtype = 'c' THEN
		r := random();
		IF r < 0.35 THEN
			-- a real row, when the type is a table's or a view's
			RETURN format('(SELECT x FROM %s x LIMIT 1 OFFSET %s)', ty.typrelid::regclass,
						  CASE WHEN c IS NOT NULL AND random() < 0.7 THEN c.n - 1 ELSE fuzz_driver.rnd(8) END);
		ELSIF r < 0.45 OR depth > 1 THEN
			RETURN 'ROW(1)';
		ELSE
			-- a forged row, field by field
			SELECT string_agg(format('(%s)::%s', fuzz_driver.value_for(a.atttypid, a.attname, c, depth + 1, coh),
									 format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
			INTO fields
			FROM pg_attribute a WHERE a.attrelid = ty.typrelid AND a.attnum > 0 AND NOT a.attisdropped;
			RETURN format('ROW(%s)::%s', fields, t::regtype);
		END IF;
	ELSIF ty.typcategory = 'A' AND ty.typelem <> 0 THEN
		RETURN format('ARRAY[%s, %s]::%s', fuzz_driver.value_for(ty.typelem, hint, c, depth + 1, coh),
					  fuzz_driver.value_for(ty.typelem, hint, c, depth + 1, coh), format_type(t, NULL));
	END IF;
	RETURN 'NULL';
END
$$;

-- A made-up anonymous row of 1 to 8 typed scalars.
CREATE FUNCTION random_row() RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT format('ROW(%s)', string_agg(fuzz_driver.pick('scalar'), ', '))
	FROM generate_series(0, fuzz_driver.rnd(8))
$$;

-- An argument: the value, cast to the declared type unless polymorphic.
CREATE FUNCTION arg_for(t oid, hint text, c fuzz_driver.ctx, coh float8) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v text := fuzz_driver.value_for(t, hint, c, 0, coh);
BEGIN
	IF (SELECT typtype FROM pg_type WHERE oid = t) = 'p' THEN
		RETURN v;
	END IF;
	RETURN format('(%s)::%s', v, format_type(t, NULL));
END
$$;

CREATE FUNCTION generate(seed bigint, role name, calls int, rollback boolean, only_re text DEFAULT NULL)
RETURNS TABLE (call_no int, fn text, stmt text) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	funcs oid[];
	sigs text[];
	perm int[];
	weights int[];
	slots int[];
	nf int;
	cx int[];
	pick_n int;
	c2 fuzz_driver.ctx;
	nset int;
	i int;
	f oid;
	p record;
	c fuzz_driver.ctx;
	nargs int;
	args text[];
	coh float8;
	step text[];
	call text;
	pre text;
BEGIN
	PERFORM fuzz_driver.prepare_for(role);
	PERFORM setseed(((seed % 2000003) - 1000001)::float8 / 1000002);
	-- functions in C (the only ones that can crash the server by
	-- themselves) come three times in each round, the others once
	SELECT array_agg(x.oid ORDER BY x.signature), array_agg(x.signature ORDER BY x.signature),
		   array_agg(CASE WHEN l.lanname = 'c' THEN 3 ELSE 1 END ORDER BY x.signature)
	INTO funcs, sigs, weights
	FROM fuzz_driver.functions(role) x JOIN pg_proc pr ON pr.oid = x.oid
	JOIN pg_language l ON l.oid = pr.prolang
	WHERE only_re IS NULL OR x.signature ~ only_re;
	IF coalesce(cardinality(funcs), 0) = 0 THEN
		RETURN;
	END IF;
	SELECT array_agg(g) INTO slots FROM generate_series(1, cardinality(funcs)) g,
		LATERAL generate_series(1, weights[g]);
	nf := cardinality(slots);
	-- the contexts the role can name come up three times as often
	SELECT array_agg(x.n ORDER BY x.n, g) INTO cx
	FROM fuzz_driver.ctx x,
		 LATERAL generate_series(1, CASE WHEN has_schema_privilege(role, x.schema_name, 'USAGE')
										 THEN 3 ELSE 1 END) g;
	SELECT count(*) INTO nset FROM fuzz_driver.setting_src;
	FOR i IN 0 .. calls - 1 LOOP
		IF i % nf = 0 THEN
			-- every function once per round, in a new order
			SELECT array_agg(g ORDER BY random()) INTO perm FROM unnest(slots) g;
		END IF;
		f := funcs[perm[1 + i % nf]];
		SELECT pr.proname, n.nspname, pr.pronargs, pr.pronargdefaults, ARRAY(SELECT unnest(pr.proargtypes::oid[])) AS types,
			   pr.proargnames AS names, pr.prokind, pr.proretset, pr.provariadic
		INTO p FROM pg_proc pr JOIN pg_namespace n ON n.oid = pr.pronamespace WHERE pr.oid = f;
		c := NULL;
		IF random() < 0.7 THEN
			pick_n := fuzz_driver.any_of(cx::text[])::int;
			SELECT * INTO c FROM fuzz_driver.ctx WHERE n = pick_n;
			step := string_to_array(fuzz_driver.any_of(c.steps), E'\t');
			c.step_from := step[1];
			c.step_event := nullif(step[2], 'NULL');
			c.step_to := nullif(step[3], 'NULL');
			c.step_enum := CASE WHEN fuzz_driver.usable(step[4]) THEN step[4] END;
		END IF;
		-- how closely the arguments follow the context: half the calls
		-- nearly always (to reach deep paths), half more loosely
		coh := CASE WHEN c IS NOT NULL AND random() < 0.5 THEN 0.97 ELSE 0.75 END;
		nargs := p.pronargs - fuzz_driver.rnd(p.pronargdefaults + 1);
		args := '{}';
		FOR j IN 1 .. nargs LOOP
			IF c IS NOT NULL AND random() < (1 - coh) * 0.6 THEN
				-- this argument from another binding (another tenant's)
				pick_n := fuzz_driver.any_of(cx::text[])::int;
				SELECT * INTO c2 FROM fuzz_driver.ctx WHERE n = pick_n;
				args := args || fuzz_driver.arg_for(p.types[j], p.names[j], c2, coh);
			ELSE
				args := args || fuzz_driver.arg_for(p.types[j], p.names[j], c, coh);
			END IF;
		END LOOP;
		IF p.provariadic <> 0 AND nargs = p.pronargs THEN
			args[nargs] := 'VARIADIC ' || args[nargs];
		END IF;
		call := format('%I.%I(%s)', p.nspname, p.proname, array_to_string(args, ', '));
		call := CASE
			WHEN p.prokind = 'p' THEN format('CALL %s;', call)
			WHEN p.prokind = 'w' THEN format('SELECT %s OVER ();', call)
			WHEN p.proretset THEN format('SELECT count(*) FROM %s;', call)
			ELSE format('SELECT %s;', call)
		END;
		call := replace(replace(call, E'\n', ' '), E'\r', ' ');
		pre := NULL;
		IF random() < 0.05 THEN
			pick_n := 1 + fuzz_driver.rnd(nset);
			SELECT s.expr INTO pre FROM fuzz_driver.setting_src s WHERE s.id = pick_n;
		END IF;
		call_no := i;
		IF rollback THEN
			fn := NULL; stmt := 'BEGIN;'; RETURN NEXT;
		END IF;
		IF pre IS NOT NULL THEN
			fn := NULL; stmt := pre; RETURN NEXT;
		END IF;
		fn := sigs[perm[1 + i % nf]]; stmt := call; RETURN NEXT;
		IF rollback THEN
			fn := NULL; stmt := 'ROLLBACK;'; RETURN NEXT;
		END IF;
		IF pre IS NOT NULL THEN
			fn := NULL; stmt := 'RESET ALL;'; RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

SELECT fuzz_driver.fill();

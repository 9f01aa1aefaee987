-- Benchmark data for bench/core.sh: three copies of the same 100,000 rows.
--   bench_floor     no check at all; the workload writes its history itself
--   bench_sf        statusflow attached
--   bench_plpgsql   the PL/pgSQL triggers a user would write instead
--   bench_plain     no trigger at all (updates that leave the status alone)
--   bench_guarded   statusflow, with a status condition on another column
--                   (its invariant trigger watches that column only)
--   bench_summarized statusflow, keeping summaries of its history (which
--                   indexes the history's txid)
-- The workflow is a cycle s0 -> s1 -> s2 -> s3 -> s0, so the generated
-- updates (each row to the next status) are always valid.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_floor, bench_floor_history, bench_sf,
	bench_sf_status_history, bench_plpgsql, bench_plpgsql_history,
	bench_transitions, bench_plain, bench_guarded, bench_guarded_status_history,
	bench_summarized, bench_summarized_status_history CASCADE;
DROP EXTENSION IF EXISTS statusflow CASCADE;
DROP TYPE IF EXISTS bench_status, bench_guarded_status;
CREATE EXTENSION statusflow;

SELECT statusflow.create_workflow('bench', ARRAY['s0', 's1', 's2', 's3'],
								  initial => ARRAY['s0'], type_name => 'bench_status');
SELECT statusflow.add_transition('bench', ARRAY['s0'], 's1');
SELECT statusflow.add_transition('bench', ARRAY['s1'], 's2');
SELECT statusflow.add_transition('bench', ARRAY['s2'], 's3');
SELECT statusflow.add_transition('bench', ARRAY['s3'], 's0');

CREATE TABLE bench_sf (id bigint PRIMARY KEY, status bench_status NOT NULL,
					   payload integer NOT NULL DEFAULT 0);
INSERT INTO bench_sf (id, status)
SELECT i, (ARRAY['s0','s1','s2','s3']::bench_status[])[1 + i % 4]
FROM generate_series(1, :entities) i;
-- the seed rows are not part of the measurement: no backfilled history
SELECT statusflow.attach('bench_sf', 'status', 'bench', backfill => false);

CREATE TABLE bench_floor (LIKE bench_sf INCLUDING ALL);
CREATE TABLE bench_floor_history (LIKE bench_sf_status_history INCLUDING ALL);
INSERT INTO bench_floor SELECT * FROM bench_sf;

CREATE TABLE bench_plpgsql (LIKE bench_sf INCLUDING ALL);
CREATE TABLE bench_plpgsql_history (LIKE bench_sf_status_history INCLUDING ALL);
INSERT INTO bench_plpgsql SELECT * FROM bench_sf;
CREATE TABLE bench_plain (LIKE bench_sf INCLUDING ALL);
INSERT INTO bench_plain SELECT * FROM bench_sf;
CREATE TABLE bench_summarized (LIKE bench_sf INCLUDING ALL);
INSERT INTO bench_summarized SELECT * FROM bench_sf;
SELECT statusflow.attach('bench_summarized', 'status', 'bench', backfill => false);
SELECT statusflow.enable_summaries('bench_summarized');

SELECT statusflow.create_workflow('bench_guarded', ARRAY['s0', 's1', 's2', 's3'],
								  initial => ARRAY['s0']);
SELECT statusflow.add_transition('bench_guarded', ARRAY['s0'], 's1');
SELECT statusflow.add_transition('bench_guarded', ARRAY['s1'], 's2');
SELECT statusflow.add_transition('bench_guarded', ARRAY['s2'], 's3');
SELECT statusflow.add_transition('bench_guarded', ARRAY['s3'], 's0');
SELECT statusflow.set_status_info('bench_guarded', 's1', condition => 'channel = ''email''');
CREATE TABLE bench_guarded (id bigint PRIMARY KEY, status bench_guarded_status NOT NULL,
							payload integer NOT NULL DEFAULT 0,
							channel text NOT NULL DEFAULT 'email');
INSERT INTO bench_guarded (id, status)
SELECT id, status::text::bench_guarded_status FROM bench_sf;
SELECT statusflow.attach('bench_guarded', 'status', 'bench_guarded', backfill => false);

CREATE TABLE bench_transitions (from_status bench_status, to_status bench_status,
								PRIMARY KEY (from_status, to_status));
INSERT INTO bench_transitions
SELECT from_status::text::bench_status, to_status::text::bench_status
FROM statusflow.transitions WHERE workflow = 'bench';

CREATE FUNCTION bench_plpgsql_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM bench_transitions
				   WHERE from_status = OLD.status AND to_status = NEW.status) THEN
		RAISE EXCEPTION 'transition from % to % is not allowed', OLD.status, NEW.status
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE FUNCTION bench_plpgsql_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench_plpgsql_history (id, from_status, to_status)
	VALUES (NEW.id, OLD.status, NEW.status);
	RETURN NULL;
END $$;
CREATE TRIGGER check_status BEFORE UPDATE ON bench_plpgsql FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bench_plpgsql_check();
CREATE TRIGGER record_status AFTER UPDATE ON bench_plpgsql FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bench_plpgsql_record();
VACUUM ANALYZE;

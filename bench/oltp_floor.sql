\set id random(1, :entities)
WITH u AS (UPDATE bench_floor SET status = CASE status WHEN 's0' THEN 's1'::bench_status WHEN 's1' THEN 's2'::bench_status WHEN 's2' THEN 's3'::bench_status ELSE 's0'::bench_status END WHERE id = :id RETURNING id, status)
INSERT INTO bench_floor_history (id, from_status, to_status)
SELECT id, CASE status WHEN 's1' THEN 's0'::bench_status WHEN 's2' THEN 's1'::bench_status WHEN 's3' THEN 's2'::bench_status ELSE 's3'::bench_status END, status FROM u;

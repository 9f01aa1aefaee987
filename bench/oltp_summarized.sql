\set id random(1, :entities)
UPDATE bench_summarized SET status = CASE status WHEN 's0' THEN 's1'::bench_status WHEN 's1' THEN 's2'::bench_status WHEN 's2' THEN 's3'::bench_status ELSE 's0'::bench_status END WHERE id = :id;

\set id random(1, :entities)
UPDATE bench_sf SET payload = payload + 1 WHERE id = :id;

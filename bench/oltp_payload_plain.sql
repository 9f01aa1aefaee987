\set id random(1, :entities)
UPDATE bench_plain SET payload = payload + 1 WHERE id = :id;

\set id random(1, :entities)
UPDATE bench_guarded SET payload = payload + 1 WHERE id = :id;

UPDATE bench_guarded SET payload = payload + 1;

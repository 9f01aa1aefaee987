UPDATE bench_plain SET payload = payload + 1;

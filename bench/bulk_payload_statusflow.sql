UPDATE bench_sf SET payload = payload + 1;

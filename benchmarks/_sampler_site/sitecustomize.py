"""Arms the CPU-time sampler in benchmark servers (on PYTHONPATH only for processes the benchmark
starts): a SIGUSR2 handler and nothing else until the benchmark sends SIGUSR2."""

import os

if os.environ.get("BENCH_CPU_SAMPLES"):
    from benchmarks.cpu_sampler import install

    install(os.environ["BENCH_CPU_SAMPLES"])

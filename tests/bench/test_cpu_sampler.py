"""The CPU sampler, armed as in a benchmark server: SIGUSR2 starts it, SIGUSR2 writes the stacks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.budget import parse_raw, sampler_env
from benchmarks.cpu_sampler import samples_path

_BUSY = """
import hashlib, sys, time
def burn_cpu():
    for _ in range(2000):
        hashlib.sha256(b"x" * 4096).digest()
print("ready", flush=True)
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    burn_cpu()
"""


def test_signalled_sampler_writes_cpu_samples_of_the_busy_function(tmp_path: Path) -> None:
    env = {**os.environ, **sampler_env(tmp_path)}
    busy = subprocess.Popen(
        [sys.executable, "-c", _BUSY], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert busy.stdout is not None and busy.stdout.readline().strip() == "ready"
        os.kill(busy.pid, signal.SIGUSR2)
        time.sleep(0.5)
        os.kill(busy.pid, signal.SIGUSR2)
        path = samples_path(tmp_path, busy.pid)
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        _, leaves = parse_raw(path.read_text(), set())
    finally:
        busy.kill()
        busy.communicate()
    assert sum(leaves.values()) >= 10
    assert leaves.most_common(1)[0][0].startswith("burn_cpu (")

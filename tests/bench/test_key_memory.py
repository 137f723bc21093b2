"""The memory tool runs the real app through all three of its passes (every call must answer
200, or it stops) and prints a figure per pass; no figure is checked (bytes at this size are
noise: the tool is for 20,000 keys and more)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_memory_tool_completes_every_pass() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.key_memory", "--keys", "40", "--parsed-key-cache", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for label in ("DescribeKey x 40 (cached)", "x 10 (parsed)", "x 40 (all in use)"):
        assert re.search(re.escape(label) + r"\s+RSS\s+[\d.]+ MB", done.stdout), done.stdout
    assert "worker after 40 keys in use: VmRSS" in done.stdout

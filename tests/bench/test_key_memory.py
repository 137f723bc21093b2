"""The memory tool runs the real app through all three of its passes (every call must answer
200, or it stops) and prints a figure per pass; no figure is checked (bytes at this size are
noise: the tool is for 20,000 keys and more)."""

from __future__ import annotations

import re

from tests.bench.tools import run_tool


def test_the_memory_tool_completes_every_pass() -> None:
    done = run_tool("key_memory", "--keys", "40", "--parsed-key-cache", "10")
    assert done.returncode == 0, done.stderr[-2000:]
    for label in ("DescribeKey x 40 (cached)", "x 10 (parsed)", "x 40 (all in use)"):
        assert re.search(re.escape(label) + r"\s+RSS\s+[\d.]+ MB", done.stdout), done.stdout
    assert "worker after 40 keys in use: VmRSS" in done.stdout

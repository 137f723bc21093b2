"""The in-process driver runs the real app end to end: every call it times answers 200 (it
stops on anything else), for one key, for many keys past the caches, and for DescribeKey."""

from __future__ import annotations

import re

import pytest

from tests.bench.tools import run_tool


@pytest.mark.parametrize(
    "arguments",
    [
        ["--rounds", "1", "--count", "40"],
        ["--rounds", "1", "--count", "40", "--no-raw", "--keys", "30", "--key-cache", "10"],
        ["--rounds", "1", "--count", "40", "--no-raw", "--parsed-key-cache", "0"],
        ["--rounds", "1", "--count", "40", "--no-raw", "--operation", "describe"],
    ],
    ids=["derive", "many-keys", "nothing-parsed-kept", "describe"],
)
def test_the_in_process_driver_completes_and_prints_cpu_per_request(arguments: list[str]) -> None:
    done = run_tool("in_process", *arguments)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"in process: \d+\.\d us CPU/request", done.stdout), done.stdout

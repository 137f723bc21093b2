"""Running a benchmark tool as a user would: `python -m benchmarks.<name>` from the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_tool(
    module: str, *arguments: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `benchmarks.<module>` with `arguments`; its exit code and output, never raising."""
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

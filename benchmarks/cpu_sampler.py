"""An in-process sampler weighted by CPU time, for the per-request CPU budget.

Why not only py-spy: py-spy samples every thread the kernel calls running, which includes
threads that are runnable but waiting for a core. On a shared 2-core machine with wrk on the
same cores, that waiting dominated (6.4 s of samples for 2.1 s of CPU) and piled up where the
answer wakes wrk, so shares were not CPU shares. ITIMER_PROF fires after each slice of the
process's own CPU time (user + system, all threads), so every sample stands for the same CPU.

The signal is handled by the main thread (the event loop), at the next bytecode: native work
(ECDH in OpenSSL, a socket write) shows as the Python frame that called it. CPU burnt by another
thread is charged to what the main thread is doing then (usually waiting in the event loop).

Armed by benchmarks/_sampler_site/sitecustomize.py; SIGUSR2 starts sampling, the next SIGUSR2
stops it and writes `<dir>/<pid>.txt` in py-spy's raw format (`frame;frame;... count`).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType

__all__ = ["INTERVAL_SECONDS", "install", "samples_path", "site_dir"]

INTERVAL_SECONDS = 0.002  # of process CPU time per sample
_samples: Counter[tuple[tuple[CodeType, int], ...]] = Counter()
_state = {"running": False}


def site_dir() -> Path:
    """The directory to put first on a server's PYTHONPATH to arm the sampler."""
    return Path(__file__).resolve().parent / "_sampler_site"


def samples_path(directory: Path, pid: int) -> Path:
    return directory / f"{pid}.txt"


def _on_cpu_slice(signum: int, frame: FrameType | None) -> None:
    stack = []
    while frame is not None:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    _samples[tuple(stack)] += 1


def _dump(directory: str) -> None:
    lines = []
    for stack, count in _samples.items():
        frames = [
            f"{code.co_qualname} ({code.co_filename}:{line})" for code, line in reversed(stack)
        ]
        lines.append(";".join(frames) + f" {count}")
    target = samples_path(Path(directory), os.getpid())
    target.with_suffix(".tmp").write_text("\n".join(lines) + "\n")
    target.with_suffix(".tmp").replace(target)  # the reader never sees half a file


def install(directory: str) -> None:
    def toggle(signum: int, frame: FrameType | None) -> None:
        if not _state["running"]:
            _samples.clear()
            signal.signal(signal.SIGPROF, _on_cpu_slice)
            signal.setitimer(signal.ITIMER_PROF, INTERVAL_SECONDS, INTERVAL_SECONDS)
            _state["running"] = True
            return
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        _state["running"] = False
        _dump(directory)

    Path(directory).mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGUSR2, toggle)

"""The per-request CPU budget: where a worker's CPU goes, stage by stage, from stack samples.

Samples come from benchmarks.cpu_sampler (default: one per slice of CPU time, in each worker) or
from py-spy (`--profiler py-spy`; it also counts threads that wait for a core, see cpu_sampler),
both as raw collapsed stacks (`frame;frame;... count`). Each stack is given to one stage: the innermost frame that matches a
rule of `STAGE_RULES` decides, so time in `json` or `hmac` goes to whoever called it, while
`logging` is always the log. Native code (ECDH in OpenSSL, uvloop's socket I/O, httptools'
parser) shows as the Python frame that called it, which is what the rules name.

The rules match module prefixes and function-name prefixes, never line numbers, so they survive
a refactor as long as a module keeps its job; a stage that moves to a new module needs one line
here. Stacks that match no rule count as "other".

Share of samples x the workers' CPU seconds (utime + stime from /proc, over the load window) /
requests served = microseconds of CPU per request per stage.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.cpu_sampler import samples_path, site_dir

__all__ = [
    "STAGES",
    "STAGE_RULES",
    "Budget",
    "format_budgets",
    "sample_budget",
    "sample_budget_in_process",
    "sampler_env",
    "stage_of",
]

HTTP = "HTTP server + event loop"
SIGV4 = "SigV4 + caller"
DECODE = "JSON decode"
RESOLVE = "key resolve + authorize"
ECDH = "ECDH"
ENCODE = "JSON encode"
AUDIT = "audit"
LOG = "log"
RESPONSE = "response"
THREADS = "thread hops"
PLUMBING = "app plumbing"
OTHER = "other"
STAGES = (
    HTTP,
    SIGV4,
    DECODE,
    RESOLVE,
    ECDH,
    ENCODE,
    AUDIT,
    LOG,
    RESPONSE,
    THREADS,
    PLUMBING,
    OTHER,
)

# (module prefix, function-name prefixes or None for any, stage); the first rule that matches a
# frame wins, and frames are tried from the innermost outwards. Order: specific before general.
STAGE_RULES: tuple[tuple[str, tuple[str, ...] | None, str], ...] = (
    ("logging", None, LOG),
    ("qkms.logs", None, LOG),
    ("qkms.audit", None, AUDIT),
    ("qkms.wire.pipeline", ("ApiPipeline._audited", "_audited"), AUDIT),
    ("qkms.wire.sigv4", None, SIGV4),
    ("qkms.operations.runtime.credentials", None, SIGV4),
    ("qkms.wire.auth", None, SIGV4),
    ("qkms.wire.codec", ("encode",), ENCODE),
    ("qkms.wire.errors", None, ENCODE),
    ("qkms.wire.codec", None, DECODE),
    ("qkms.wire.messages", ("send_response", "api_response"), RESPONSE),
    ("qkms.wire.messages", ("read_body",), HTTP),
    ("qkms.wire.http_protocol", None, HTTP),
    ("qkms.crypto", None, ECDH),
    ("qkms.operations", None, RESOLVE),
    ("qkms.domain", None, RESOLVE),
    ("qkms.storage", None, RESOLVE),
    ("qkms", None, PLUMBING),
    # the bare floor app (benchmarks/floor_app.py)
    ("benchmarks.floor_app", ("_decode",), DECODE),
    ("benchmarks.floor_app", ("_derive",), ECDH),
    ("benchmarks.floor_app", ("_encode",), ENCODE),
    ("benchmarks.floor_app", None, PLUMBING),
    # the server software: writing the answer, then everything else it does
    ("uvicorn.protocols.http.httptools_impl", ("RequestResponseCycle.send", "send"), RESPONSE),
    ("uvicorn.protocols.http.flow_control", None, RESPONSE),
    ("uvicorn", None, HTTP),
    ("httptools", None, HTTP),
    ("uvloop", None, HTTP),
    ("granian", None, HTTP),
    ("concurrent.futures", None, THREADS),
    ("threading", None, THREADS),
    ("asyncio.base_events", ("BaseEventLoop.run_in_executor", "run_in_executor"), THREADS),
    ("asyncio.tasks", ("wait_for",), THREADS),
    ("asyncio", None, HTTP),
)

_FRAME = re.compile(r"^(?P<function>.+) \((?P<file>[^()]+):\d+\)$")
_PROCESS = re.compile(r"process (\d+):")


def _module(filename: str) -> str:
    """`/x/src/qkms/wire/sigv4.py` -> `x.src.qkms.wire.sigv4` (matched on dotted segments)."""
    dotted = filename.removesuffix(".py").replace("\\", "/").strip("/").replace("/", ".")
    return dotted.removesuffix(".__init__")


def _short(filename: str) -> str:
    """`/x/site-packages/uvicorn/main.py` -> `uvicorn/main.py` (as py-spy shortens it)."""
    for marker in ("/site-packages/", "/src/", "/lib/python3."):
        if marker in filename:
            rest = filename.rsplit(marker, 1)[1]
            return rest.split("/", 1)[1] if marker == "/lib/python3." else rest
    return filename


def _matches(module: str, function: str, prefix: str, functions: tuple[str, ...] | None) -> bool:
    if not (module == prefix or f".{module}.".find(f".{prefix}.") >= 0):
        return False
    if functions is None:
        return True
    short = function.rsplit(".", 1)[-1]
    return any(function.startswith(f) or short.startswith(f) for f in functions)


def stage_of(frames: list[tuple[str, str]]) -> str:
    """The stage of one stack, given as (function, filename) from the outermost frame inwards."""
    for function, filename in reversed(frames):
        module = _module(filename)
        for prefix, functions, stage in STAGE_RULES:
            if _matches(module, function, prefix, functions):
                return stage
    return OTHER


@dataclass
class Budget:
    """One profiled load: samples per stage, the workers' CPU seconds, requests served."""

    label: str
    requests: int
    cpu_seconds: float
    samples: Counter[str] = field(default_factory=Counter)
    leaves: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.samples.values())

    def share(self, stage: str) -> float:
        return self.samples[stage] / self.total if self.total else 0.0

    def micros(self, stage: str) -> float:
        return self.share(stage) * self.cpu_seconds * 1e6 / self.requests if self.requests else 0.0


def parse_raw(text: str, pids: set[int]) -> tuple[Counter[str], Counter[str]]:
    """Samples per stage and per innermost function, for stacks of the given processes only."""
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        owners = [int(pid) for pid in _PROCESS.findall(stack)]
        if pids and owners and owners[-1] not in pids:
            continue  # the supervisor, not a worker
        frames = []
        for part in stack.split(";"):
            match = _FRAME.match(part)
            if match:
                frames.append((match["function"], match["file"]))
        if not frames:
            continue
        stages[stage_of(frames)] += int(count)
        function, filename = frames[-1]
        leaves[f"{function} ({_short(filename)})"] += int(count)
    return stages, leaves


def _cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of each process (all its threads), from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # fields 14 and 15 of stat(5)
    return total


def py_spy_path() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def sample_budget(
    label: str,
    server_pid: int,
    worker_pids: list[int],
    load: Callable[[float], int],
    seconds: float,
    out: Path,
) -> Budget | str:
    """py-spy every worker while `load(seconds)` runs (it returns requests served).

    Returns the budget, or why there is none (py-spy missing or failing).
    """
    py_spy = py_spy_path()
    if py_spy is None:
        return "py-spy is not installed (.venv/bin/pip install py-spy)"
    spy = subprocess.Popen(
        [
            py_spy, "record", "--pid", str(server_pid), "--subprocesses", "--nonblocking",
            "--format", "raw", "--rate", "250", "--duration", str(round(seconds) + 2),
            "--output", str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(0.7)  # py-spy attaches to every process before the load starts
    before = _cpu_seconds(worker_pids)
    requests = load(seconds)
    cpu = _cpu_seconds(worker_pids) - before
    _, err = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0 or not out.exists():
        return f"py-spy failed: {err.strip()[-300:]}"
    stages, leaves = parse_raw(out.read_text(), set(worker_pids))
    return Budget(label, requests, cpu, stages, leaves)


def sampler_env(directory: Path) -> dict[str, str]:
    """Environment that arms benchmarks.cpu_sampler in a server and all its workers."""
    root = site_dir().parents[1]
    path = [str(site_dir()), str(root), os.environ.get("PYTHONPATH", "")]
    return {
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "BENCH_CPU_SAMPLES": str(directory),
    }


def sample_budget_in_process(
    label: str,
    worker_pids: list[int],
    load: Callable[[float], int],
    seconds: float,
    directory: Path,
) -> Budget | str:
    """The armed CPU sampler (benchmarks.cpu_sampler) in every worker while `load` runs."""
    for pid in worker_pids:
        samples_path(directory, pid).unlink(missing_ok=True)
    before = _cpu_seconds(worker_pids)
    for pid in worker_pids:
        os.kill(pid, signal.SIGUSR2)
    requests = load(seconds)
    for pid in worker_pids:
        os.kill(pid, signal.SIGUSR2)
    cpu = _cpu_seconds(worker_pids) - before
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    deadline = time.monotonic() + 10
    for pid in worker_pids:
        path = samples_path(directory, pid)
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not path.exists():
            return f"worker {pid} wrote no CPU samples (was the server started with sampler_env?)"
        more_stages, more_leaves = parse_raw(path.read_text(), set())
        stages += more_stages
        leaves += more_leaves
    return Budget(label, requests, cpu, stages, leaves)


def format_budgets(budgets: list[Budget]) -> list[str]:
    """The stage table: % of sampled worker CPU and CPU microseconds per request, side by side."""
    header = f"  {'stage':<26}" + "".join(f" {b.label[:24]:>24}" for b in budgets)
    lines = [header, f"  {'':<26}" + "".join(f" {'% CPU':>10} {'us/req':>13}" for _ in budgets)]
    for stage in STAGES:
        if not any(b.samples[stage] for b in budgets):
            continue
        cells = "".join(f" {b.share(stage):>10.1%} {b.micros(stage):>13,.1f}" for b in budgets)
        lines.append(f"  {stage:<26}{cells}")
    totals = "".join(
        f" {'100%':>10} {b.cpu_seconds * 1e6 / max(1, b.requests):>13,.1f}" for b in budgets
    )
    lines.append(f"  {'total (worker CPU)':<26}{totals}")
    lines.append(
        "  "
        + "; ".join(
            f"{b.label}: {b.total:,} samples, {b.cpu_seconds:.2f} worker CPU s, "
            f"{b.requests:,} requests"
            for b in budgets
        )
    )
    return lines

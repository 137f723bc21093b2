"""Run the planted-bug check: each mutant in `mutants.py`, one at a time, on a copy of the tree.

    .venv/bin/python -m tests.mutation.check [-k SUBSTRING] [--timeout S] [--unit-only] [--list]

The working tree (src, tests, pyproject.toml, uncommitted edits included) is copied to a
temporary directory once; each mutant rewrites one file *there*, runs its tests with `pytest -x`
under a timeout, and puts the file back in a `finally`. The real tree is never written, and the
copy is deleted on exit, Ctrl-C included. A mutant is killed when its tests fail, survives when
they pass. Before any mutant, each test selection must pass unmutated (the baseline), or every
mutant would look killed.

Exit status: 0 every mutant killed; 1 some survived, were stale or broke the run; 2 the
baseline failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.mutation.mutants import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[2]
_COPIED = ("src", "tests", "pyproject.toml")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "test-artifacts")
_FAILED_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: str  # killed | timeout | survived | stale | invalid | error
    seconds: float
    detail: str


def copy_tree(destination: Path) -> None:
    for name in _COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=_IGNORED)
        else:
            shutil.copy2(source, destination / name)


def _environment(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The copy's src comes first, for pytest and for every `qkms serve` the e2e tests spawn.
    env["PYTHONPATH"] = os.pathsep.join((str(tree / "src"), str(tree)))
    # No bytecode: a restored file of the same size within the same second could otherwise
    # reuse the mutant's .pyc.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_pytest(tree: Path, tests: Sequence[str], timeout: float) -> tuple[int | None, str]:
    """(exit status or None on timeout, output). The run is its own process group, so a
    timeout or Ctrl-C ends it together with any server it started."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    process = subprocess.Popen(
        command,
        cwd=tree,
        env=_environment(tree),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        _end_group(process)
        return None, ""
    except BaseException:
        _end_group(process)
        raise


def _end_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _first_failure(output: str) -> str:
    found = _FAILED_LINE.search(output)
    return found.group(2) if found else "(see pytest output)"


def run_mutant(tree: Path, mutant: Mutant, tests: Sequence[str], timeout: float) -> Outcome:
    target = tree / mutant.path
    started = time.monotonic()
    original = target.read_text() if target.is_file() else ""
    if original.count(mutant.old) != 1:
        found = original.count(mutant.old)
        return Outcome("stale", 0.0, f"`old` occurs {found} times in {mutant.path}, not once")
    mutated = original.replace(mutant.old, mutant.new)
    try:
        compile(mutated, str(target), "exec")
    except SyntaxError as error:
        return Outcome("invalid", 0.0, f"mutated file does not compile: {error}")
    try:
        target.write_text(mutated)
        status, output = run_pytest(tree, tests, timeout)
    finally:
        target.write_text(original)
    seconds = time.monotonic() - started
    if status is None:
        return Outcome("timeout", seconds, f"no answer within {timeout:g} s")
    if status == 0:
        return Outcome("survived", seconds, "every selected test passed")
    if status == 1:
        return Outcome("killed", seconds, _first_failure(output))
    tail = " | ".join(output.strip().splitlines()[-3:])
    return Outcome("error", seconds, f"pytest exit status {status}: {tail}")


def selections(mutants: Iterable[Mutant], unit_only: bool) -> dict[Mutant, tuple[str, ...]]:
    chosen: dict[Mutant, tuple[str, ...]] = {}
    for mutant in mutants:
        tests = tuple(t for t in mutant.tests if not (unit_only and t.startswith("tests/e2e")))
        chosen[mutant] = tests
    return chosen


def baseline(tree: Path, chosen: dict[Mutant, tuple[str, ...]], timeout: float) -> bool:
    """Every distinct test selection passes on the unmutated copy."""
    for tests in dict.fromkeys(chosen.values()):
        started = time.monotonic()
        status, output = run_pytest(tree, tests, timeout)
        seconds = time.monotonic() - started
        if status != 0:
            print(f"baseline FAILED ({seconds:.1f} s): {' '.join(tests)}")
            print(output[-3000:] if status is not None else f"timed out after {timeout:g} s")
            return False
        print(f"baseline ok     ({seconds:5.1f} s): {' '.join(tests)}", flush=True)
    return True


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/mutation-check.sh", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("-k", dest="match", help="only mutants whose name contains this")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per pytest run")
    parser.add_argument("--unit-only", action="store_true", help="skip tests under tests/e2e")
    parser.add_argument("--skip-baseline", action="store_true", help="trust the tree is green")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    mutants = [m for m in MUTANTS if args.match is None or args.match in m.name]
    if args.list:
        for mutant in mutants:
            source = ROOT / mutant.path
            found = source.read_text().count(mutant.old) if source.is_file() else 0
            state = "" if found == 1 else f"  STALE: `old` occurs {found} times"
            print(f"{mutant.name:55} {mutant.path}{state}\n    {mutant.bug}")
        return 0
    if not mutants:
        print(f"no mutant name contains {args.match!r}")
        return 1
    chosen = selections(mutants, args.unit_only)
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="qkms-mutation-") as temporary:
        tree = Path(temporary)
        try:
            copy_tree(tree)
            if not args.skip_baseline and not baseline(tree, chosen, args.timeout):
                return 2
            for number, mutant in enumerate(mutants, 1):
                outcome = run_mutant(tree, mutant, chosen[mutant], args.timeout)
                outcomes[mutant.name] = outcome
                print(
                    f"[{number:2}/{len(mutants)}] {outcome.verdict.upper():8} {mutant.name:55} "
                    f"{outcome.seconds:6.1f} s  {outcome.detail}",
                    flush=True,
                )
        except KeyboardInterrupt:
            print("\ninterrupted: the copy is removed, the working tree was never changed")
            _summary(outcomes)
            return 130
    return _summary(outcomes)


def _summary(outcomes: dict[str, Outcome]) -> int:
    def named(*verdicts: str) -> list[str]:
        return [name for name, o in outcomes.items() if o.verdict in verdicts]

    killed, survived = named("killed", "timeout"), named("survived")
    broken = named("stale", "invalid", "error")
    if survived:
        print("survivors: " + ", ".join(survived))
    if broken:
        print("not run (stale, invalid or error): " + ", ".join(broken))
    total = len(outcomes)
    score = (
        f"{100 * len(killed) / (len(killed) + len(survived)):.0f}%" if killed or survived else "-"
    )
    # A hang under the mutant is a kill, but a too-short --timeout looks the same: say so.
    timeouts = len(named("timeout"))
    by_timeout = f" ({timeouts} by timeout)" if timeouts else ""
    print(
        f"mutation check: {total} mutants, {len(killed)} killed{by_timeout}, "
        f"{len(survived)} survived, {len(broken)} not run; score {score}"
    )
    return 0 if total and len(killed) == total else 1


if __name__ == "__main__":
    sys.exit(main())

"""`qkms audit tail|search`: read the audit trail that `qkms serve` appends to (docs/audit.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from qkms.audit import EventFilter, follow_events, iter_events, parse_time, tail_events
from qkms.config import Settings

__all__ = ["add_audit_commands", "run_audit"]


def add_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "audit",
        help="read the audit trail",
        description="Reads the audit log of `qkms serve` and its rotated predecessors "
        "(audit.log.N ... audit.log.1, audit.log); prints one JSON event per line.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    tail = actions.add_parser("tail", help="print the last events")
    tail.add_argument("-n", "--lines", type=int, default=10, help="how many (default 10)")
    tail.add_argument(
        "-f", "--follow", action="store_true", help="then print new events as they come"
    )
    search = actions.add_parser("search", help="print matching events, oldest first")
    search.add_argument("--key", help="key id, key ARN (or the KeyId as sent)")
    search.add_argument("--event", help="operation name, e.g. DeriveSharedSecret")
    search.add_argument("--since", help="ISO 8601 time or epoch seconds")
    search.add_argument("--until", help="ISO 8601 time or epoch seconds")
    search.add_argument("--errors-only", action="store_true", help="only failed calls")


def _print(events: Iterable[dict[str, Any]]) -> None:
    for event in events:
        sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.audit_log_path
    if not path.exists() and args.action != "tail":
        print(f"qkms audit: no audit log at {path}", file=sys.stderr)
        return 1
    try:
        if args.action == "tail":
            _print(tail_events(path, max(args.lines, 0)))
            if args.follow:
                _print(follow_events(path))
            return 0
        event_filter = EventFilter(
            key=args.key,
            event_name=args.event,
            since=parse_time(args.since) if args.since else None,
            until=parse_time(args.until) if args.until else None,
            errors_only=args.errors_only,
        )
    except ValueError as exc:
        print(f"qkms audit: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, BrokenPipeError):
        return 0
    try:
        _print(iter_events(path, event_filter))
    except BrokenPipeError:  # `qkms audit search ... | head`
        return 0
    return 0

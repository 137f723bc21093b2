"""`--log-format json` and `--access-log`: what a log collector reads from `qkms serve`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ADMIN_SECRET, QkmsServer

pytestmark = pytest.mark.e2e


def run_and_read(server: QkmsServer) -> list[str]:
    server.start()
    try:
        client = server.client()
        client.list_keys()
        with pytest.raises(client.exceptions.NotFoundException):
            client.describe_key(KeyId="alias/none")
    finally:
        assert server.stop() == 0
    return [line for line in server.log().splitlines() if line.strip()]


def test_json_logs_are_one_object_per_line_with_each_request(tmp_path: Path) -> None:
    lines = run_and_read(QkmsServer(tmp_path / "data", extra_args=["--log-format", "json"]))

    records: list[dict[str, Any]] = [json.loads(line) for line in lines]  # each line parses
    assert all({"time", "level", "logger"} <= record.keys() for record in records)
    start = next(r for r in records if r.get("event") == "start")
    assert start["workers"] == 1 and start["endpoint"].startswith("http://127.0.0.1:")
    assert "SQLite store" in start["store"]
    requests = [r for r in records if r["logger"] == "qkms.access"]
    assert [(r["operation"], r["status"], r["error"]) for r in requests] == [
        ("ListKeys", 200, None),
        ("DescribeKey", 400, "NotFoundException"),
    ]
    assert all(r["request_id"] and r["ms"] >= 0 and r["access_key_id"] for r in requests)
    assert records[-1]["event"] == "stop"
    assert ADMIN_SECRET not in "\n".join(lines)


def test_no_access_log_drops_only_the_request_lines(tmp_path: Path) -> None:
    lines = run_and_read(QkmsServer(tmp_path / "data", env={"QKMS_ACCESS_LOG": "false"}))
    assert not [line for line in lines if "qkms.access" in line]
    assert any(line.endswith("INFO qkms stopped") for line in lines)


def test_text_logs_keep_one_line_per_request_by_default(tmp_path: Path) -> None:
    lines = run_and_read(QkmsServer(tmp_path / "data"))
    assert len([line for line in lines if " INFO qkms.access " in line]) == 2
    assert any("Try it:" in line for line in lines)  # the banner, for a person

"""The goal table judges each goal from the run's own rows: QKMS against the floor on its server."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.floor import FLOOR_STORE, floor_scenario
from benchmarks.goals import Goal, GoalInputs, format_goals, judge


@dataclass
class _Row:
    store: str
    scenario: str
    connections: int | None
    rate: float
    p99_ms: float | None = None


def _inputs(describe_baseline: float = 1000.0) -> GoalInputs:
    return GoalInputs("uvicorn", 2, describe_baseline, "--describe-baseline", {})


def _rows(qkms_p256: float, floor_p256: float) -> list[_Row]:
    return [
        _Row("in-process", "raw ECDH P-256", None, 20_000.0),
        _Row("SQLite", "derive P-256, 1 key", 16, qkms_p256, 4.0),
        _Row(FLOOR_STORE, floor_scenario("uvicorn", "P-256"), 16, floor_p256, 3.0),
        _Row(FLOOR_STORE, floor_scenario("granian-rsgi", "P-256"), 16, floor_p256 * 10, 1.0),
        _Row("SQLite", "derive P-256, 1 key", 1, 2000.0, 2.5),
        _Row("SQLite", "DescribeKey", 16, 2100.0),
        _Row("SQLite", "CreateKey", 16, 900.0),
    ]


def _status(goals: list[Goal], start: str) -> str:
    found = [g for g in goals if g.goal.startswith(start)]
    assert len(found) == 1, [g.goal for g in goals]
    return found[0].status


def test_p256_is_judged_against_the_floor_on_qkms_server_software_only() -> None:
    met = judge(_rows(qkms_p256=8_000, floor_p256=10_000), _inputs())
    assert _status(met, "DeriveSharedSecret P-256") == "met"  # 0.8 x uvicorn, not x granian
    short = judge(_rows(qkms_p256=7_900, floor_p256=10_000), _inputs())
    assert _status(short, "DeriveSharedSecret P-256") == "NOT met"


def test_latency_describe_create_and_missing_figures() -> None:
    goals = judge(_rows(8_000, 10_000), _inputs(describe_baseline=1000.0))
    assert _status(goals, "P-256 p99 at 16 conns") == "met"
    assert _status(goals, "P-256 p99 at 1 conn ") == "NOT met"
    assert _status(goals, "DescribeKey") == "met"
    assert _status(goals, "CreateKey") == "NOT met"
    assert _status(goals, "DeriveSharedSecret P-384") == "not measured"
    assert _status(goals, "PostgreSQL: 100,000 keys") == "not measured"
    assert _status(goals, "  P-256: QKMS and floor / raw ECDH") == ""
    table = "\n".join(format_goals(goals, _inputs()))
    assert "0.80 x (8,000 vs 10,000/s)" in table


def test_the_cpu_budget_gives_the_floor_to_qkms_cpu_ratio_when_profiled() -> None:
    inputs = GoalInputs(
        "uvicorn", 2, 1000.0, "x", {}, cpu_us={"QKMS": 400.0, "floor (uvicorn)": 120.0}
    )
    table = "\n".join(format_goals(judge(_rows(8_000, 10_000), inputs), inputs))
    assert "floor / QKMS" in table and "0.30 (120 vs 400 us of worker CPU)" in table
    assert "floor / QKMS" not in "\n".join(format_goals(judge([], _inputs()), _inputs()))


def test_the_cost_of_metrics_is_judged_like_throttling_and_the_access_line_is_reported() -> None:
    def costs(metrics: float | None, access: float | None) -> list[Goal]:
        inputs = GoalInputs(
            "uvicorn", 2, 1000.0, "x", {}, metrics_cost=metrics, access_log_cost=access
        )
        return judge(_rows(8_000, 10_000), inputs)

    assert _status(costs(0.019, 0.15), "metrics cost < 2%") == "met"
    assert _status(costs(-0.01, 0.15), "metrics cost < 2%") == "met"  # noise either way
    assert _status(costs(0.021, 0.15), "metrics cost < 2%") == "NOT met"
    assert _status(costs(None, None), "metrics cost < 2%") == "not measured"
    reported = costs(0.01, 0.153)
    assert _status(reported, "  per-request access log line cost") == ""
    assert "15.3%" in "\n".join(format_goals(reported, _inputs()))


def test_many_keys_are_judged_on_the_warm_figure_when_there_is_one() -> None:
    first_use = _Row("PostgreSQL", "derive P-256, 100,000 keys uniform, first use", 16, 3_000.0)
    warm = _Row("PostgreSQL", "derive P-256, 100,000 keys uniform, warm", 16, 8_500.0)
    single = _Row("PostgreSQL", "derive P-256, 1 key", 16, 10_000.0)
    inputs = GoalInputs("uvicorn", 2, 1000.0, "x", {"PostgreSQL": 150.0})
    both = judge([first_use, warm, single], inputs)
    assert _status(both, "PostgreSQL: 100,000 keys") == "met"  # 0.85 warm, not 0.30 cold
    assert "0.85 x (100,000 keys uniform, warm)" in "\n".join(format_goals(both, inputs))
    assert _status(both, "PostgreSQL: worker RSS") == "met"
    cold_only = judge([first_use, single], inputs)
    assert _status(cold_only, "PostgreSQL: 100,000 keys") == "NOT met"

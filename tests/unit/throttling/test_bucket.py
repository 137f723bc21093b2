"""The token bucket's arithmetic, driven by explicit times."""

from __future__ import annotations

from qkms.throttling import Quota, take


def drain(quota: Quota, tokens: float, now: float, count: int) -> tuple[list[bool], float]:
    answers = []
    for _ in range(count):
        admitted, tokens, _ = take(quota, tokens, now, now)
        answers.append(admitted)
    return answers, tokens


def test_a_full_bucket_admits_one_second_of_requests_then_refuses() -> None:
    quota = Quota.per_second(5)
    answers, _ = drain(quota, quota.burst, now=100.0, count=7)
    assert answers == [True] * 5 + [False] * 2


def test_tokens_come_back_at_the_rate() -> None:
    quota = Quota.per_second(5)
    _, tokens = drain(quota, quota.burst, now=100.0, count=5)
    assert take(quota, tokens, 100.0, 100.1)[0] is False  # 0.5 token
    admitted, tokens, last = take(quota, tokens, 100.0, 100.2)  # 1 token
    assert (admitted, last) == (True, 100.2)
    assert take(quota, tokens, last, 100.2)[0] is False


def test_refill_never_exceeds_the_burst() -> None:
    quota = Quota.per_second(5)
    admitted, tokens, _ = take(quota, 0.0, 0.0, 3600.0)
    assert admitted and tokens == quota.burst - 1


def test_a_fractional_rate_still_admits_one_request_per_period() -> None:
    quota = Quota.per_second(0.25)  # one request in four seconds
    assert quota.burst == 1.0 and quota.refill_seconds == 4.0
    admitted, tokens, last = take(quota, quota.burst, 0.0, 0.0)
    assert admitted
    assert take(quota, tokens, last, 3.9)[0] is False
    assert take(quota, tokens, last, 4.0)[0] is True


def test_a_clock_that_went_backwards_refills_nothing() -> None:
    quota = Quota.per_second(5)
    admitted, tokens, last = take(quota, 0.5, 1000.0, 10.0)
    assert (admitted, tokens, last) == (False, 0.5, 10.0)

"""Prometheus metrics of every worker process, in prometheus_client's multiprocess mode.

`qkms serve` creates a private temporary directory and names it in PROMETHEUS_MULTIPROC_DIR
before any worker starts (`prepare_directory`), and removes it when it stops; each worker then records into its own files there
(`install`), and a scrape of any worker, or of `--metrics-port`, adds up all of them.
prometheus_client is imported only once that variable is set: it picks its storage at import.

Labels are bounded by construction: operation names come from the operation registry, error
codes from the error classes, store calls from the KeyStore methods, cache names from this
module. No key id, principal, alias or secret is ever a label. The per-request cost is one
dict lookup per label and the increments: every (operation, "ok") child and every latency
child is created at start, an error code's child the first time it occurs.

docs/operations.md lists the metrics and suggests alerts on them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from qkms.audit import AuditFileWriter
from qkms.storage.base import KeyStore, StoreTimeoutError

__all__ = [
    "MULTIPROC_ENV",
    "Sampled",
    "install",
    "is_installed",
    "measured_audit_writer",
    "measured_store",
    "prepare_directory",
    "record_request",
    "remove_directory",
    "render",
    "serve_separately",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_NO_OPERATION = "none"  # a call refused before X-Amz-Target named a known operation
_OK = "ok"
_THROTTLED = "ThrottlingException"
# Seconds: a derive from cache is well under a millisecond, a store write a few ms, an fsync
# up to tens of ms; the top buckets catch the store deadline (2 s) and the thread hop's (5 s).
_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


def prepare_directory() -> Path:
    """A new private directory for this run's counters, exported to the workers; before any
    starts. Outside the data directory: it is scratch, never backed up; `remove_directory`
    deletes it when the server stops."""
    directory = Path(tempfile.mkdtemp(prefix="qkms-metrics-"))  # mode 0700
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def remove_directory(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    os.environ.pop(MULTIPROC_ENV, None)


class _Metrics:
    """The metric families of one worker, and the label children the hot path uses."""

    def __init__(self, operations: Iterable[str]) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "qkms_requests", "API calls answered, by operation and error code (ok)",
            ["operation", "code"],
        )  # fmt: skip
        self.latency = Histogram(
            "qkms_request_duration_seconds", "time from request read to response sent",
            ["operation"], buckets=_LATENCY_BUCKETS,
        )  # fmt: skip
        self.throttled = Counter(
            "qkms_throttled_requests", "API calls refused by a request quota", ["operation"]
        )
        self.store_latency = Histogram(
            "qkms_store_call_duration_seconds", "store calls, by KeyStore method",
            ["call"], buckets=_LATENCY_BUCKETS,
        )  # fmt: skip
        self.store_timeouts = Counter(
            "qkms_store_timeouts", "store calls that did not answer within --store-timeout",
            ["call"],
        )  # fmt: skip
        self.audit_latency = Histogram(
            "qkms_audit_write_duration_seconds", "appending one audit event, fsync included if any",
            ["durable"], buckets=_LATENCY_BUCKETS,
        )  # fmt: skip
        self.cache_lookups = Counter(
            "qkms_cache_lookups", "per-worker cache lookups, by cache and hit or miss",
            ["cache", "result"],
        )  # fmt: skip
        self.feed_lag = Gauge(
            "qkms_change_feed_lag_seconds", "seconds since the worker last confirmed its caches "
            "current (the change feed is polled every 0.2 s); worst worker",
            multiprocess_mode="livemax",
        )  # fmt: skip
        self.ready = Gauge(
            "qkms_ready", "1 if every live worker's caches are current, else 0",
            multiprocess_mode="livemin",
        )  # fmt: skip
        self.keys = Gauge(
            "qkms_keys", "keys of every account by state and spec (sampled)",
            ["state", "spec"], multiprocess_mode="livemostrecent",
        )  # fmt: skip
        self.memory = Gauge(
            "qkms_process_resident_memory_bytes", "resident memory of each worker",
            multiprocess_mode="liveall",
        )  # fmt: skip
        self.cpu = Gauge(
            "qkms_process_cpu_seconds", "CPU time used by each worker", multiprocess_mode="liveall"
        )
        self.fds = Gauge(
            "qkms_process_open_fds", "open file descriptors of each worker",
            multiprocess_mode="liveall",
        )  # fmt: skip
        # The hot path's children, by operation then code: two dict lookups, no tuple built.
        self.by_operation: dict[str, tuple[Any, dict[str, Any]]] = {}
        for name in (*operations, _NO_OPERATION):
            self.by_operation[name] = (
                self.latency.labels(name),
                {_OK: self.requests.labels(name, _OK)},
            )

    def count(self, operation: str, code: str) -> Any:
        entry = self.by_operation.get(operation)
        if entry is None:  # not a registry name: never a label
            entry = self.by_operation[_NO_OPERATION]
            operation = _NO_OPERATION
        codes = entry[1]
        child = codes.get(code)
        if child is None:
            child = codes[code] = self.requests.labels(operation, code)
        return child


_metrics: _Metrics | None = None


def install(operations: Iterable[str]) -> bool:
    """Start recording in this worker if `qkms serve` prepared the directory; say whether."""
    global _metrics
    if _metrics is None and os.environ.get(MULTIPROC_ENV):
        _metrics = _Metrics(operations)
    return _metrics is not None


def is_installed() -> bool:
    return _metrics is not None


def record_request(operation: str | None, error_code: str | None, seconds: float) -> None:
    """One answered API call; the pipeline's only hook."""
    metrics = _metrics
    if metrics is None:
        return
    name = operation or _NO_OPERATION
    metrics.count(name, error_code or _OK).inc()
    entry = metrics.by_operation.get(name)
    if entry is not None:
        entry[0].observe(seconds)
    if error_code == _THROTTLED:
        metrics.throttled.labels(name).inc()


def render() -> bytes:
    """Every worker's metrics added up, in Prometheus's text format (blocking file reads)."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return bytes(generate_latest(registry))


def serve_separately(host: str, port: int) -> None:
    """Answer /metrics on its own port from a thread of `qkms serve`'s main process."""
    from http.server import ThreadingHTTPServer
    from threading import Thread

    from prometheus_client import CollectorRegistry, MetricsHandler, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server = ThreadingHTTPServer((host, port), MetricsHandler.factory(registry))
    server.daemon_threads = True
    Thread(target=server.serve_forever, name="qkms-metrics", daemon=True).start()


class _MeasuredStore:
    """Wraps a KeyStore: times every call and counts timeouts, by method name."""

    def __init__(self, store: KeyStore, metrics: _Metrics) -> None:
        self._store = store
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute
        latency = self._metrics.store_latency.labels(name)
        timeouts = self._metrics.store_timeouts.labels(name)

        def measured(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            except StoreTimeoutError:
                timeouts.inc()
                raise
            finally:
                latency.observe(time.perf_counter() - started)

        setattr(self, name, measured)  # later calls skip __getattr__
        return measured


def measured_store(store: KeyStore) -> KeyStore:
    """`store`, timed, when metrics are on; else `store` itself."""
    if _metrics is None:
        return store
    return cast(KeyStore, _MeasuredStore(store, _metrics))  # a KeyStore by delegation


class _MeasuredAuditWriter(AuditFileWriter):
    def append(self, line: bytes, durable: bool) -> None:
        started = time.perf_counter()
        try:
            super().append(line, durable)
        finally:
            if _metrics is not None:
                child = _metrics.audit_latency.labels("true" if durable else "false")
                child.observe(time.perf_counter() - started)


def measured_audit_writer(path: Path, max_bytes: int, backups: int) -> AuditFileWriter:
    """The audit log writer, timed when metrics are on."""
    kind = _MeasuredAuditWriter if _metrics is not None else AuditFileWriter
    return kind(path, max_bytes, backups)


class Sampled:
    """What is sampled by the background loop rather than counted per request."""

    def __init__(
        self,
        caches: Mapping[str, Any],  # name -> FreshCache (hits, misses, staleness, is_fresh)
        key_counts: Callable[[], dict[tuple[str, str], int]],
    ) -> None:
        self._caches = dict(caches)
        self._key_counts = key_counts
        self._seen_hits = dict.fromkeys(self._caches, 0)
        self._seen_misses = dict.fromkeys(self._caches, 0)
        self._key_labels: set[tuple[str, str]] = set()
        self._next_key_count = 0.0

    def sample(self) -> None:
        metrics = _metrics
        if metrics is None:
            return
        for name, cache in self._caches.items():
            hits, misses = cache.hits, cache.misses
            metrics.cache_lookups.labels(name, "hit").inc(hits - self._seen_hits[name])
            metrics.cache_lookups.labels(name, "miss").inc(misses - self._seen_misses[name])
            self._seen_hits[name], self._seen_misses[name] = hits, misses
        keys = self._caches.get("keys")
        if keys is not None:
            metrics.feed_lag.set(min(keys.staleness, 1e9))
            metrics.ready.set(1 if keys.is_fresh else 0)
        self._process(metrics)
        now = time.monotonic()
        if now >= self._next_key_count:  # one GROUP BY every 15 s per worker
            self._next_key_count = now + 15.0
            counts = self._key_counts()
            for labels in self._key_labels - counts.keys():
                metrics.keys.labels(*labels).set(0)  # a state no key is in any more
            for labels, count in counts.items():
                metrics.keys.labels(*labels).set(count)
            self._key_labels |= counts.keys()

    @staticmethod
    def _process(metrics: _Metrics) -> None:
        times = os.times()
        metrics.cpu.set(times.user + times.system)
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            metrics.memory.set(pages * os.sysconf("SC_PAGE_SIZE"))
            metrics.fds.set(len(os.listdir("/proc/self/fd")))
        except (OSError, ValueError, IndexError):
            pass  # not Linux: CPU time only

    @staticmethod
    def close() -> None:
        """The worker is stopping: its live gauges leave the sums."""
        if _metrics is not None:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

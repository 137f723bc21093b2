"""`qkms serve`: check what can be checked, set the store up once, then run the workers (DESIGN §6)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from qkms import __version__, metrics
from qkms.app import StartupError, bootstrap
from qkms.config import ConfigError, Settings
from qkms.preflight import check_listen_address, check_serve_files, check_tls_files
from qkms.sd_notify import notify_ready_when_serving

__all__ = ["serve"]

_log = logging.getLogger("qkms")


def _store_description(settings: Settings) -> str:
    if settings.database_url is None:
        return f"SQLite store {settings.sqlite_path.resolve()}"
    parts = urlsplit(settings.database_url)
    where = f"{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}{parts.path}"
    return f"PostgreSQL store {where}"  # never the user or password


def _endpoint(settings: Settings) -> str:
    url_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{settings.scheme}://{url_host}:{settings.port}"


def _banner(settings: Settings, credentials_file: Path, created: bool) -> str:
    endpoint = _endpoint(settings)
    creds = credentials_file.resolve()
    lines = [
        f"QKMS {__version__} on {endpoint}  ({settings.worker_count} worker(s), {_store_description(settings)})",
        f"Admin credentials {'written to' if created else 'are in'} {creds} (profile qkms, mode 0600)",
        "Try it:",
        f"  export AWS_SHARED_CREDENTIALS_FILE={creds} AWS_PROFILE=qkms AWS_DEFAULT_REGION={settings.region}",
        f"  aws --endpoint-url {endpoint} kms create-key --key-spec ECC_NIST_P256 --key-usage KEY_AGREEMENT",
    ]
    return "\n".join(lines)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def _announce_start(settings: Settings, credentials_file: Path, created: bool) -> None:
    """The banner for a person; with --log-format json, one line a log collector can parse."""
    if settings.log_format != "json":
        print(_banner(settings, credentials_file, created), file=sys.stderr, flush=True)
        return
    fields = {
        "event": "start",
        "version": __version__,
        "endpoint": _endpoint(settings),
        "workers": settings.worker_count,
        "store": _store_description(settings),
        "credentials_file": str(credentials_file.resolve()),
    }
    _log.info("started", extra={"fields": fields})


def serve(settings: Settings) -> int:
    try:
        settings.validate()
        # Checks that write nothing come first: a refused start leaves the data dir untouched.
        check_tls_files(settings.tls_cert, settings.tls_key)
        check_serve_files(settings.data_dir, settings.audit_log)
        check_listen_address(settings.host, settings.port)
        result = bootstrap(settings)
    except (ConfigError, StartupError) as exc:
        print(f"qkms: {exc}", file=sys.stderr)
        return 2
    # Workers rebuild the same settings from the environment (uvicorn spawns them).
    os.environ.update(settings.to_env())
    metrics_dir = metrics.prepare_directory() if settings.metrics else None
    try:
        if metrics_dir is None:
            os.environ.pop(metrics.MULTIPROC_ENV, None)
        elif settings.metrics_port:
            metrics.serve_separately(settings.metrics_host, settings.metrics_port)
    except OSError as exc:
        if metrics_dir is not None:
            metrics.remove_directory(metrics_dir)
        print(f"qkms: --metrics-port {settings.metrics_port}: {exc.strerror}", file=sys.stderr)
        return 2
    _announce_start(settings, result.credentials_file, result.new_admin_key is not None)
    # uvicorn drains in-flight requests on SIGTERM/SIGINT, then re-raises the signal under the
    # handler that was installed before it: make that a clean exit, as process managers expect.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_cleanly)
    # Under systemd (Type=notify): READY=1 once /readyz answers; nothing without NOTIFY_SOCKET.
    notify_ready_when_serving(settings.host, settings.port, tls=settings.tls_cert is not None)
    try:
        _run(settings)
    finally:
        if metrics_dir is not None:
            metrics.remove_directory(metrics_dir)
        _log.info("stopped", extra={"fields": {"event": "stop", "version": __version__}})
    return 0


def _run(settings: Settings) -> None:
    import uvicorn

    from qkms.wire.http_protocol import QkmsHttpProtocol

    uvicorn.run(
        "qkms.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.worker_count if settings.worker_count > 1 else None,
        loop="uvloop",
        http=QkmsHttpProtocol,  # httptools plus read deadlines and a connection cap
        ws="none",  # an upgrade would hand the socket to a protocol without those limits
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level="warning",
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        timeout_graceful_shutdown=10,
    )

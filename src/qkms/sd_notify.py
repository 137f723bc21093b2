"""systemd readiness (`Type=notify`): tell the service manager READY=1 once /readyz answers 200.

The protocol is one datagram on the AF_UNIX socket named by $NOTIFY_SOCKET (sd_notify(3); a
leading "@" names an abstract socket). No dependency: the standard library's socket is enough.
Without $NOTIFY_SOCKET (not under systemd, or `Type=simple`) nothing happens.

Ready means what a load balancer means by it: a worker answers /readyz with 200, so the listening
socket is bound, the store answers and the caches are current. The probe runs in the main process,
on a daemon thread, so the datagram comes from the unit's main PID (systemd's default
NotifyAccess=main) whatever the number of workers.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
from collections.abc import Mapping

__all__ = ["notify", "notify_ready_when_serving"]

_PROBE_INTERVAL_SECONDS = 0.1
_PROBE_TIMEOUT_SECONDS = 1.0
# Past this, systemd's own TimeoutStartSec (90 s by default) has long failed the start.
_GIVE_UP_AFTER_SECONDS = 600.0


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `state` (e.g. "READY=1") to $NOTIFY_SOCKET; False when there is none to send to."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":  # sd_notify(3) accepts these two forms (and vsock)
        return False
    target = "\0" + address[1:] if address[0] == "@" else address
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(target)
        sock.sendall(state.encode())
    return True


def notify_ready_when_serving(
    host: str, port: int, *, tls: bool, environ: Mapping[str, str] | None = None
) -> threading.Thread | None:
    """Start probing http(s)://host:port/readyz; send READY=1 on the first 200.

    Returns the probing thread, or None when not run under a notify-type systemd unit.
    """
    env = dict(os.environ if environ is None else environ)
    if not env.get("NOTIFY_SOCKET"):
        return None
    thread = threading.Thread(
        target=_probe_then_notify,
        args=(_loopback_for(host), port, tls, env),
        name="qkms-sd-notify",
        daemon=True,
    )
    thread.start()
    return thread


def _loopback_for(host: str) -> str:
    """Probe a wildcard listener through loopback; a specific address as it is."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - recognising the wildcard, not binding to it
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _probe_then_notify(host: str, port: int, tls: bool, environ: Mapping[str, str]) -> None:
    deadline = time.monotonic() + _GIVE_UP_AFTER_SECONDS
    while time.monotonic() < deadline:
        if _is_ready(host, port, tls):
            scheme = "https" if tls else "http"
            notify(f"READY=1\nSTATUS=serving on {scheme}://{host}:{port}", environ)
            return
        time.sleep(_PROBE_INTERVAL_SECONDS)


def _is_ready(host: str, port: int, tls: bool) -> bool:
    connection: http.client.HTTPConnection
    if tls:
        # Our own listener, reached by address: only the status code is read, so the certificate
        # (issued for the public name, not this address) is not what this probe checks.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            host, port, timeout=_PROBE_TIMEOUT_SECONDS, context=context
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=_PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):  # not listening yet, or not answering
        return False
    finally:
        connection.close()

"""Records each `qkms admin` and `qkms root-key rotate` change in the server's audit log.

The event shape is documented in qkms.audit.operator.

The log is checked writable before the change is made, so a command that could not be
audited changes nothing; the event is written (fsynced) once the outcome is known, failures
included. With PostgreSQL the event is also copied to the store's audit table, as the server
does, so the cluster-wide trail has it too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from qkms.audit import (
    AuditFileWriter,
    OperatorAction,
    build_operator_event,
    encode_event,
    operator_identity,
)
from qkms.operations.runtime.context import Services
from qkms.storage.base import AuditRow

__all__ = ["AdminAudit", "PlannedChange"]


@dataclass(slots=True)
class PlannedChange:
    """What a command is about to change, known before it runs."""

    event_name: str
    account_id: str | None
    user_name: str | None
    request: dict[str, Any] = field(default_factory=dict)
    command: str = "qkms admin"
    event_source: str = "iam.qkms"


class AdminAudit:
    """The audit log of the store `qkms admin` works on."""

    def __init__(
        self, writer: AuditFileWriter, services: Services, *, region: str, mirror: bool
    ) -> None:
        """`mirror`: also copy each event to the store's audit table (PostgreSQL, as the server)."""
        self._writer = writer
        self._services = services
        self._region = region
        self._mirror = mirror

    def check(self) -> None:
        """AuditWriteError unless the log can be written; run before changing anything."""
        self._writer.check()

    def record(
        self,
        change: PlannedChange,
        response: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """Append (fsynced) the event of `change` with its outcome; AuditWriteError if not."""
        user_arn = (
            self._services.arns.user_arn(change.account_id, change.user_name)
            if change.account_id is not None and change.user_name is not None
            else None
        )
        action = OperatorAction(
            event_name=change.event_name,
            event_time=time.time(),
            account_id=change.account_id,
            request=change.request,
            command=change.command,
            event_source=change.event_source,
            response=response,
            user_arn=user_arn,
            error_code=error[0] if error else None,
            error_message=error[1] if error else None,
        )
        event = build_operator_event(action, region=self._region, identity=operator_identity())
        line = encode_event(event)
        try:
            self._writer.append(line, durable=True)
        finally:
            self._writer.close()
        if self._mirror:
            self._services.store.append_audit_event(
                AuditRow(
                    event_id=action.event_id,
                    event_time=action.event_time,
                    event_name=action.event_name,
                    account_id=action.account_id,
                    error_code=action.error_code,
                    resources=(user_arn,) if user_arn else (),
                    record=line.decode().rstrip("\n"),
                )
            )

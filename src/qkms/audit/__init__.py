"""The audit trail: one CloudTrail-shaped JSON line per API call or operator command, and its readers."""

from qkms.audit.events import (
    ApiCall,
    Identity,
    Principal,
    api_call,
    build_event,
    claimed_access_key_id,
    encode_event,
    event_name_from_target,
)
from qkms.audit.operator import (
    OperatorAction,
    build_operator_event,
    operator_identity,
    policy_digest,
)
from qkms.audit.reader import EventFilter, follow_events, iter_events, parse_time, tail_events
from qkms.audit.trail import AuditTrail, is_read_only
from qkms.audit.writer import AuditFileWriter, AuditWriteError, rotated_paths

__all__ = [
    "ApiCall",
    "AuditFileWriter",
    "AuditTrail",
    "AuditWriteError",
    "EventFilter",
    "Identity",
    "OperatorAction",
    "Principal",
    "api_call",
    "build_event",
    "build_operator_event",
    "claimed_access_key_id",
    "encode_event",
    "event_name_from_target",
    "follow_events",
    "is_read_only",
    "iter_events",
    "operator_identity",
    "parse_time",
    "policy_digest",
    "rotated_paths",
    "tail_events",
]

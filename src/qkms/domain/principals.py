"""Who is calling: the authenticated principal and the request facts policies may look at."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: str
    user_name: str
    access_key_id: str
    principal_arn: str
    source_ip: str
    user_agent: str
    secure_transport: bool

"""Which keys rotate, and when (DESIGN §4a; AWS "Rotate AWS KMS keys").

Rotation gives a symmetric encryption key a new material version and makes it current; old
versions stay, so every ciphertext keeps decrypting. AWS rotates only symmetric encryption keys
whose material it generated: asymmetric, HMAC and ML-KEM keys, and keys with imported
material (origin EXTERNAL), are refused with UnsupportedOperationException.
"""

from __future__ import annotations

import enum

from qkms.domain.errors import LimitExceededException, UnsupportedOperationException
from qkms.domain.keys import Key, KeyOrigin, KeySpec

__all__ = [
    "DEFAULT_ROTATION_PERIOD_DAYS",
    "MAX_ON_DEMAND_ROTATIONS",
    "RotationType",
    "check_on_demand_quota",
    "check_rotatable",
    "next_rotation_date",
]

DAY_SECONDS = 86400.0
# AWS EnableKeyRotation: "RotationPeriodInDays ... default value is 365 days".
DEFAULT_ROTATION_PERIOD_DAYS = 365
# AWS RotateKeyOnDemand: "You can perform on-demand rotation a maximum of 25 times per KMS key."
MAX_ON_DEMAND_ROTATIONS = 25


class RotationType(enum.Enum):
    AUTOMATIC = "AUTOMATIC"
    ON_DEMAND = "ON_DEMAND"


def check_rotatable(key: Key, key_arn: str, *, on_demand: bool = False) -> None:
    """Refuse keys AWS cannot rotate, with the wording AWS answers (recorded by local-kms'
    handlers, which mirror AWS's responses): EXTERNAL origin first, then the key type.

    On demand, a symmetric key with imported material rotates too (AWS "Import new key
    material": it makes the version imported as NEW_KEY_MATERIAL current); automatically never.
    """
    imported_on_demand = on_demand and key.origin is KeyOrigin.EXTERNAL
    if key.origin is not KeyOrigin.AWS_KMS and not imported_on_demand:
        raise UnsupportedOperationException(
            f"{key_arn} origin is {key.origin.value} which is not valid for this operation."
        )
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        raise UnsupportedOperationException(f"{key_arn} is not a symmetric encryption KMS key.")
    if key.is_replica:
        # AWS: rotation is a property the primary shares with its replicas, set on the primary
        # ("Rotating multi-Region keys"); AWS's exact wording for a replica is not recorded.
        raise UnsupportedOperationException(
            f"{key_arn} is a multi-Region replica key: rotate its primary key, in "
            f"{key.primary_region}."
        )


def check_on_demand_quota(on_demand_rotations: int, key_arn: str) -> None:
    # AWS's message for this quota is not recorded publicly; this one names the limit.
    if on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS:
        raise LimitExceededException(
            f"{key_arn} has reached the limit of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations."
        )


def next_rotation_date(since: float, period_days: int) -> float:
    return since + period_days * DAY_SECONDS

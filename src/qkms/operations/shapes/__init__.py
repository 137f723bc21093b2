"""Request and response shapes of the KMS operations, mirroring AWS's (STYLE §2, §4).

Python names are snake_case; the codec renames them to AWS's PascalCase (`key_id` <-> `KeyId`).
Every request member is optional at the type level so that a missing one is reported with
AWS's ValidationException wording from `constraints`, not as a decoding error.
"""

from qkms.operations.shapes import access, aliases, keys
from qkms.operations.shapes.access import *  # noqa: F403 - each module lists its names once
from qkms.operations.shapes.aliases import *  # noqa: F403
from qkms.operations.shapes.base import Member, RecipientInfo, Request, Response, Tag
from qkms.operations.shapes.keys import *  # noqa: F403

__all__ = [
    *access.__all__,
    *aliases.__all__,
    *keys.__all__,
    "Member",
    "RecipientInfo",
    "Request",
    "Response",
    "Tag",
]

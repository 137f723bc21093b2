"""ARNs in the two shapes of DESIGN §2, and parsing of what callers send as a KeyId."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

__all__ = ["ArnFormat", "Arns", "KeyRef", "canonical_key_arn"]

# A key id: a UUID, or AWS's multi-Region key id ("mrk-" and 32 hex digits). One that parses but
# does not exist is NotFound "Key '...' does not exist", as AWS answers; what does not parse is
# "Invalid keyId".
_KEY_ID = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$"
)
_ACCOUNT = re.compile(r"^[0-9]{12}$")


class ArnFormat(enum.Enum):
    SEED = "seed"  # arn:verenc:<account>:key/<id>, exactly as the seed page shows it
    AWS = "aws"  # arn:verenc:kms:<region>:<account>:key/<id>, for clients that parse ARNs


@dataclass(frozen=True, slots=True)
class KeyRef:
    """What a caller's KeyId names: a key id or an alias, maybe pinned to an account by an ARN."""

    account_id: str | None  # None: the caller's own account (bare id or alias name)
    key_id: str | None = None
    alias_name: str | None = None  # "alias/<name>"
    region: str | None = None  # the region an aws-shape ARN named; None: the request's region


def canonical_key_arn(account_id: str, key_id: str) -> str:
    """The ARN bound as associated data when wrapping key material (DESIGN §6).

    Fixed to the seed shape in the default partition whatever the display settings are,
    so that changing --arn-format, --partition or --region never orphans stored keys.
    """
    return f"arn:verenc:{account_id}:key/{key_id}"


@dataclass(frozen=True, slots=True)
class Arns:
    """Writes ARNs in the configured shape; reads both shapes."""

    partition: str = "verenc"
    arn_format: ArnFormat = ArnFormat.SEED
    region: str = "us-east-1"

    def key_arn(self, account_id: str, key_id: str, region: str | None = None) -> str:
        """The key's ARN; `region` is the key's own (None: the default region, --region)."""
        return self._arn(account_id, f"key/{key_id}", region)

    def alias_arn(self, account_id: str, alias_name: str, region: str | None = None) -> str:
        return self._arn(account_id, alias_name, region)

    def account_root_arn(self, account_id: str) -> str:
        if self.arn_format is ArnFormat.AWS:
            return f"arn:{self.partition}:iam::{account_id}:root"
        return f"arn:{self.partition}:{account_id}:root"

    def user_arn(self, account_id: str, user_name: str) -> str:
        if self.arn_format is ArnFormat.AWS:
            return f"arn:{self.partition}:iam::{account_id}:user/{user_name}"
        return f"arn:{self.partition}:{account_id}:user/{user_name}"

    def key_arn_spellings(
        self, account_id: str, key_id: str, region: str | None = None
    ) -> frozenset[str]:
        """Both shapes of a key ARN: a policy may be written in either (DESIGN §2)."""
        return frozenset(
            {
                f"arn:{self.partition}:{account_id}:key/{key_id}",
                f"arn:{self.partition}:kms:{region or self.region}:{account_id}:key/{key_id}",
            }
        )

    def user_arn_spellings(self, account_id: str, user_name: str) -> frozenset[str]:
        return frozenset(
            {
                f"arn:{self.partition}:{account_id}:user/{user_name}",
                f"arn:{self.partition}:iam::{account_id}:user/{user_name}",
            }
        )

    def _arn(self, account_id: str, resource: str, region: str | None = None) -> str:
        if self.arn_format is ArnFormat.AWS:
            return f"arn:{self.partition}:kms:{region or self.region}:{account_id}:{resource}"
        return f"arn:{self.partition}:{account_id}:{resource}"

    def parse_key_ref(self, text: str) -> KeyRef | None:
        """Parse a KeyId parameter; None when it is no key reference at all."""
        if _KEY_ID.match(text):
            return KeyRef(account_id=None, key_id=text)
        if text.startswith("alias/"):
            return KeyRef(account_id=None, alias_name=text)
        if not text.startswith("arn:"):
            return None
        # The resource part may itself hold colons (AWS alias names allow them), so split only
        # as far as each shape has fields.
        seed = text.split(":", 3)
        region: str | None = None
        if len(seed) == 4 and seed[2] != "kms":  # seed: arn:<partition>:<account>:<resource>
            _, partition, account_id, resource = seed
        else:  # aws shape: arn:<partition>:kms:<region>:<account>:<resource>
            parts = text.split(":", 5)
            if len(parts) != 6:
                return None
            _, partition, service, region, account_id, resource = parts
            # The region is kept: another region's key is another key, which the caller's
            # region does not see (AWS answers NotFound naming the ARN, DESIGN §4a).
            if service != "kms" or not region:
                return None
        if partition != self.partition or not _ACCOUNT.match(account_id):
            return None
        if resource.startswith("key/") and _KEY_ID.match(resource[4:]):
            return KeyRef(account_id=account_id, key_id=resource[4:], region=region)
        if resource.startswith("alias/") and len(resource) > len("alias/"):
            return KeyRef(account_id=account_id, alias_name=resource, region=region)
        return None

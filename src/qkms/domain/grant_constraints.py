"""Grant constraints on the encryption context: when a grant applies (AWS "GrantConstraints").

AWS (API reference, GrantConstraints,
https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html):
- EncryptionContextEquals: the grant allows the operation only when the request's encryption
  context is the same as the constraint's; EncryptionContextSubset: only when it includes the
  constraint's pairs (it may have more).
- "In a grant constraint, the key in each key-value pair is not case sensitive, but the value
  is case sensitive."
- Constraints are applied only to operations that take an encryption context; DescribeKey,
  RetireGrant and the like ignore them (`encryption_context=None` here).
A grant's CreateGrant permission can only hand on grants at least as strict as itself (KMS
developer guide, "Granting CreateGrant permission").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["GrantConstraints"]

_EQUALS = "EncryptionContextEquals"
_SUBSET = "EncryptionContextSubset"


def _folded(pairs: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in pairs.items()}


@dataclass(frozen=True, slots=True)
class GrantConstraints:
    equals: Mapping[str, str] | None = None
    subset: Mapping[str, str] | None = None

    @property
    def is_empty(self) -> bool:
        return self.equals is None and self.subset is None

    @classmethod
    def from_json(cls, text: str | None) -> GrantConstraints:
        """As stored with a grant; None (no constraints) for a grant made without any."""
        if not text:
            return cls()
        data = json.loads(text)
        return cls(equals=data.get(_EQUALS), subset=data.get(_SUBSET))

    def to_json(self) -> str | None:
        data = {
            name: dict(pairs)
            for name, pairs in ((_EQUALS, self.equals), (_SUBSET, self.subset))
            if pairs is not None
        }
        return json.dumps(data, sort_keys=True) if data else None

    def allow(self, encryption_context: Mapping[str, str] | None) -> bool:
        """Whether a request with `encryption_context` meets the constraints; None means the
        operation takes no encryption context, to which AWS applies no constraint."""
        if encryption_context is None:
            return True
        request = _folded(encryption_context)
        if self.equals is not None and request != _folded(self.equals):
            return False
        return self.subset is None or _folded(self.subset).items() <= request.items()

    def is_within(self, parent: GrantConstraints) -> bool:
        """Whether these constraints allow nothing that `parent`'s would refuse."""
        mine_equals = _folded(self.equals) if self.equals is not None else None
        if parent.equals is not None and mine_equals != _folded(parent.equals):
            return False
        if parent.subset is not None:
            required = _folded(parent.subset).items()
            held = [
                pairs
                for pairs in (mine_equals, _folded(self.subset) if self.subset else None)
                if pairs is not None
            ]
            if not any(required <= pairs.items() for pairs in held):
                return False
        return True

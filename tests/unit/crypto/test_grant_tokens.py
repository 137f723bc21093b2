"""Grant tokens: sealed and opened under the root key, refused when altered, moved or foreign."""

from __future__ import annotations

import pytest

from qkms.crypto import (
    GrantTokenClaims,
    GrantTokenError,
    RootKey,
    open_grant_token,
    seal_grant_token,
)

CLAIMS = GrantTokenClaims(
    grant_id="ab" * 32, key_account_id="111122223333", key_id="1234abcd-12ab-34cd-56ef-1234567890ab"
)


def test_a_sealed_token_opens_to_its_claims() -> None:
    root = RootKey.generate()
    assert open_grant_token(root, seal_grant_token(root, CLAIMS)) == CLAIMS


def test_a_token_altered_anywhere_or_cut_is_refused() -> None:
    root = RootKey.generate()
    blob = seal_grant_token(root, CLAIMS)
    for index in range(len(blob)):
        altered = bytearray(blob)
        altered[index] ^= 0x80
        with pytest.raises(GrantTokenError):
            open_grant_token(root, bytes(altered))
    for cut in (blob[:-1], blob[1:], blob + b"\x00", b"", b"\x02"):
        with pytest.raises(GrantTokenError):
            open_grant_token(root, cut)


def test_a_token_is_bound_to_its_grant_key_and_account() -> None:
    root = RootKey.generate()
    blob = seal_grant_token(root, CLAIMS)
    for other in (
        GrantTokenClaims("cd" * 32, CLAIMS.key_account_id, CLAIMS.key_id),
        GrantTokenClaims(CLAIMS.grant_id, "444455556666", CLAIMS.key_id),
        GrantTokenClaims(CLAIMS.grant_id, CLAIMS.key_account_id, "another-key"),
    ):
        moved = seal_grant_token(root, other)
        assert moved != blob
        # Splicing the original MAC onto other claims does not authenticate.
        with pytest.raises(GrantTokenError):
            open_grant_token(root, moved[:-32] + blob[-32:])


def test_a_token_of_another_root_key_is_refused_unless_that_key_is_a_previous_one() -> None:
    old, new = RootKey.generate(), RootKey.generate()
    blob = seal_grant_token(old, CLAIMS)
    with pytest.raises(GrantTokenError):
        open_grant_token(new, blob)
    # During a root-key rotation the old key is in the ring and its tokens still open.
    assert open_grant_token(new.with_previous(old), blob) == CLAIMS


def test_claims_that_cannot_be_encoded_are_refused_when_sealing() -> None:
    root = RootKey.generate()
    for bad in (
        GrantTokenClaims("", CLAIMS.key_account_id, CLAIMS.key_id),
        GrantTokenClaims(CLAIMS.grant_id, "1234", CLAIMS.key_id),
        GrantTokenClaims(CLAIMS.grant_id, CLAIMS.key_account_id, "k" * 256),
    ):
        with pytest.raises(ValueError):
            seal_grant_token(root, bad)

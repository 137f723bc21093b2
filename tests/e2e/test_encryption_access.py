"""Access to the symmetric data plane: grant constraints and policy conditions on the context.

AWS GrantConstraints (keys case-insensitive, values case-sensitive) and the KMS condition keys
kms:EncryptionContext:<key>, kms:EncryptionContextKeys, kms:EncryptionAlgorithm and
kms:DataKeyPairSpec, through boto3 against a real server.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.server import QkmsServer
from tests.e2e.support import (
    ACCOUNT_A,
    Person,
    allow,
    error_of,
    make_people,
    policy,
)

pytestmark = pytest.mark.e2e

TENANT_A = {"tenant": "a"}


@pytest.fixture(scope="module")
def people(server: QkmsServer) -> dict[str, Person]:
    only_tenant_a = policy(
        allow(
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            Condition={"StringEquals": {"kms:EncryptionContext:tenant": "a"}},
        ),
        allow(
            "kms:GenerateDataKeyPair",
            Condition={"StringEquals": {"kms:DataKeyPairSpec": "ECC_NIST_P256"}},
        ),
        allow(
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            Condition={"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}},
        ),
    )
    return make_people(
        server, {"grantee": (ACCOUNT_A, None), "tenant_a": (ACCOUNT_A, only_tenant_a)}
    )


@pytest.fixture
def key_id(kms: Any) -> str:
    return str(kms.create_key()["KeyMetadata"]["KeyId"])


def test_a_grant_constraint_allows_and_denies_by_context(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grantee = people["grantee"]
    kms.create_grant(
        KeyId=key_id,
        GranteePrincipal=grantee.arn,
        Operations=["Encrypt", "Decrypt", "GenerateDataKey"],
        Constraints={"EncryptionContextEquals": {"Tenant": "a"}},
    )
    client = grantee.client
    blob = client.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext=TENANT_A)
    opened = client.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=TENANT_A)
    assert opened["Plaintext"] == b"p"
    wrongs: list[dict[str, str]] = [{}, {"tenant": "A"}, {"tenant": "a", "more": "x"}]
    for wrong in wrongs:

        def attempt(context: dict[str, str] = wrong) -> Any:
            return client.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext=context)

        assert error_of(attempt)[0] == "AccessDeniedException"
    [listed] = kms.list_grants(KeyId=key_id)["Grants"]
    assert listed["Constraints"] == {"EncryptionContextEquals": {"Tenant": "a"}}


def test_a_subset_constraint_allows_extra_pairs(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grantee = people["grantee"]
    kms.create_grant(
        KeyId=key_id,
        GranteePrincipal=grantee.arn,
        Operations=["GenerateDataKey"],
        Constraints={"EncryptionContextSubset": {"tenant": "a"}},
    )
    extra = {"tenant": "a", "object": "42"}
    key = grantee.client.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=extra)
    assert len(key["Plaintext"]) == 32
    assert (
        error_of(lambda: grantee.client.generate_data_key(KeyId=key_id, NumberOfBytes=8))[0]
        == "AccessDeniedException"
    )


def test_policy_conditions_on_the_encryption_context(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    client = people["tenant_a"].client
    blob = client.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext=TENANT_A)
    assert client.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=TENANT_A)
    assert (
        error_of(
            lambda: client.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext={"tenant": "b"})
        )[0]
        == "AccessDeniedException"
    )
    assert error_of(lambda: client.encrypt(KeyId=key_id, Plaintext=b"p"))[0] == (
        "AccessDeniedException"
    )


def test_policy_conditions_on_key_pair_spec_and_context_keys(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    client = people["tenant_a"].client
    assert client.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256")["PublicKey"]
    assert (
        error_of(lambda: client.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P384"))[
            0
        ]
        == "AccessDeniedException"
    )
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext=TENANT_A)["CiphertextBlob"]
    moved = client.re_encrypt(
        CiphertextBlob=blob,
        SourceEncryptionContext=TENANT_A,
        DestinationKeyId=key_id,
        DestinationEncryptionContext={"tenant": "b"},
    )
    assert moved["KeyId"].endswith(key_id)
    assert (
        error_of(
            lambda: client.re_encrypt(
                CiphertextBlob=blob,
                SourceEncryptionContext=TENANT_A,
                DestinationKeyId=key_id,
                DestinationEncryptionContext={"owner": "b"},
            )
        )[0]
        == "AccessDeniedException"
    )

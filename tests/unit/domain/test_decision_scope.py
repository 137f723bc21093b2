"""Which policy documents let a decision be remembered (domain/policy/decision_scope.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qkms.domain.policy import PolicyKind, decided_by_principal_and_key, parse_policy


def identity(condition: dict[str, Any] | None = None) -> Any:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    if condition is not None:
        statement["Condition"] = condition
    text = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return parse_policy(text, "verenc", kind=PolicyKind.IDENTITY)


def test_documents_without_conditions_decide_by_principal_and_key() -> None:
    assert decided_by_principal_and_key([identity(), identity()])
    assert decided_by_principal_and_key([])


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"kms:CallerAccount": "111122223333"}},
        {"StringEquals": {"aws:PrincipalArn": "arn:verenc:111122223333:user/una"}},
        {"StringEquals": {"kms:KeySpec": "ECC_NIST_P256", "kms:KeyOrigin": "AWS_KMS"}},
        {"StringEquals": {"aws:ResourceTag/Team": "lab"}},
        {"Bool": {"kms:MultiRegion": "false"}},
    ],
)
def test_caller_and_key_facts_decide_by_principal_and_key(condition: dict[str, Any]) -> None:
    assert decided_by_principal_and_key([identity(condition)])


@pytest.mark.parametrize(
    "condition",
    [
        {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
        {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"StringEquals": {"kms:EncryptionContext:tenant": "a"}},
        {"StringEquals": {"kms:KeyAgreementAlgorithm": "ECDH"}},
        {"StringEquals": {"kms:SomethingNew": "x"}},  # unknown keys are request-specific
    ],
)
def test_a_request_fact_makes_the_decision_request_specific(condition: dict[str, Any]) -> None:
    assert not decided_by_principal_and_key([identity(), identity(condition)])

"""IAM/KMS policy language: parse key and identity policies, evaluate them, decide access."""

from qkms.domain.errors import MalformedPolicyDocumentException
from qkms.domain.policy.access import (
    Access,
    AccessDecision,
    decide_account_action,
    decide_key_access,
)
from qkms.domain.policy.conditions import ContextValue
from qkms.domain.policy.decision_scope import (
    PRINCIPAL_AND_KEY_CONDITION_KEYS,
    decided_by_principal_and_key,
)
from qkms.domain.policy.document import MAX_POLICY_BYTES, default_key_policy, parse_policy
from qkms.domain.policy.evaluator import (
    Decision,
    KeyPolicyDecision,
    PrincipalMatcher,
    RequestFacts,
    evaluate,
    evaluate_key_policy,
)
from qkms.domain.policy.model import (
    Effect,
    PolicyDocument,
    PolicyKind,
    Principal,
    PrincipalId,
    Statement,
)
from qkms.domain.policy.principals import PrincipalMatch
from qkms.domain.policy.recipient_conditions import recipient_condition_values

__all__ = [
    "MAX_POLICY_BYTES",
    "PRINCIPAL_AND_KEY_CONDITION_KEYS",
    "Access",
    "AccessDecision",
    "ContextValue",
    "Decision",
    "Effect",
    "KeyPolicyDecision",
    "MalformedPolicyDocumentException",
    "PolicyDocument",
    "PolicyKind",
    "Principal",
    "PrincipalId",
    "PrincipalMatch",
    "PrincipalMatcher",
    "RequestFacts",
    "Statement",
    "decide_account_action",
    "decide_key_access",
    "decided_by_principal_and_key",
    "default_key_policy",
    "evaluate",
    "evaluate_key_policy",
    "parse_policy",
    "recipient_condition_values",
]

"""The planted bugs: each replaces one exact snippet of one source file, and names the tests that
should fail with it. Add one by appending a `Mutant` (docs/mutation-check.md says how).

Each is a bug a plausible change could introduce in security- or correctness-critical code:
a check weakened, a branch dropped, a wrong constant. `old` must occur exactly once in `path`;
a mutant whose `old` no longer matches (the code moved on) is reported as stale, not skipped
silently.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MUTANTS", "Mutant"]

# Test selections, unit tests first: with `pytest -x` the first failure ends the run, so a
# mutant the fast tests kill never waits for a server to start.
SIGV4 = ("tests/unit/wire/test_sigv4.py", "tests/e2e/test_sigv4.py")
POLICY = (
    "tests/unit/domain/policy",
    "tests/unit/operations/test_access.py",
    "tests/e2e/test_access_control.py",
    "tests/e2e/test_access_control_cross_account.py",
)
ACCESS = (
    "tests/unit/operations",
    "tests/e2e/test_grants.py",
    "tests/e2e/test_access_control.py",
    "tests/e2e/test_access_control_cross_account.py",
)
LIFECYCLE = (
    "tests/unit/domain/test_lifecycle.py",
    "tests/unit/operations",
    "tests/e2e/test_key_lifecycle.py",
    "tests/e2e/test_import_key_material.py",
)
ALIAS_FEED = (
    "tests/unit/operations/test_alias_propagation.py",
    "tests/storage/test_contract.py",
    "tests/e2e/test_aliases.py",
)


@dataclass(frozen=True, slots=True)
class Mutant:
    name: str
    path: str  # relative to the repository root
    old: str
    new: str
    tests: tuple[str, ...]  # pytest arguments: files, directories or node ids
    bug: str  # what the planted bug would let through, in one line


_SIGV4_PY = "src/qkms/wire/sigv4.py"
_POLICY = "src/qkms/domain/policy/"
_ACCESS_PY = "src/qkms/operations/support/access.py"
_LIFECYCLE_PY = "src/qkms/domain/lifecycle.py"

MUTANTS: tuple[Mutant, ...] = (
    # --- wire/sigv4.py ---------------------------------------------------------------------------
    Mutant(
        "sigv4-signature-prefix-only",
        _SIGV4_PY,
        "if not hmac.compare_digest(expected, auth.signature.lower()):",
        "if not hmac.compare_digest(expected[:32], auth.signature.lower()[:32]):",
        SIGV4,
        "a signature is accepted when only its first 32 hex characters are right",
    ),
    Mutant(
        "sigv4-security-token-case",
        _SIGV4_PY,
        'if headers.has("x-amz-security-token"):',
        'if headers.has("X-Amz-Security-Token"):',
        SIGV4,
        "a session token QKMS never issued is ignored instead of refused",
    ),
    Mutant(
        "sigv4-expiry-window-doubled",
        _SIGV4_PY,
        "if signed_at < now - self._max_skew:",
        "if signed_at < now - 2 * self._max_skew:",
        SIGV4,
        "a signature up to 10 minutes old still verifies (replay window doubled)",
    ),
    Mutant(
        "sigv4-scope-date-by-month",
        _SIGV4_PY,
        "if auth.scope_date != auth.amz_date[:8]:",
        "if auth.scope_date[:6] != auth.amz_date[:6]:",
        SIGV4,
        "a credential scope dated another day of the same month is accepted",
    ),
    Mutant(
        "sigv4-signing-key-cache-ignores-secret",
        _SIGV4_PY,
        "if cached is not None and cached[0] == secret:",
        "if cached is not None:",
        SIGV4,
        "after a secret is rotated the old secret's cached signing key keeps verifying",
    ),
    Mutant(
        "sigv4-duplicate-header-first-wins",
        _SIGV4_PY,
        "if self._repeated is not None and len(self._repeated.get(name, ())) > 1:",
        "if self._repeated is not None and len(self._repeated.get(name, ())) > 2:",
        SIGV4,
        "a request with two Authorization or X-Amz-Date headers is not refused",
    ),
    Mutant(
        "sigv4-query-not-sorted",
        _SIGV4_PY,
        'return "&".join(f"{name}={value}" for name, value in sorted(pairs))',
        'return "&".join(f"{name}={value}" for name, value in pairs)',
        SIGV4,
        "the canonical query keeps the request's order, so botocore's signatures mismatch",
    ),
    # --- domain/policy/ --------------------------------------------------------------------------
    Mutant(
        "policy-allow-beats-deny",
        _POLICY + "evaluator.py",
        "    if Effect.DENY in effects:\n        return Decision.EXPLICIT_DENY",
        "    if Effect.DENY in effects and Effect.ALLOW not in effects:\n"
        "        return Decision.EXPLICIT_DENY",
        POLICY,
        "an identity policy with both an Allow and a Deny for the request allows",
    ),
    Mutant(
        "policy-error-in-deny-is-ignored",
        _POLICY + "evaluator.py",
        "return PrincipalMatch.PRINCIPAL if statement.effect is Effect.DENY else PrincipalMatch.NONE",
        "return PrincipalMatch.NONE",
        POLICY,
        "a Deny statement whose evaluation fails is skipped instead of denying (fails open)",
    ),
    Mutant(
        "policy-not-action-ignored",
        _POLICY + "evaluator.py",
        "    return hit != statement.not_action",
        "    return hit",
        POLICY,
        "NotAction is read as Action",
    ),
    Mutant(
        "policy-not-resource-one-spelling",
        _POLICY + "evaluator.py",
        "for p in statement.resources for r in resources)",
        "for p in statement.resources for r in sorted(resources)[:1])",
        POLICY,
        "a resource pattern is matched against one ARN spelling only",
    ),
    Mutant(
        "policy-root-principal-is-the-user",
        _POLICY + "principals.py",
        "    if principal.names_account_root(principal_account):\n"
        "        return PrincipalMatch.ACCOUNT",
        "    if principal.names_account_root(principal_account):\n"
        "        return PrincipalMatch.PRINCIPAL",
        POLICY,
        "a key policy naming the account root lets every user in without an identity policy",
    ),
    Mutant(
        "policy-not-principal-either-listed",
        _POLICY + "principals.py",
        "excepted = direct is PrincipalMatch.PRINCIPAL and not_principal.names_account_root(",
        "excepted = direct is PrincipalMatch.PRINCIPAL or not_principal.names_account_root(",
        POLICY,
        "NotPrincipal listing only the account root exempts every user of the account",
    ),
    Mutant(
        "policy-delegation-without-identity-policy",
        _POLICY + "access.py",
        "if key_decision is KeyPolicyDecision.ALLOW_ACCOUNT and identity_allows:",
        "if key_decision is KeyPolicyDecision.ALLOW_ACCOUNT:",
        POLICY,
        "a key policy delegating to the account allows a user no identity policy allows",
    ),
    Mutant(
        "policy-cross-account-without-identity-policy",
        _POLICY + "access.py",
        "elif key_decision is not KeyPolicyDecision.IMPLICIT_DENY and identity_allows:",
        "elif key_decision is not KeyPolicyDecision.IMPLICIT_DENY:",
        POLICY,
        "another account's user needs no identity policy of its own account",
    ),
    Mutant(
        "policy-grant-beats-key-policy-deny",
        _POLICY + "access.py",
        "if key_decision is KeyPolicyDecision.EXPLICIT_DENY:",
        "if key_decision is KeyPolicyDecision.EXPLICIT_DENY and not grant_allows:",
        (*POLICY, "tests/e2e/test_grants.py"),
        "a grant overrides an explicit Deny in the key policy",
    ),
    Mutant(
        "policy-negated-condition-on-missing-key",
        _POLICY + "conditions.py",
        "            return False\n        return clause.negated",
        "            return False\n        return not clause.negated",
        POLICY,
        "StringNotEquals on a key absent from the request is false instead of true",
    ),
    Mutant(
        "policy-for-all-values-as-any",
        _POLICY + "conditions.py",
        "return all(value_holds(value) for value in actual)",
        "return any(value_holds(value) for value in actual)",
        POLICY,
        "ForAllValues holds when any one value matches",
    ),
    Mutant(
        "policy-string-equals-ignores-case",
        _POLICY + "conditions.py",
        "        return actual == expected\n    if isinstance(actual, bool)",
        "        return actual.casefold() == expected.casefold()\n    if isinstance(actual, bool)",
        POLICY,
        "StringEquals compares without case",
    ),
    Mutant(
        "policy-trailing-question-mark-matches-nothing",
        _POLICY + "wildcards.py",
        '    while p < len(pattern) and pattern[p] == "*":',
        '    while p < len(pattern) and pattern[p] in "*?":',
        POLICY,
        "a trailing '?' matches the empty string, e.g. 'kms:Get?' matches 'kms:Get'",
    ),
    # --- operations/support/access.py ------------------------------------------------------------
    Mutant(
        "access-grant-token-of-another-key",
        _ACCESS_PY,
        "        if claims.key_id == key.key_id and claims.key_account_id == key.account_id\n",
        "",
        ACCESS,
        "a grant token is honoured on a key other than the grant's",
    ),
    Mutant(
        "access-root-grantee-without-identity-policy",
        _ACCESS_PY,
        "        return decide_account_action(identity_policies(ctx), facts).is_allowed",
        "        return True",
        ACCESS,
        "a grant to the account root lets any user of the account in without an identity policy",
    ),
    Mutant(
        "access-unparsable-identity-policy-skipped",
        _ACCESS_PY,
        "            documents.append(_deny_everything(services.arns.partition))",
        "            continue",
        ACCESS,
        "a stored identity policy that no longer parses (maybe a Deny) is ignored: fails open",
    ),
    Mutant(
        "access-secure-transport-always-true",
        _ACCESS_PY,
        '"aws:securetransport": caller.secure_transport,',
        '"aws:securetransport": True,',
        ACCESS,
        "a policy requiring TLS (aws:SecureTransport) is satisfied over plain HTTP",
    ),
    Mutant(
        "access-cross-account-denial-reveals-the-key",
        _ACCESS_PY,
        "        raise KeyNotVisible(key_arn)",
        "        raise AccessDeniedException(f'not authorized on {key_arn}')",
        ACCESS,
        "a caller learns that another account's key exists (AccessDenied instead of NotFound)",
    ),
    # --- domain/lifecycle.py ---------------------------------------------------------------------
    Mutant(
        "lifecycle-derive-on-a-disabled-key",
        _LIFECYCLE_PY,
        "KeyOperation.DERIVE_SHARED_SECRET: _ENABLED,",
        "KeyOperation.DERIVE_SHARED_SECRET: _ENABLED_OR_DISABLED,",
        LIFECYCLE,
        "a disabled key still derives shared secrets",
    ),
    Mutant(
        "lifecycle-cancel-deletion-re-enables",
        _LIFECYCLE_PY,
        "never straight to Enabled.\n    return key.with_state(KeyState.DISABLED)",
        "never straight to Enabled.\n    return key.with_state(KeyState.ENABLED)",
        LIFECYCLE,
        "a key whose deletion is cancelled comes back Enabled",
    ),
    Mutant(
        "lifecycle-pending-window-in-hours",
        _LIFECYCLE_PY,
        "deletion_date=now + pending_window_days * _DAY)",
        "deletion_date=now + pending_window_days * 3600.0)",
        LIFECYCLE,
        "a key scheduled for deletion in 7 days is destroyed after 7 hours",
    ),
    Mutant(
        "lifecycle-disabled-is-invalid-state",
        _LIFECYCLE_PY,
        'raise DisabledException(f"{key_arn} is disabled.")',
        'raise KMSInvalidStateException(f"{key_arn} is disabled.")',
        LIFECYCLE,
        "a disabled key answers KMSInvalidStateException instead of DisabledException",
    ),
    Mutant(
        "lifecycle-reimport-other-material-when-pending-import",
        _LIFECYCLE_PY,
        "if key.public_key_der is not None and key.public_key_der != public_key_der:",
        "if key.state is not KeyState.PENDING_IMPORT and key.public_key_der != public_key_der:",
        LIFECYCLE,
        "after DeleteImportedKeyMaterial a key accepts different material",
    ),
    Mutant(
        "lifecycle-delete-material-leaves-pending-deletion",
        _LIFECYCLE_PY,
        "state = key.state if key.state is KeyState.PENDING_DELETION else KeyState.PENDING_IMPORT",
        "state = KeyState.PENDING_IMPORT",
        LIFECYCLE,
        "deleting a PendingDeletion key's material cancels its deletion (PendingImport)",
    ),
    # --- storage: the change feed (DESIGN §7) ----------------------------------------------------
    Mutant(
        "feed-alias-update-not-recorded",
        "src/qkms/storage/sql_aliases.py",
        "        return self._change_if_any(\n"
        '            "UPDATE aliases SET key_id = %s, last_updated_date = %s "\n'
        '            "WHERE account_id = %s AND alias_name = %s AND region = %s",\n'
        "            (key_id, now, account_id, alias_name, region),\n"
        '            ("alias", AliasRow(account_id, alias_name, key_id, 0.0, 0.0, region).cache_key),\n'
        "        )",
        "        return self._write(\n"
        "            lambda conn: conn.execute(\n"
        '                "UPDATE aliases SET key_id = %s, last_updated_date = %s "\n'
        '                "WHERE account_id = %s AND alias_name = %s AND region = %s",\n'
        "                (key_id, now, account_id, alias_name, region),\n"
        "            ).rowcount\n"
        "            > 0\n"
        "        )",
        ALIAS_FEED,
        "UpdateAlias records no change: other workers keep the old target",
    ),
    Mutant(
        "feed-alias-delete-not-recorded",
        "src/qkms/storage/sql_aliases.py",
        "        return self._change_if_any(\n"
        '            "DELETE FROM aliases WHERE account_id = %s AND alias_name = %s AND region = %s",\n'
        "            (account_id, alias_name, region),\n"
        '            ("alias", AliasRow(account_id, alias_name, "", 0.0, 0.0, region).cache_key),\n'
        "        )",
        "        return self._write(\n"
        "            lambda conn: conn.execute(\n"
        '                "DELETE FROM aliases WHERE account_id = %s AND alias_name = %s AND region = %s",\n'
        "                (account_id, alias_name, region),\n"
        "            ).rowcount\n"
        "            > 0\n"
        "        )",
        ALIAS_FEED,
        "DeleteAlias records no change: other workers keep resolving the deleted alias",
    ),
    Mutant(
        "memo-remembers-conditional-allow",
        _ACCESS_PY,
        "    if not decided_by_principal_and_key((policy, *identity)):",
        "    if False:",
        ("tests/unit/operations/test_remembered_allows.py", *ACCESS),
        "an allow that read aws:SourceIp or aws:CurrentTime is reused for other addresses and times",
    ),
    Mutant(
        "memo-outlives-identity-policy-change",
        _ACCESS_PY,
        "    return remembered is not None and remembered is identity_policies(ctx)",
        "    return remembered is not None",
        ("tests/unit/operations/test_remembered_allows.py", *ACCESS),
        "a remembered allow survives the removal of the identity policy that gave it",
    ),
)

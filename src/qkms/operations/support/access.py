"""The authorization hook every operation goes through (DESIGN §5): load the inputs, ask the policy.

Inputs come from per-process caches bounded by the change feed (DESIGN §7), so the common case
is one function call with no database round trip. The decision itself is the pure
`qkms.domain.policy.decide_*`; this module only gathers key policy, identity policies, grants
and the request's condition keys, and turns a denial into the right error.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping, Sequence

from qkms.crypto import GrantTokenClaims
from qkms.domain.errors import (
    AccessDeniedException,
    MalformedPolicyDocumentException,
    NotFoundException,
)
from qkms.domain.grant_constraints import GrantConstraints
from qkms.domain.keys import Key
from qkms.domain.policy import (
    PRINCIPAL_AND_KEY_CONDITION_KEYS,
    ContextValue,
    PolicyDocument,
    PolicyKind,
    RequestFacts,
    decide_account_action,
    decide_key_access,
    decided_by_principal_and_key,
    default_key_policy,
    parse_policy,
)
from qkms.operations.runtime.context import CachedKey, KeyGrants, OperationContext
from qkms.operations.support.grant_tokens import read_grant_token, token_grant

__all__ = [
    "KeyNotVisible",
    "authorize_account_action",
    "authorize_key_action",
    "caller_principal_arns",
    "identity_policies",
    "key_policy_document",
    "request_facts",
]


class KeyNotVisible(NotFoundException):
    """A key the caller may not see; `_keys` answers it exactly as a key that does not exist."""


def caller_principal_arns(ctx: OperationContext) -> frozenset[str]:
    caller = ctx.caller
    return ctx.services.arns.user_arn_spellings(caller.account_id, caller.user_name)


_DENY_EVERYTHING = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}'
)


def _deny_everything(partition: str) -> PolicyDocument:
    return parse_policy(_DENY_EVERYTHING, partition, kind=PolicyKind.IDENTITY)


# Most keys carry one of a few policy texts (CreateKey's default names only the account), so a
# key loaded into the cache reuses the parse of an identical text instead of parsing it again
# (~30 us each). Parsed documents are immutable; a text that does not parse is not remembered.
@functools.lru_cache(maxsize=1024)
def _parsed_policy(text: str, partition: str, kind: PolicyKind) -> PolicyDocument:
    return parse_policy(text, partition, kind=kind)


def identity_policies(ctx: OperationContext) -> tuple[PolicyDocument, ...]:
    """The caller's identity policies, parsed once per change (cached, DESIGN §7)."""
    caller = ctx.caller
    return ctx.services.identity_policies.get_or_load(
        f"{caller.account_id}:{caller.user_name}", lambda: _load_identity_policies(ctx)
    )


def _load_identity_policies(ctx: OperationContext) -> tuple[PolicyDocument, ...]:
    services = ctx.services
    caller = ctx.caller
    documents: list[PolicyDocument] = []
    for row in services.store.list_user_policies(caller.account_id, caller.user_name):
        try:
            documents.append(
                _parsed_policy(row.document, services.arns.partition, PolicyKind.IDENTITY)
            )
        except MalformedPolicyDocumentException:
            # Stored documents were validated on the way in; one that no longer parses (e.g.
            # after an upgrade) may have been a Deny: it denies everything (STYLE §5).
            documents.append(_deny_everything(services.arns.partition))
    return tuple(documents)


def key_policy_document(ctx: OperationContext, cached: CachedKey) -> PolicyDocument | None:
    """The key's policy, parsed once per cached key; None (deny everything) if unusable."""
    if cached.policy_document is None:
        key = cached.key
        partition = ctx.services.arns.partition
        text = (
            key.policy if key.policy is not None else default_key_policy(key.account_id, partition)
        )
        try:
            cached.policy_document = _parsed_policy(text, partition, PolicyKind.KEY)
        except MalformedPolicyDocumentException:
            return None
    return cached.policy_document


def _key_grants(ctx: OperationContext, key: Key) -> KeyGrants:
    services = ctx.services
    return services.grants.get_or_load(
        key.key_id, lambda: KeyGrants.of(services.store.list_grants(key.key_id))
    )


def _grant_allows(
    ctx: OperationContext,
    key: Key,
    facts: RequestFacts,
    tokens: Sequence[GrantTokenClaims],
    new_grant_operations: frozenset[str] | None,
    encryption_context: Mapping[str, str] | None = None,
    new_grant_constraints: GrantConstraints | None = None,
) -> bool:
    """Whether a grant lets the caller do `facts.action`; consulted only when policies do not.

    A grant is for its own key only: a token vouching for a grant on another key is passed
    over, whoever presents it.
    """
    operation = facts.action.removeprefix("kms:")
    principals = caller_principal_arns(ctx)
    roots = _account_root_spellings(ctx)
    indexes = [_key_grants(ctx, key)]
    # A grant token makes its grant usable at once, before the change feed has carried it
    # here: read that grant straight from the store. A valid token of a retired or revoked
    # grant grants nothing (AccessDenied, as AWS answers).
    tokened = [
        token_grant(ctx, claims)
        for claims in tokens
        if claims.key_id == key.key_id and claims.key_account_id == key.account_id
    ]
    indexes.append(KeyGrants.of(g for g in tokened if g is not None))

    def allowed_for(grantees: set[str] | frozenset[str]) -> bool:
        return any(
            index.allow(
                grantees,
                operation,
                new_grant_operations,
                encryption_context,
                new_grant_constraints,
            )
            for index in indexes
        )

    if allowed_for(principals):
        return True
    # A grant to an account root is a grant to that account: naming an account "delegates
    # authority to the account", whose identities get access only where their IAM policies
    # explicitly allow it (IAM User Guide, "AWS JSON policy elements: Principal", section
    # "AWS account principals"). So a user needs its identity policy too, evaluated on the
    # very facts of this request (CreateGrant's kms:GrantOperations included).
    if allowed_for(roots):
        return decide_account_action(identity_policies(ctx), facts).is_allowed
    return False


def _account_root_spellings(ctx: OperationContext) -> set[str]:
    partition, account = ctx.services.arns.partition, ctx.caller.account_id
    return {f"arn:{partition}:{account}:root", f"arn:{partition}:iam::{account}:root"}


def request_facts(
    ctx: OperationContext,
    action: str,
    key: Key | None,
    extra_context: Mapping[str, ContextValue] | None = None,
) -> RequestFacts:
    services, caller = ctx.services, ctx.caller
    principal_arns = caller_principal_arns(ctx)
    context: dict[str, ContextValue] = {
        "aws:principalarn": tuple(sorted(principal_arns)),
        "aws:principalaccount": caller.account_id,
        "aws:principaltype": "User",
        "aws:username": caller.user_name,
        "aws:sourceip": caller.source_ip,
        "aws:securetransport": caller.secure_transport,
        "aws:currenttime": datetime.datetime.fromtimestamp(services.clock(), datetime.UTC),
        "kms:calleraccount": caller.account_id,
    }
    resource, aliases = "*", frozenset[str]()
    if key is not None:
        region = key.region or services.arns.region  # a key stored before regions: the default
        key_arns = services.arns.key_arn_spellings(key.account_id, key.key_id, region)
        resource = services.arns.key_arn(key.account_id, key.key_id, region)
        aliases = key_arns - {resource}
        usage = key.key_usage.value
        context["kms:keyspec"] = key.key_spec.value
        # DESIGN §2: the two spellings of key agreement are one usage, in conditions too.
        context["kms:keyusage"] = (
            ("DERIVE_SHARED_SECRET", "KEY_AGREEMENT") if key.key_usage.is_key_agreement else usage
        )
        context["kms:keyorigin"] = key.origin.value
        # AWS "Condition keys": whether the key is multi-region and, if so, its role here.
        context["kms:multiregion"] = key.is_multi_region
        if key.is_multi_region:
            context["kms:multiregionkeytype"] = "REPLICA" if key.is_replica else "PRIMARY"
        for tag_key, tag_value in key.tags:
            context[f"aws:resourcetag/{tag_key.lower()}"] = tag_value
    if extra_context:
        context.update({name.lower(): value for name, value in extra_context.items()})
    return RequestFacts(
        action=action,
        resource=resource,
        resource_aliases=aliases,
        principal_arns=principal_arns,
        principal_account=caller.account_id,
        context=context,
    )


# Remembered allows per cached key; past this many (callers x actions) the memo starts over.
_MAX_REMEMBERED = 256

_Memo = Mapping[tuple[str, str, str], tuple[PolicyDocument, ...]]
# Most cached keys remember the same few allows (the callers that use them, one action each),
# so a memo is immutable and keys remembering the same share one: a pointer per key instead of
# a ~350-byte dict with its own key tuple (of each of 100,000 cached keys). Keyed by the memo's
# entries with the identity policies by id: each memo held here keeps its tuples alive, so an
# id seen here is never another tuple's. Past this many distinct memos the table starts over
# (memos already handed out stay correct; they are only shared less).
_SHARED_MEMOS: dict[frozenset[tuple[tuple[str, str, str], int]], _Memo] = {}
_MAX_SHARED_MEMOS = 4096


def _shared_memo(memo: dict[tuple[str, str, str], tuple[PolicyDocument, ...]]) -> _Memo:
    signature = frozenset((entry, id(identity)) for entry, identity in memo.items())
    shared = _SHARED_MEMOS.get(signature)
    if shared is None:
        if len(_SHARED_MEMOS) >= _MAX_SHARED_MEMOS:
            _SHARED_MEMOS.clear()
        shared = _SHARED_MEMOS.setdefault(signature, memo)
    return shared


def _remembered_allow(ctx: OperationContext, cached: CachedKey, action: str) -> bool:
    """Whether the policies allowed this caller this action on this version of the key before,
    under the identity policies it has now.

    The memo lives on the cached key, so a changed key (policy, tags, state) starts with none;
    an identity policy change loads a new tuple, which no remembered allow was reached under.
    Both follow the change feed's bound (DESIGN §7), like the caches they sit on.
    """
    caller = ctx.caller
    remembered = cached.remembered_allows.get((caller.account_id, caller.user_name, action))
    return remembered is not None and remembered is identity_policies(ctx)


def _remember_allow(
    ctx: OperationContext,
    cached: CachedKey,
    action: str,
    policy: PolicyDocument,
    identity: tuple[PolicyDocument, ...],
    extra_context: Mapping[str, ContextValue] | None,
) -> None:
    """Remember a policy allow when it read nothing particular to this request.

    Only allows reached by the policies alone: a denial may yet be lifted by a grant, and grants
    change on their own schedule. An operation's own condition keys must not shadow a principal
    or key fact, or the remembered answer would be for other facts.
    """
    if extra_context and any(
        name.lower() in PRINCIPAL_AND_KEY_CONDITION_KEYS
        or name.lower().startswith("aws:resourcetag/")
        for name in extra_context
    ):
        return
    if not decided_by_principal_and_key((policy, *identity)):
        return
    remembered = cached.remembered_allows
    memo = dict(remembered) if len(remembered) < _MAX_REMEMBERED else {}
    caller = ctx.caller
    memo[(caller.account_id, caller.user_name, action)] = identity
    cached.remembered_allows = _shared_memo(memo)


def authorize_key_action(
    ctx: OperationContext,
    cached: CachedKey,
    operation: str,
    grant_tokens: Sequence[str] = (),
    extra_context: Mapping[str, ContextValue] | None = None,
    new_grant_operations: frozenset[str] | None = None,
    consult_grants: bool = True,
    encryption_context: Mapping[str, str] | None = None,
    new_grant_constraints: GrantConstraints | None = None,
) -> None:
    """Raise unless the caller may do `operation` (e.g. "DeriveSharedSecret") on the key.

    `encryption_context`: the request's, for an operation that takes one (grant constraints
    apply then; None for operations without one). `new_grant_constraints`: CreateGrant's.

    `new_grant_operations`: for CreateGrant, the operations of the grant being created, which
    a grant's CreateGrant permission bounds. `consult_grants=False` asks the policies alone
    (RetireGrant: a grant's RetireGrant operation is for retiring that grant only).
    """
    key = cached.key
    action = f"kms:{operation}"
    tokens = [read_grant_token(ctx, token) for token in grant_tokens]  # authentic first
    policy = key_policy_document(ctx, cached)
    if policy is not None and _remembered_allow(ctx, cached, action):
        return
    facts = request_facts(ctx, action, key, extra_context)
    allowed = False
    if policy is not None:
        identity = identity_policies(ctx)
        decision = decide_key_access(policy, identity, facts, key.account_id)
        if decision.is_allowed:
            _remember_allow(ctx, cached, action, policy, identity, extra_context)
        # Grants are looked at only when the policies alone do not allow, so the common case
        # never pays for them; an explicit Deny still wins over a grant in `decide_key_access`.
        if (
            not decision.is_allowed
            and consult_grants
            and _grant_allows(
                ctx,
                key,
                facts,
                tokens,
                new_grant_operations,
                encryption_context,
                new_grant_constraints,
            )
        ):
            decision = decide_key_access(policy, identity, facts, key.account_id, grant_allows=True)
        allowed = decision.is_allowed
    if allowed:
        return
    key_arn = ctx.services.arns.key_arn(
        key.account_id, key.key_id, key.region or ctx.services.arns.region
    )
    if key.account_id != ctx.caller.account_id:
        # Another account's key: nothing about it, not even that it exists (DESIGN §5). The
        # caller's own reference is put in the message by `_keys`, as for a missing key.
        raise KeyNotVisible(key_arn)
    raise AccessDeniedException(
        f"User: {ctx.services.arns.user_arn(ctx.caller.account_id, ctx.caller.user_name)} "
        f"is not authorized to perform: {action} on resource: {key_arn}"
    )


def authorize_account_action(
    ctx: OperationContext,
    operation: str,
    extra_context: Mapping[str, ContextValue] | None = None,
) -> None:
    """Account-level actions (CreateKey, ListKeys, ...): an identity policy must allow."""
    action = f"kms:{operation}"
    facts = request_facts(ctx, action, None, extra_context)
    decision = decide_account_action(identity_policies(ctx), facts)
    if not decision.is_allowed:
        raise AccessDeniedException(
            f"User: {ctx.services.arns.user_arn(ctx.caller.account_id, ctx.caller.user_name)} "
            f"is not authorized to perform: {action}"
        )

"""The one table of error code -> HTTP status, and the one body shape, pinned by a golden file.

Every `KmsError` subclass is rendered by `qkms.wire.errors.render_error`; the result must equal
`error_statuses.json`. AWS KMS answers 400 for client errors, 500 for KMSInternalException and
503 for DependencyTimeoutException (AWS KMS API reference, "Common Errors" and each operation's
Errors section); 408, 413 and the connection-limit 503 are the edge's own (DESIGN §1).
To record again after a deliberate change: QKMS_RECORD_GOLDEN=1, then review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from qkms.domain import errors
from qkms.domain.errors import KmsError
from qkms.wire.errors import render_error

GOLDEN = Path(__file__).parent / "error_statuses.json"
RECORD = os.environ.get("QKMS_RECORD_GOLDEN") == "1"


def every_error_class() -> list[type[KmsError]]:
    """The wire codes: the classes the errors module lists (internal subclasses elsewhere, such
    as the operations' KeyNotVisible, are caught before the wire and never rendered)."""
    classes = (getattr(errors, name) for name in sorted(errors.__all__))
    return [
        c for c in classes if isinstance(c, type) and issubclass(c, KmsError) and c is not KmsError
    ]


def rendered() -> dict[str, int]:
    table: dict[str, int] = {}
    for cls in every_error_class():
        status, body = render_error(cls("a message"))
        assert json.loads(body) == {"__type": cls.__name__, "message": "a message"}
        table[cls.__name__] = status
    return table


def test_every_code_is_its_class_name() -> None:
    assert all(cls("m").code == cls.__name__ for cls in every_error_class())


def test_each_code_renders_with_the_status_of_the_golden_table() -> None:
    actual = rendered()
    if RECORD:
        GOLDEN.write_text(
            json.dumps(
                {
                    "recorded": {
                        "on": datetime.now(UTC).date().isoformat(),
                        "against": "qkms.wire.errors.render_error over every KmsError subclass",
                    },
                    "statuses": actual,
                },
                indent=2,
            )
            + "\n"
        )
    golden = json.loads(GOLDEN.read_text())
    assert golden["recorded"]["on"] and golden["recorded"]["against"]
    assert actual == golden["statuses"]


def test_the_statuses_aws_documents_are_the_table_s() -> None:
    statuses = json.loads(GOLDEN.read_text())["statuses"]
    # AWS KMS API reference: KMSInternalException 500, DependencyTimeoutException 503,
    # and the client errors every operation lists, 400.
    assert statuses["KMSInternalException"] == 500
    assert statuses["DependencyTimeoutException"] == 503
    for code in ("NotFoundException", "ValidationException", "AccessDeniedException"):
        assert statuses[code] == 400
    assert statuses["RequestEntityTooLargeException"] == 413

"""Request and event ids (the ids an audit event records): random version-4 UUIDs, as AWS's
are, made cheaply.

One of each is made per request. They name a request or an event and guard nothing (no id is
ever accepted back as proof of anything), so the process's seeded PRNG serves instead of a
system call per id: a third of `str(uuid.uuid4())`'s CPU. `random` reseeds itself in every
forked worker, so two workers never share a sequence.
"""

from __future__ import annotations

import random

__all__ = ["random_uuid"]

# RFC 9562 §5.4: version 4 in bits 48-51 and variant 0b10 in bits 64-65, counted from the left.
_CLEAR = ~((0xF << 76) | (0x3 << 62))
_SET = (0x4 << 76) | (0x2 << 62)


def random_uuid() -> str:
    digits = "%032x" % (random.getrandbits(128) & _CLEAR | _SET)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

#!/usr/bin/env bash
# Plant each bug listed in tests/mutation/mutants.py, one at a time, in a temporary copy of the
# tree, run the tests that should catch it, and report killed/survived (docs/mutation-check.md).
# Slow (minutes), so not part of scripts/test.sh. Arguments go to the checker, e.g.
#   scripts/mutation-check.sh -k sigv4 --unit-only --timeout 120
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -x .venv/bin/python ]; then
  source scripts/_venv.sh
  ensure_venv "test"
fi
exec .venv/bin/python -m tests.mutation.check "$@"

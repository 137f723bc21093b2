#!/usr/bin/env bash
# Install QKMS into .venv (first run only) and start `qkms serve` on the embedded SQLite store.
# Extra arguments go to `qkms serve`, e.g. scripts/serve.sh --port 4580 --workers 2.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv ""
exec .venv/bin/qkms serve "$@"

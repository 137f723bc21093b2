#!/usr/bin/env bash
# Install QKMS with its test dependencies into .venv (first run only), then run every check:
# lint, types, the import-layer rule, and the whole pytest suite (unit, vectors, storage, e2e).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv "test"
# Compiled bytecode goes under .venv, never into the checkout: the suite starts about 250
# Python processes (servers, their workers, CLI calls), and without a bytecode cache each one
# compiled QKMS's sources again (0.3 s of CPU a process).
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="$PWD/.venv/pycache"
echo ">> ruff" >&2
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
echo ">> mypy --strict" >&2
.venv/bin/mypy src tests benchmarks
# Debian packages the tests drive for real: Chromium (console tests) and wrk (benchmark smoke run).
missing=""
command -v chromium >/dev/null || missing="$missing chromium"
command -v wrk >/dev/null || missing="$missing wrk"
if [ -n "$missing" ]; then
  echo ">> installing Debian packages:$missing" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
fi
# The AWS SDK for JavaScript v3 test (tests/js): its npm packages, exactly as locked, reinstalled
# only when the lock file changes. Without Node.js that test skips (and fails under CI=true).
if command -v npm >/dev/null; then
  js_stamp="tests/js/node_modules/.installed-$(sha256sum tests/js/package-lock.json | cut -c1-16)"
  if [ ! -f "$js_stamp" ]; then
    echo ">> npm ci (tests/js)" >&2
    npm ci --prefix tests/js --no-audit --no-fund --loglevel=error >&2
    touch "$js_stamp"
  fi
fi
# The AWS CLI v1 for Encapsulate/Decapsulate: awscli 1.46+ bundles its own botocore, whose KMS
# model lacks them; 1.45.64 is the last release that runs on the separately installed botocore
# (the one boto3 uses, which has them). Unpacked beside .venv, used by tests/e2e/test_cli_kem.py.
cli_v1=".venv/awscli-1.45.64"
if [ ! -d "$cli_v1/awscli" ]; then
  echo ">> unpacking awscli 1.45.64 (AWS CLI v1 on the installed botocore)" >&2
  tmp_wheel="$(mktemp -d)"
  .venv/bin/python -m pip download -q --no-deps awscli==1.45.64 -d "$tmp_wheel" >&2
  rm -rf "$cli_v1.partial"
  .venv/bin/python -m zipfile -e "$tmp_wheel"/awscli-1.45.64-*.whl "$cli_v1.partial"
  mv "$cli_v1.partial" "$cli_v1"
  rm -rf "$tmp_wheel"
fi
echo ">> pytest" >&2
# Two workers, and an idle one takes queued tests from the other (worksteal): xdist's default
# hands each worker a contiguous first chunk, so one worker got almost every slow end-to-end test
# and ran them alone for most of the run while the other sat idle.
exec .venv/bin/pytest -n 2 --dist worksteal -p no:cacheprovider "$@"

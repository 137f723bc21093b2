# Sourced by serve.sh and test.sh: make sure .venv exists and holds qkms with the given extras.
# Installs Debian's python3/python3-venv first when the machine lacks a usable Python 3.11+.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python_ok() {
  command -v "$1" >/dev/null 2>&1 &&
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if python_ok "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

ensure_venv() {
  local extras="$1" python stamp
  if [ ! -x .venv/bin/python ]; then
    if ! python="$(pick_python)"; then
      echo ">> installing Python 3 and venv from Debian packages" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >&2
      python="$(pick_python)"
    fi
    echo ">> creating .venv with $python" >&2
    "$python" -m venv .venv
  fi
  # Reinstall only when pyproject.toml (the dependency list) changes.
  stamp=".venv/.installed-${extras:-base}-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo ">> installing qkms${extras:+[$extras]} into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip >&2
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}" >&2
    touch "$stamp"
  fi
}

#!/usr/bin/env bash
# Sets up optgym on Debian 12: system packages (LLVM 19, csmith, ...), a virtual environment in
# .venv with the Python packages, and the native helper. Safe to run again: it only does what is
# missing, so a second run takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev ca-certificates
  clang-19 llvm-19 llvm-19-dev llvm-19-tools
  csmith libcsmith-dev
  chromium  # the leaderboard's browser test
)
[ -n "${OPTGYM_EXTRA_APT:-}" ] && APT_PACKAGES+=(${OPTGYM_EXTRA_APT})

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { echo "setup: optgym needs Python 3.11 or newer" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/python -c 'import torch' 2>/dev/null || "${PIP[@]}" install "torch==2.13.0"

stamp=.venv/.optgym-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "${PIP[@]}" install -e '.[dev]'
  echo "$want" > "$stamp"
fi

# Build the native helper now rather than inside the first test or environment.
.venv/bin/python -c 'from optgym.llvm import native; native.build()'
echo "setup: ready (.venv/bin/optgym --help)"

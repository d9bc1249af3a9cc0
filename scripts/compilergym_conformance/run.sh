#!/usr/bin/env bash
# Run CompilerGym's tests (laid out in DIR) on optgym.compat, or one of its examples
# (run.sh DIR --example examples/x.py [flags]); see README.md beside this file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="$(cd "${1:?usage: run.sh DIR [pytest args]}" && pwd)"
shift
python="${PYTHON:-$repo/.venv/bin/python}"
case "$python" in /*) ;; */*) python="$PWD/$python" ;; esac  # relative to the caller: we cd below
[ -x "$python" ] || python="$(command -v python3)"
mkdir -p "$dir/tests/pytest_plugins"
cp "$here/support/conftest.py" "$dir/conftest.py"
cp "$here/support/tests/__init__.py" "$here/support/tests/test_main.py" "$dir/tests/"
cp "$here/support/tests/pytest_plugins/"*.py "$dir/tests/pytest_plugins/"
touch "$dir/tests/llvm/__init__.py" "$dir/tests/wrappers/__init__.py" 2>/dev/null || true
if [ ! -d "$dir/.deps" ]; then
  "$python" -m pip install -q --no-deps --target "$dir/.deps" pytest-mock flaky "pydantic<2" humanize
fi
cp "$here/support/run_example.py" "$dir/run_example.py"
cd "$dir"
export PYTHONPATH="$dir:$repo:$dir/.deps${PYTHONPATH:+:$PYTHONPATH}"
if [ "${1:-}" = "--example" ]; then  # run.sh DIR --example examples/x.py [flags]
  shift
  exec "$python" run_example.py "$@"
fi
exec "$python" -m pytest -p no:cacheprovider -o addopts="" "$@"

#!/usr/bin/env bash
# Runs every check CI runs: lint, types, then the whole test suite (slow tests
# included). Extra arguments go to pytest, e.g. `bash scripts/test.sh -k init`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/pytest ]; then
  echo "error: .venv is missing; run: bash scripts/setup.sh" >&2
  exit 2
fi
echo "== ruff";  .venv/bin/ruff check .
echo "== mypy (strict)"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/pytest "$@"

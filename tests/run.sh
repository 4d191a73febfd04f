#!/usr/bin/env bash
# Install everything the tests need, then run lint, type checks and the test suite.
# Usage: sudo bash tests/run.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup/system.sh
bash tests/setup/python.sh

.venv/bin/ruff check app tests benchmarks
.venv/bin/ruff format --check app tests benchmarks
.venv/bin/mypy

.venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Create .venv with shibaws and its test dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

"""Tests that starting the CLI loads no heavy library before a command runs."""

from __future__ import annotations

import subprocess
import sys

# Libraries that only some commands need: boto3 and botocore (backup, STS), selenium
# (the browser login) and rich.
HEAVY_MODULES = ["boto3", "botocore", "selenium", "rich"]
PRINT_PACKAGES = "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"


def packages_loaded_by(statement: str) -> set[str]:
    """Return the top-level packages in sys.modules after a fresh Python runs STATEMENT."""
    code = f"import sys\n{statement}\n{PRINT_PACKAGES}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(result.stdout.split())


def test_main_import_skips_heavy_modules() -> None:
    loaded = packages_loaded_by("import shibaws.__main__")
    assert "shibaws" in loaded
    for heavy in HEAVY_MODULES:
        assert heavy not in loaded, f"importing shibaws.__main__ loaded {heavy}"


def test_build_parser_skips_heavy_modules() -> None:
    loaded = packages_loaded_by("from shibaws.cli import build_parser; build_parser()")
    assert "argparse" in loaded
    for heavy in HEAVY_MODULES:
        assert heavy not in loaded, f"build_parser() loaded {heavy}"

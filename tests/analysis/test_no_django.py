"""The analysis library never imports Django (it must run in a plain Python process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "csas" / "analysis"
MODULES = sorted(
    "csas.analysis." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
    for p in PACKAGE.rglob("*.py")
    if p.name != "__init__.py"
) or ["csas.analysis"]


@pytest.mark.parametrize("module", MODULES)
def test_analysis_module_imports_without_django(module: str) -> None:
    code = f"import sys, {module}; assert 'django' not in sys.modules, 'django was imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr

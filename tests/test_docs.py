"""The README and .env.example stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _variables_read_by(path: Path) -> set[str]:
    return set(re.findall(r"\b(CSAS_[A-Z_]+|DATABASE_URL)\b", path.read_text()))


def test_every_environment_variable_is_in_env_example_and_readme() -> None:
    used: set[str] = set()
    for path in [
        ROOT / "src/csas/config/settings.py",
        *sorted((ROOT / "src/csas").glob("*/management/commands/*.py")),
    ]:
        used |= _variables_read_by(path)
    example = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    readme = _variables_read_by(ROOT / "README.md")
    assert used - example == set()
    assert used - readme == set()
    assert example - used == set()


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make demo") < readme.index("make test") < readme.index("## Configuration")

"""Fixtures: one small synthetic year run through the real library, once per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from csas.accounts.models import User
from csas.safetylab.models import SafetyAnalysis
from csas.safetylab.services import safety_analysis_load
from csas.strategy.models import Strategy

# Small enough for seconds, big enough that council districts' months are published while
# some police districts' months and most weekday x hour cells are withheld.
CALLS = 3_000


@pytest.fixture(scope="session")
def analyze_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of `analyze` on 3,000 synthetic calls (read-only: copy to change)."""
    from csas.analysis.safety.ingest import ingest
    from csas.analysis.safety.pipeline import analyze
    from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls

    work = tmp_path_factory.mktemp("safety")
    generate_calls(CALLS, seed=3, year=2024, out_path=work / "calls.parquet", fmt="parquet")
    ingest(work / "calls.parquet", profile=SYNTHETIC_PROFILE, output=work / "calls-n.parquet")
    analyze(work / "calls-n.parquet", out_dir=work / "out", n_boot=20, permutations=99)
    return work / "out"


@pytest.fixture
def folder_copy(analyze_folder: Path, tmp_path: Path) -> Path:
    """A copy of the analyze folder that a test may damage."""
    target = tmp_path / "out"
    shutil.copytree(analyze_folder, target)
    return target


@pytest.fixture
def staff(user_for: Callable[[str], User | None]) -> Client:
    """A client signed in as the strategy office (who loads, publishes and uses the tools)."""
    client = Client()
    user = user_for("strategy_staff")
    assert user is not None
    client.force_login(user)
    return client


@pytest.fixture
def strategy(db: Any) -> Strategy:
    return Strategy.objects.get()


@pytest.fixture
def published(strategy: Strategy, analyze_folder: Path) -> SafetyAnalysis:
    return safety_analysis_load(
        strategy=strategy, out_dir=analyze_folder, title="Test analysis", publish=True
    )


@pytest.fixture
def draft(strategy: Strategy, analyze_folder: Path) -> SafetyAnalysis:
    return safety_analysis_load(
        strategy=strategy, out_dir=analyze_folder, title="Draft analysis", publish=False
    )

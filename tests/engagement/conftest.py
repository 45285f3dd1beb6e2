from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from csas.engagement.models import Survey
from csas.engagement.services import survey_load_file, survey_set_status
from csas.strategy.models import Strategy

SMALL_SURVEY = Path(__file__).parent / "fixtures_small_survey.yaml"


@pytest.fixture(autouse=True)
def _empty_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def strategy(db: Any) -> Strategy:
    return Strategy.objects.get(slug="tacoma-csas")


@pytest.fixture
def small_survey(strategy: Strategy) -> Survey:
    survey = survey_load_file(path=SMALL_SURVEY, strategy=strategy)
    return survey_set_status(survey=survey, status="open")

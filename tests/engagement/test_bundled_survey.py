from __future__ import annotations

from typing import Any

from csas.engagement.models import Survey
from csas.engagement.selectors import survey_missing_translations
from csas.engagement.services import survey_load_file
from csas.engagement.survey_file import bundled_survey_path, read_survey_file
from csas.strategy.models import Strategy
from tests.engagement.conftest import SMALL_SURVEY


def test_the_community_safety_survey_template_loads_in_seven_languages(strategy: Strategy) -> None:
    survey = survey_load_file(path=bundled_survey_path(), strategy=strategy)
    assert survey.languages == ["en", "es", "vi", "km", "ko", "ru", "uk"]
    assert survey_missing_translations(survey) == {
        code: [] for code in ["es", "vi", "km", "ko", "ru", "uk"]
    }
    demographics = set(
        survey.questions.exclude(demographic="").values_list("demographic", flat=True)
    )
    assert demographics == {
        "race_ethnicity",
        "age",
        "gender",
        "income",
        "housing",
        "language",
        "disability",
        "neighbourhood",
        "council_district",
    }
    kinds = set(survey.questions.values_list("kind", flat=True))
    assert {"likert", "ranking", "top_n", "open_text", "map_pin", "neighbourhood"} <= kinds
    for question in survey.questions.exclude(demographic=""):
        assert question.options.filter(prefer_not_to_say=True).exists(), question.key


def test_the_template_asks_how_safe_people_feel_in_five_places(db: Any) -> None:
    data = read_survey_file(bundled_survey_path()).data
    keys = {q["key"] for s in data["sections"] for q in s["questions"]}
    assert {
        "safety_neighbourhood_day",
        "safety_neighbourhood_dark",
        "safety_downtown",
        "safety_transit",
        "safety_parks",
    } <= keys


def test_missing_translations_are_listed_per_language(small_survey: Survey) -> None:
    missing = survey_missing_translations(small_survey)
    assert set(missing) == {"es"}
    assert "questions.feel_day.text" not in missing["es"]
    assert "questions.experienced.text" in missing["es"]
    assert "title" not in missing["es"]
    assert SMALL_SURVEY.exists()

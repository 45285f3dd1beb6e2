from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from csas.engagement.models import Response, Survey
from csas.engagement.services import survey_load_file
from csas.engagement.survey_file import SurveyFileError, read_survey_file
from csas.strategy.models import Strategy
from tests.engagement.conftest import SMALL_SURVEY


def _variant(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(SMALL_SURVEY.read_text())
    change(data)
    path = tmp_path / "survey.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def test_small_survey_loads_sections_questions_and_options(small_survey: Survey) -> None:
    assert [s.key for s in small_survey.sections.all()] == ["feelings", "priorities", "about"]
    assert small_survey.questions.count() == 10
    feel = small_survey.questions.get(key="feel_day")
    assert [o.value for o in feel.options.all()] == ["safe", "unsafe", "prefer_not"]
    assert feel.options.get(value="prefer_not").prefer_not_to_say


def test_options_can_come_from_the_published_strategy(small_survey: Survey) -> None:
    goals = small_survey.questions.get(key="goal_rank").options.all()
    assert [o.strategy_ref for o in goals] == ["goal:1", "goal:2", "goal:3", "goal:4"]
    assert goals[0].label == "Safe PLACES and Neighborhoods"
    actions = small_survey.questions.get(key="top_actions").options.all()
    assert len(actions) == 8
    assert actions[0].strategy_ref == "action:1.1"


def test_neighbourhood_options_are_the_citys_districts_plus_outside_and_prefer_not(
    small_survey: Survey,
) -> None:
    options = list(small_survey.questions.get(key="home").options.all())
    assert len(options) == 10
    assert sum(1 for o in options if o.geography is not None) == 8
    assert options[-2].value == "outside_city"
    assert options[-1].prefer_not_to_say


def test_translations_are_attached_to_each_item(small_survey: Survey) -> None:
    assert small_survey.translations["es"]["title"] == "Pequeña encuesta de prueba"
    feel = small_survey.questions.get(key="feel_day")
    assert feel.translations["es"]["text"] == "¿Qué tan seguro se siente de día?"
    assert feel.options.get(value="safe").translations["es"]["label"] == "Seguro"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["sections"][0]["questions"][2]["show_if"].update(question="score"),
            "'score' is not an earlier question",
        ),
        (
            lambda d: d["sections"][0]["questions"][2]["show_if"].update(any_of=["fire"]),
            "['fire'] are not options of 'experienced'",
        ),
        (
            lambda d: d["sections"][2]["questions"][0]["options"].pop(),
            "a demographic question needs an option with prefer_not_to_say: true",
        ),
        (
            lambda d: d["sections"][0]["questions"][0].update(
                options=[{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
            ),
            "needs exactly one of options, scale or options_from",
        ),
        (
            lambda d: d["translations"]["es"].update({"questions.nope.text": "x"}),
            "translations.es: unknown keys ['questions.nope.text']",
        ),
        (
            lambda d: d["sections"][1]["questions"][2].pop("max"),
            "a rating question needs min and max",
        ),
        (
            lambda d: d["sections"][1]["questions"][0].update(kind="slider"),
            "'slider' is not one of",
        ),
        (
            lambda d: d["sections"][1]["questions"].append(
                {"key": "feel_day", "kind": "open_text", "text": "Again"}
            ),
            "question key 'feel_day' is used twice",
        ),
    ],
)
def test_survey_file_problems_name_the_place(tmp_path: Path, change: Any, expected: str) -> None:
    with pytest.raises(SurveyFileError) as error:
        read_survey_file(_variant(tmp_path, change))
    assert expected in str(error.value)
    assert str(error.value).startswith("survey.yaml: ")


def test_a_survey_with_responses_is_never_restructured(
    small_survey: Survey, strategy: Strategy
) -> None:
    Response.objects.create(survey=small_survey, language="en")
    with pytest.raises(SurveyFileError, match="already has 1 responses"):
        survey_load_file(path=SMALL_SURVEY, strategy=strategy)
    assert Survey.objects.get(pk=small_survey.pk).questions.count() == 10


def test_reloading_a_survey_without_responses_replaces_it(
    small_survey: Survey, strategy: Strategy
) -> None:
    again = survey_load_file(path=SMALL_SURVEY, strategy=strategy)
    assert Survey.objects.filter(slug="small-survey").count() == 1
    assert again.status == "draft"

"""Read and check a survey file (YAML or JSON) before anything is written.

The format is documented in docs/survey-file.md; the schema is
src/csas/data/surveys/survey.schema.json. Every problem is reported at once, naming the file,
the field path and what was expected (the same `StrategyFileError` shape as strategy files).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from csas.strategy.loader import Problem, StrategyFileError, parse_data_file, schema_problems

OPTION_KINDS = {"single_choice", "multiple_choice", "likert", "ranking", "top_n"}
CONDITION_KINDS = {"single_choice", "multiple_choice", "likert"}
GEOGRAPHY_KINDS = {"neighbourhood", "council_district"}


class SurveyFileError(StrategyFileError):
    """The survey file cannot be loaded; `problems` lists every reason found."""


@dataclass(frozen=True)
class SurveyDocument:
    path: Path
    data: dict[str, Any]

    def translation_keys(self) -> list[str]:
        """Every key a complete translation of this survey must give."""
        return expected_translation_keys(self.data)


def schema() -> dict[str, Any]:
    text = resources.files("csas.data").joinpath("surveys/survey.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def bundled_survey_path(name: str = "community-safety-survey") -> Path:
    return Path(str(resources.files("csas.data").joinpath(f"surveys/{name}.yaml")))


def expected_translation_keys(data: dict[str, Any]) -> list[str]:
    keys = [key for key in ("title", "intro", "thanks", "privacy_note") if data.get(key)]
    for name, options in data.get("scales", {}).items():
        keys += [f"scales.{name}.{option['value']}" for option in options]
    for section in data["sections"]:
        keys.append(f"sections.{section['key']}.title")
        if section.get("intro"):
            keys.append(f"sections.{section['key']}.intro")
        for question in section["questions"]:
            base = f"questions.{question['key']}"
            keys.append(f"{base}.text")
            for field in ("help", "min_label", "max_label"):
                if question.get(field):
                    keys.append(f"{base}.{field}")
            keys += [f"{base}.options.{option['value']}" for option in question.get("options", [])]
    return keys


def _option_values(question: dict[str, Any], scales: dict[str, Any]) -> list[str] | None:
    if "options" in question:
        return [option["value"] for option in question["options"]]
    if "scale" in question and question["scale"] in scales:
        return [option["value"] for option in scales[question["scale"]]]
    return None


def _check(data: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    scales = data.get("scales", {})
    for name, options in scales.items():
        for value, count in Counter(option["value"] for option in options).items():
            if count > 1:
                problems.append(Problem(f"scales.{name}", f"option value {value!r} repeats"))
    section_keys = Counter(section["key"] for section in data["sections"])
    problems += [
        Problem("sections", f"section key {key!r} is used {n} times")
        for key, n in section_keys.items()
        if n > 1
    ]
    seen: dict[str, dict[str, Any]] = {}
    for s_index, section in enumerate(data["sections"]):
        for q_index, question in enumerate(section["questions"]):
            where = f"sections[{s_index}].questions[{q_index}] ({question['key']})"
            kind = question["kind"]
            if question["key"] in seen:
                problems.append(Problem(where, f"question key {question['key']!r} is used twice"))
            sources = [key for key in ("options", "scale", "options_from") if key in question]
            if kind in OPTION_KINDS and len(sources) != 1:
                problems.append(
                    Problem(
                        where,
                        f"a {kind} question needs exactly one of options, "
                        f"scale or options_from; found {sources or 'none'}",
                    )
                )
            if kind not in OPTION_KINDS and sources:
                problems.append(Problem(where, f"a {kind} question takes no {sources[0]}"))
            if "scale" in question and question["scale"] not in scales:
                problems.append(
                    Problem(f"{where}.scale", f"{question['scale']!r} is not a scale in scales")
                )
            if "options" in question:
                for value, n in Counter(o["value"] for o in question["options"]).items():
                    if n > 1:
                        problems.append(Problem(f"{where}.options", f"value {value!r} repeats"))
            if kind == "rating":
                if "min" not in question or "max" not in question:
                    problems.append(Problem(where, "a rating question needs min and max"))
                elif question["min"] >= question["max"]:
                    problems.append(Problem(where, "min must be below max"))
            if question.get("demographic") and question.get("required"):
                problems.append(Problem(where, "demographic questions cannot be required"))
            values = _option_values(question, scales)
            if question.get("demographic") and kind in OPTION_KINDS and values is not None:
                options = question.get("options") or scales.get(question.get("scale", ""), [])
                if not any(option.get("prefer_not_to_say") for option in options):
                    problems.append(
                        Problem(
                            where,
                            "a demographic question needs an option with prefer_not_to_say: true",
                        )
                    )
            condition = question.get("show_if")
            if condition:
                target = seen.get(condition["question"])
                if target is None:
                    problems.append(
                        Problem(
                            f"{where}.show_if",
                            f"{condition['question']!r} is not an earlier question",
                        )
                    )
                elif target["kind"] not in CONDITION_KINDS:
                    problems.append(
                        Problem(
                            f"{where}.show_if",
                            "conditions can only depend on "
                            "single choice, multiple choice or likert questions",
                        )
                    )
                else:
                    allowed = _option_values(target, scales) or []
                    unknown = [v for v in condition["any_of"] if v not in allowed]
                    if unknown:
                        problems.append(
                            Problem(
                                f"{where}.show_if.any_of",
                                f"{unknown} are not options of {condition['question']!r}",
                            )
                        )
            seen[question["key"]] = question
    expected = set(expected_translation_keys(data))
    for language, texts in data.get("translations", {}).items():
        unknown = sorted(set(texts) - expected)
        if unknown:
            problems.append(
                Problem(
                    f"translations.{language}",
                    f"unknown keys {unknown[:5]}{' ...' if len(unknown) > 5 else ''}",
                )
            )
    return problems


def read_survey_file(path: Path) -> SurveyDocument:
    """Parse and check a survey file; raise `SurveyFileError` listing every problem."""
    path = Path(path)
    try:
        data = parse_data_file(path)
    except StrategyFileError as exc:
        raise SurveyFileError(path, exc.problems) from None
    problems = schema_problems(data, schema())
    if not problems:
        problems = _check(data)
    if problems:
        raise SurveyFileError(path, problems)
    return SurveyDocument(path=path, data=data)

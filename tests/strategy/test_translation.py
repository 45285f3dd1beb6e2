"""The strategy office translates a version's content in the back office; residents read the
translation while it is current, and the English (marked) once the English has changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from csas.strategy.models import Action, Goal, StrategyVersion
from csas.strategy.services import strategy_load_file
from csas.strategy.translation import translation_counts, translations_save

TACOMA = (
    Path(__file__).resolve().parents[2] / "src" / "csas" / "data" / "strategies" / "tacoma.yaml"
)


@pytest.fixture
def office(user_for: Any) -> Client:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    return client


def _goal(version: StrategyVersion, number: int = 1) -> Goal:
    return Goal.objects.get(version=version, number=number)


def test_staff_translate_a_goal_and_residents_read_it(
    office: Client, published_version: StrategyVersion, user_for: Any
) -> None:
    goal = _goal(published_version)
    url = f"/manage/versions/{published_version.pk}/translations/es/"
    page = office.get(url).content.decode()
    assert goal.title in page
    response = office.post(url, {f"goal-{goal.pk}-title": "Lugares y vecindarios seguros"})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.translations["es"]["title"] == "Lugares y vecindarios seguros"
    assert goal.translations["es"]["_from"]["title"] == goal.title
    assert goal.history.first().history_user == user_for("strategy_staff")
    public = Client().get("/es/goals/1/").content.decode()
    assert "Lugares y vecindarios seguros" in public
    counts = {c.language: c for c in translation_counts(published_version)}
    assert (counts["es"].translated, counts["es"].stale) == (1, 0)
    assert counts["vi"].translated == 0
    assert counts["es"].missing == counts["es"].texts - 1


def test_a_translation_of_english_that_changed_is_hidden_until_checked(
    office: Client, published_version: StrategyVersion
) -> None:
    goal = _goal(published_version)
    name = f"goal-{goal.pk}-title"
    translations_save(
        version=published_version,
        language="es",
        texts={name: "Lugares seguros"},
        editor=None,
    )
    Goal.objects.filter(pk=goal.pk).update(title="Safe PLACES, Parks and Neighborhoods")
    public = Client().get("/es/goals/1/").content.decode()
    assert "Lugares seguros" not in public
    assert "Safe PLACES, Parks and Neighborhoods" in public
    url = f"/manage/versions/{published_version.pk}/translations/es/"
    assert "Out of date" in office.get(url).content.decode()
    # Saving the page without checking it leaves it out of date...
    office.post(url, {name: "Lugares seguros"})
    assert "Lugares seguros" not in Client().get("/es/goals/1/").content.decode()
    # ... checking it makes it current again.
    office.post(url, {name: "Lugares seguros", f"confirm-{name}": "on"})
    assert "Lugares seguros" in Client().get("/es/goals/1/").content.decode()


def test_an_empty_box_removes_the_translation(published_version: StrategyVersion) -> None:
    action = Action.objects.get(version=published_version, slug="3-6")
    name = f"action-{action.pk}-title"
    translations_save(version=published_version, language="vi", texts={name: "X"}, editor=None)
    changed = translations_save(
        version=published_version, language="vi", texts={name: "  "}, editor=None
    )
    assert changed == 1
    action.refresh_from_db()
    assert "vi" not in action.translations


def test_texts_of_another_version_or_language_are_refused(
    published_version: StrategyVersion, draft_version: StrategyVersion
) -> None:
    other = _goal(draft_version)
    with pytest.raises(ValidationError, match="not a text of this version"):
        translations_save(
            version=published_version,
            language="es",
            texts={f"goal-{other.pk}-title": "x"},
            editor=None,
        )
    goal = _goal(published_version)
    for name in (f"goal-{goal.pk}-short_name", "goal-x-title", "nothing"):
        with pytest.raises(ValidationError):
            translations_save(
                version=published_version, language="es", texts={name: "x"}, editor=None
            )
    with pytest.raises(ValidationError, match="not a language"):
        translations_save(version=published_version, language="fr", texts={}, editor=None)


def test_loading_the_strategy_file_again_keeps_back_office_translations(
    published_version: StrategyVersion,
) -> None:
    goal = _goal(published_version)
    translations_save(
        version=published_version,
        language="ko",
        texts={f"goal-{goal.pk}-title": "안전한 장소"},
        editor=None,
    )
    report = strategy_load_file(path=TACOMA)
    goal.refresh_from_db()
    assert goal.translations["ko"]["title"] == "안전한 장소"
    assert report.summary() == "nothing changed"


def test_a_files_translation_replaces_the_stored_one_text_by_text() -> None:
    from csas.strategy.translation import merged_translations

    stored = {
        "es": {
            "title": "viejo",
            "statement": "declaración",
            "_from": {"title": "Old", "statement": "S"},
        },
        "vi": {"title": "cũ"},
    }
    merged = merged_translations(
        stored, {"es": {"title": "nuevo"}, "ko": {"title": "새"}}, {"title": "New"}
    )
    assert merged == {
        "es": {
            "title": "nuevo",
            "statement": "declaración",
            "_from": {"title": "New", "statement": "S"},
            "_file": {"title": "nuevo"},
        },
        "vi": {"title": "cũ"},
        "ko": {"title": "새", "_from": {"title": "New"}, "_file": {"title": "새"}},
    }
    assert stored["es"]["title"] == "viejo"  # the stored value is not changed in place


def _tacoma_with(tmp_path: Path, title: str, es_title: str | None) -> Path:
    """Tacoma's file with goal 1 of the adopted version retitled and its Spanish title."""
    import yaml

    data = yaml.safe_load(TACOMA.read_text(encoding="utf-8"))
    for version in data["versions"]:
        if version["key"] == "2025-12-adopted":
            goal = version["goals"][0]
            goal["title"] = title
            goal.pop("translations", None)
            if es_title is not None:
                goal["translations"] = {"es": {"title": es_title}}
    for layer in data.get("geography", []):
        if "file" in layer:
            layer["file"] = str((TACOMA.parent / layer["file"]).resolve())
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_file_translation_whose_english_changed_is_no_longer_shown(
    published_version: StrategyVersion, tmp_path: Path
) -> None:
    title = _goal(published_version).title
    strategy_load_file(path=_tacoma_with(tmp_path, title, "Lugares seguros VIEJO"))
    assert "Lugares seguros VIEJO" in Client().get("/es/goals/1/").content.decode()
    # New English; the file no longer gives a translation (it is being redone).
    strategy_load_file(path=_tacoma_with(tmp_path, "A new goal title", None))
    page = Client().get("/es/goals/1/").content.decode()
    assert "Lugares seguros VIEJO" not in page
    assert "A new goal title" in page


def test_a_back_office_fix_survives_loading_the_same_file_again(
    published_version: StrategyVersion, tmp_path: Path
) -> None:
    title = _goal(published_version).title
    path = _tacoma_with(tmp_path, title, "Lugares con ERRATA")
    strategy_load_file(path=path)
    goal = _goal(published_version)
    translations_save(
        version=published_version,
        language="es",
        texts={f"goal-{goal.pk}-title": "Lugares corregidos"},
        editor=None,
    )
    strategy_load_file(path=path)
    goal.refresh_from_db()
    assert goal.translations["es"]["title"] == "Lugares corregidos"
    # A new translation in the file is newer than the back office's: it replaces it.
    strategy_load_file(path=_tacoma_with(tmp_path, title, "Lugares y vecindarios seguros"))
    goal.refresh_from_db()
    assert goal.translations["es"]["title"] == "Lugares y vecindarios seguros"


def test_a_file_translation_kept_while_its_english_changed_is_out_of_date(
    published_version: StrategyVersion, tmp_path: Path
) -> None:
    title = _goal(published_version).title
    strategy_load_file(path=_tacoma_with(tmp_path, title, "Lugares seguros"))
    # The file's English changes; its Spanish stays as it was: not checked against the new text.
    strategy_load_file(path=_tacoma_with(tmp_path, "A new goal title", "Lugares seguros"))
    page = Client().get("/es/goals/1/").content.decode()
    assert "Lugares seguros" not in page
    assert "A new goal title" in page


def test_a_back_office_removal_survives_loading_the_same_file_again(
    published_version: StrategyVersion, tmp_path: Path
) -> None:
    path = _tacoma_with(tmp_path, _goal(published_version).title, "Mala traducción")
    strategy_load_file(path=path)
    goal = _goal(published_version)
    translations_save(
        version=published_version,
        language="es",
        texts={f"goal-{goal.pk}-title": ""},
        editor=None,
    )
    strategy_load_file(path=path)
    goal.refresh_from_db()
    assert "title" not in goal.translations.get("es", {})

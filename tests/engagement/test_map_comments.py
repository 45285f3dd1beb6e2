from __future__ import annotations

import json
from typing import Any

from django.test import Client

from csas.engagement.models import FeedbackItem, MapComment
from csas.engagement.services import moderation_decide
from csas.strategy.models import Strategy

# A point in the Central neighborhood council district and council district 2 or 3.
CENTRAL = "-122.4668,47.2457"


def test_a_resident_drops_a_pin_and_it_waits_for_review(strategy: Strategy) -> None:
    response = Client().post(
        "/map/",
        {
            "category": "lighting",
            "location": CENTRAL,
            "text": "Dark stretch, call me at (253) 555-0199",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?sent=1")
    comment = MapComment.objects.get()
    assert comment.status == "pending"
    assert comment.neighbourhood is not None
    assert comment.council_district is not None
    assert "555-0199" not in comment.redacted_text
    assert FeedbackItem.objects.get(map_comment=comment).source == "map_comment"
    public = Client().get("/map/").content.decode()
    assert "Dark stretch" not in public
    assert json.loads(Client().get("/map/comments.geojson").content)["features"] == []


def test_a_published_comment_shows_moderated_text_and_a_rounded_pin(
    strategy: Strategy, user_for: Any
) -> None:
    Client().post(
        "/map/",
        {
            "category": "feels_unsafe",
            "location": CENTRAL,
            "text": "My neighbour Bob Jones leaves the gate open",
        },
    )
    comment = MapComment.objects.get()
    moderation_decide(item=comment, publish=True, reviewer=user_for("strategy_staff"))
    public = Client().get("/map/").content.decode()
    assert "Bob Jones" not in public
    assert "leaves the gate open" in public
    feature = json.loads(Client().get("/map/comments.geojson").content)["features"][0]
    assert feature["geometry"]["coordinates"] == [-122.467, 47.246]
    assert "Bob Jones" not in feature["properties"]["text"]
    assert FeedbackItem.objects.get(map_comment=comment).status == "published"


def test_people_without_the_map_describe_the_place_in_words(strategy: Strategy) -> None:
    response = Client().post(
        "/map/",
        {"category": "traffic", "address": "S 38th and Pacific", "text": "Cars run the red light"},
    )
    assert response.status_code == 302
    comment = MapComment.objects.get()
    assert comment.lon is None
    assert comment.address == "S 38th and Pacific"


def test_a_comment_without_any_place_is_refused_with_a_message(strategy: Strategy) -> None:
    response = Client().post("/map/", {"category": "traffic", "text": "Somewhere"})
    assert response.status_code == 400
    assert "Tap the map or describe the place in words." in response.content.decode()
    assert not MapComment.objects.exists()


def test_bad_positions_and_categories_are_refused(strategy: Strategy) -> None:
    for data in [
        {"category": "traffic", "location": "west,north", "text": "x"},
        {"category": "traffic", "location": "500,47", "text": "x"},
        {"category": "ufo", "location": CENTRAL, "text": "x"},
        {"category": "traffic", "location": CENTRAL, "text": "x" * 1001},
    ]:
        assert Client().post("/map/", data).status_code == 400, data
    assert not MapComment.objects.exists()


def test_one_address_cannot_flood_the_map(strategy: Strategy, settings: Any) -> None:
    settings.MAP_COMMENTS_PER_HOUR = 2
    data = {"category": "other", "location": CENTRAL, "text": "again"}
    assert Client().post("/map/", data).status_code == 302
    assert Client().post("/map/", data).status_code == 302
    assert Client().post("/map/", data).status_code == 429
    assert MapComment.objects.count() == 2


def test_the_honeypot_stores_no_map_comment(strategy: Strategy) -> None:
    data = {"category": "other", "location": CENTRAL, "text": "spam", "website": "x"}
    assert Client().post("/map/", data).status_code == 302
    assert not MapComment.objects.exists()


def _staff(user_for: Any) -> Client:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    return client


def test_the_place_typed_in_words_is_redacted_moderated_and_published_redacted(
    strategy: Strategy, user_for: Any
) -> None:
    typed = "Jane Doe, 1234 S Yakima Ave, call 253-555-0199"
    Client().post("/map/", {"category": "feels_unsafe", "address": typed, "text": "Dark porch"})
    comment = MapComment.objects.get()
    assert comment.address == typed  # kept as received, for the moderator only
    assert "1234 S Yakima" not in comment.redacted_address
    assert "555-0199" not in comment.redacted_address
    assert "place:personal_data:street_address" in comment.review_reasons
    item = FeedbackItem.objects.get(map_comment=comment)
    assert "place:personal_data:phone" in item.review_reasons

    staff = _staff(user_for)
    queue = staff.get("/manage/engagement/moderation/").content.decode()
    assert "Place as received" in queue
    assert "1234 S Yakima Ave" in queue  # the moderator sees what was typed
    assert 'name="redacted_address"' in queue
    assert Client().get("/map/").content.decode().count("Yakima") == 0  # pending: not public

    staff.post(
        f"/manage/engagement/moderation/{item.pk}/",
        {"decision": "publish", "redacted_text": "Dark porch", "redacted_address": "S Yakima Ave"},
    )
    comment.refresh_from_db()
    assert comment.status == "published"
    assert comment.redacted_address == "S Yakima Ave"
    public = Client().get("/map/").content.decode()
    assert "S Yakima Ave" in public
    assert "1234" not in public
    assert "555-0199" not in public
    assert "Jane Doe" not in public


def test_a_place_without_personal_data_is_published_as_typed(
    strategy: Strategy, user_for: Any
) -> None:
    Client().post(
        "/map/", {"category": "traffic", "address": "S 38th and Pacific", "text": "Fast cars"}
    )
    comment = MapComment.objects.get()
    assert comment.redacted_address == "S 38th and Pacific"
    assert not comment.review_reasons
    moderation_decide(item=comment, publish=True, reviewer=user_for("strategy_staff"))
    assert "S 38th and Pacific" in Client().get("/map/").content.decode()


def test_a_pin_outside_the_city_is_refused_with_a_message(strategy: Strategy) -> None:
    response = Client().post(
        "/map/", {"category": "traffic", "location": "-80.0,40.0", "text": "Pittsburgh"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The pin is outside Tacoma" in page
    assert "-80.0,40.0" not in page  # the pin is dropped from the form ...
    assert not MapComment.objects.exists()
    assert not FeedbackItem.objects.exists()
    again = Client().post(  # ... so describing the place instead is accepted
        "/map/", {"category": "traffic", "location": "", "address": "Near the Dome", "text": "x"}
    )
    assert again.status_code == 302
    assert MapComment.objects.get().address == "Near the Dome"


def test_places_typed_before_the_redacted_field_existed_are_redacted_by_the_migration(
    strategy: Strategy,
) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "csas.engagement.migrations.0004_map_comment_redacted_address"
    )
    old = MapComment.objects.create(
        strategy=strategy,
        category="other",
        text="x",
        address="outside 4502 N 26th St",
        language="en",
    )
    MapComment.objects.create(strategy=strategy, category="other", text="y", language="en")
    migration.redact_existing_places(apps, None)
    old.refresh_from_db()
    assert old.redacted_address
    assert "4502" not in old.redacted_address
    assert MapComment.objects.filter(redacted_address="").count() == 1

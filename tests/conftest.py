"""Shared fixtures: the bundled Tacoma strategy is loaded once into the test database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from csas.accounts.models import User
from csas.strategy.models import Action, Department, StrategyVersion
from tests.factories import UserFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        call_command("load_strategy", verbosity=0)


@pytest.fixture
def published_version(db: Any) -> StrategyVersion:
    return StrategyVersion.objects.get(is_published=True)


@pytest.fixture
def draft_version(db: Any) -> StrategyVersion:
    return StrategyVersion.objects.get(key="2024-04-draft")


@pytest.fixture
def tpd(db: Any) -> Department:
    return Department.objects.get(slug="tpd")


@pytest.fixture
def tfd(db: Any) -> Department:
    return Department.objects.get(slug="tfd")


@pytest.fixture
def tpd_action(published_version: StrategyVersion, tpd: Department) -> Action:
    """Action 3.6 of the published version, led by the police department for the test."""
    action = Action.objects.get(version=published_version, slug="3-6")
    action.lead_department = tpd
    action.save()
    return action


@pytest.fixture
def tfd_action(published_version: StrategyVersion, tfd: Department) -> Action:
    action = Action.objects.get(version=published_version, slug="3-2")
    action.lead_department = tfd
    action.save()
    return action


def make_user(role: str, username: str | None = None) -> User:
    """An account of `role` (Tacoma's police department for editors, Tacoma Ceasefire for
    partners)."""
    return UserFactory(role=role, **({"username": username} if username else {}))


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise() -> Any:
    # A request to /es/... leaves Spanish active in the thread; start every test in English.
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _own_cache(settings: Any) -> Any:
    # Rate limits and cached PDFs live in the cache: give every test its own empty one, so no
    # count or cached page leaks between tests or between runs (the default cache is on disk).
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "csas-tests",
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 is deliberately slow; tests that check hashing use the settings module itself.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user_for(db: Any) -> Callable[[str], User | None]:
    """Return the account for a role ("public" is the anonymous visitor: None), made once."""
    made: dict[str, User] = {}

    def get(role: str) -> User | None:
        if role == "public":
            return None
        if role not in made:
            made[role] = make_user(role)
        return made[role]

    return get

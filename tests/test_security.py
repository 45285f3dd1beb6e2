from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from csas.accounts.models import Role
from tests.conftest import make_user
from tests.factories import PASSWORD


def _run_django(env_overrides: dict[str, str], *args: str, tmp_path: Path) -> Any:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csas.config.settings",
        "CSAS_DATA_DIR": str(tmp_path),
        **env_overrides,
    }
    if "DATABASE_URL" not in env_overrides:
        env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_django_deploy_checks(tmp_path: Path) -> None:
    result = _run_django(
        {
            "CSAS_ENV": "production",
            "CSAS_SECRET_KEY": secrets.token_urlsafe(60),
            "CSAS_CONTACT_KEY": "x6H0kq3n3m0mE1n0V3tZ8m8JqW0m6K9d5m3b0o2s6Vg=",
            "CSAS_ALLOWED_HOSTS": "safety.example.org",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = _run_django(
        {"CSAS_ENV": "production", "CSAS_SECRET_KEY": ""}, "check", tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "CSAS_SECRET_KEY must be set when CSAS_ENV=production" in result.stderr


def test_production_refuses_to_start_without_a_contact_key(tmp_path: Path) -> None:
    result = _run_django(
        {
            "CSAS_ENV": "production",
            "CSAS_SECRET_KEY": secrets.token_urlsafe(60),
            "CSAS_CONTACT_KEY": "",
        },
        "check",
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "CSAS_CONTACT_KEY must be set when CSAS_ENV=production" in result.stderr


def test_processes_starting_together_on_a_new_data_folder_share_one_key_each(
    tmp_path: Path,
) -> None:
    # Test workers, or a server and a command, may start at once on an empty data folder:
    # each must read the key the first one wrote, never an empty or half-written file.
    go = tmp_path.parent / f"{tmp_path.name}-go"
    code = (  # each process waits for `go`, then reads the settings (which makes the keys)
        "import os, sys, django.conf, cryptography.fernet\n"
        f"while not os.path.exists({str(go)!r}): pass\n"
        "print(django.conf.settings.SECRET_KEY); print(django.conf.settings.CONTACT_KEY)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csas.config.settings",
        "CSAS_DATA_DIR": str(tmp_path),
    }
    for name in ("CSAS_SECRET_KEY", "CSAS_CONTACT_KEY", "CSAS_ENV"):
        env.pop(name, None)
    started = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    time.sleep(1)
    go.touch()
    printed = [process.communicate(timeout=120)[0].split() for process in started]
    assert all(process.returncode == 0 for process in started)
    secret, contact = (tmp_path / "secret_key").read_text(), (tmp_path / "contact_key").read_text()
    assert len(secret) >= 50
    assert len(contact) == 44
    assert printed == [[secret, contact]] * 6
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "contact_key").stat().st_mode & 0o777 == 0o600
    assert not [path.name for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_a_mistyped_setting_is_named_in_the_error(tmp_path: Path) -> None:
    result = _run_django({"CSAS_DEBUG": "maybe"}, "check", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "CSAS_DEBUG: expected true or false, found 'maybe'" in result.stderr


def test_passwords_are_hashed_with_argon2_by_default() -> None:
    from csas.config import settings as configured

    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_debug_is_off_by_default() -> None:
    from csas.config import settings as configured

    assert configured.DEBUG is False


def test_pages_carry_csp_and_security_headers(db: Any) -> None:
    response = Client().get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_login_form_requires_csrf_token(db: Any) -> None:
    make_user(Role.STRATEGY_STAFF, username="staffer")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "staffer", "password": PASSWORD})
    assert response.status_code == 403


def test_login_works_and_is_throttled_after_repeated_failures(db: Any) -> None:
    make_user(Role.STRATEGY_STAFF, username="staffer")
    client = Client()
    ok = client.post("/accounts/login/", {"username": "staffer", "password": PASSWORD})
    assert ok.status_code == 302
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "staffer", "password": "wrong password"})
    locked = client.post("/accounts/login/", {"username": "staffer", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", ["/", "/plan/", "/goals/1/"])
def test_server_errors_never_show_a_traceback(url: str, db: Any, monkeypatch: Any) -> None:
    from csas.portal import views

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(views.selectors, "version_get_published", explode)
    client = Client(raise_request_exception=False)
    response = client.get(url)
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body


def test_production_collects_and_fingerprints_static_files(tmp_path: Path) -> None:
    result = _run_django(
        {
            "CSAS_ENV": "production",
            "CSAS_SECRET_KEY": secrets.token_urlsafe(60),
            "CSAS_CONTACT_KEY": "x6H0kq3n3m0mE1n0V3tZ8m8JqW0m6K9d5m3b0o2s6Vg=",
        },
        "collectstatic",
        "--noinput",
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/leaflet/leaflet.js" in manifest
    assert "csas/site.css" in manifest

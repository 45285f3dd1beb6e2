"""Follow-up contact details: only on opt-in, encrypted at rest, apart from answers, purged.

The only door to read them is `contact_read_for_user`, which answers "not found" to anyone
outside the strategy office.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from csas.engagement.models import ContactDetail, MapComment, Response

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
PHONE = re.compile(r"^[0-9+()\-.\s]{7,25}$")


class ContactError(ValueError):
    """Contact details that cannot be stored, with a message for the person."""


def _fernet() -> Fernet:
    return Fernet(settings.CONTACT_KEY.encode())


def clean_contact(
    *, name: str = "", email: str = "", phone: str = "", language: str = ""
) -> dict[str, str]:
    details = {
        "name": name.strip()[:200],
        "email": email.strip()[:320],
        "phone": phone.strip()[:25],
        "language": language.strip()[:8],
    }
    if not details["email"] and not details["phone"]:
        raise ContactError(_("Give an e-mail address or a phone number."))
    if details["email"] and not EMAIL.match(details["email"]):
        raise ContactError(_("That e-mail address does not look right."))
    if details["phone"] and not PHONE.match(details["phone"]):
        raise ContactError(_("That phone number does not look right."))
    return {key: value for key, value in details.items() if value}


@transaction.atomic
def contact_store(
    *,
    details: dict[str, str],
    response: Response | None = None,
    map_comment: MapComment | None = None,
    today: dt.date | None = None,
) -> ContactDetail:
    """Encrypt and store the details of someone who opted in to follow-up."""
    if (response is None) == (map_comment is None):
        raise ValueError("contact details belong to exactly one response or map comment")
    token = _fernet().encrypt(json.dumps(details, sort_keys=True).encode()).decode()
    start = today or timezone.localdate()
    contact, _created = ContactDetail.objects.update_or_create(
        response=response,
        map_comment=map_comment,
        defaults={
            "ciphertext": token,
            "purge_after": start + dt.timedelta(days=settings.CONTACT_RETENTION_DAYS),
        },
    )
    return contact


def contact_read_for_user(user: Any, pk: int) -> dict[str, str]:
    """Decrypted details, for the strategy office only; "not found" for anyone else."""
    if not user.has_perm("engagement.view_responses"):
        raise Http404("No such contact.")
    contact = ContactDetail.objects.filter(pk=pk).first()
    if contact is None:
        raise Http404("No such contact.")
    try:
        details: dict[str, str] = json.loads(_fernet().decrypt(contact.ciphertext.encode()))
    except InvalidToken as exc:
        raise ContactError("These details were encrypted with another key.") from exc
    return details


@transaction.atomic
def contacts_purge(*, today: dt.date | None = None) -> int:
    """Delete every contact detail past its retention date; returns how many."""
    deleted, _by_model = ContactDetail.objects.filter(
        purge_after__lt=today or timezone.localdate()
    ).delete()
    return deleted

"""Keep in-progress responses' submit snapshot honest when a survey's questions change.

A response's `ready` flag says its required questions were answered as the survey stood when
its answers were last saved. If staff add, change or remove a question of a survey (a new
required question, a changed condition), that may no longer hold: every in-progress response
of the survey is marked not ready, so its submit works the snapshot out again from the answers
(and names a missing answer) instead of trusting the old one.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from csas.engagement.models import Question, Response, ResponseStatus


@receiver(post_save, sender=Question, dispatch_uid="csas_question_saved_unready")
@receiver(post_delete, sender=Question, dispatch_uid="csas_question_deleted_unready")
def question_changed(sender: type[Question], instance: Question, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loading fixtures
        return
    Response.objects.filter(
        survey_id=instance.survey_id, status=ResponseStatus.IN_PROGRESS, ready=True
    ).update(ready=False)

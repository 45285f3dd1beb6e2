"""Engagement: activities, surveys and their responses, map comments and feedback items.

Privacy rules built into the model:
- Responses, map comments and feedback items hold no contact details. A respondent who opts in
  to follow-up gets a `ContactDetail` row, stored apart, encrypted, and purged after the
  retention period.
- Demographics are stored on the response as given at the time (`Response.demographics`),
  never joined from a profile later.
- Free text reaches the public only after moderation: `redacted_text` is what may be shown.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    SURVEY = "survey", _("Community survey")
    MAP = "map", _("Map comments")
    ROADSHOW_NEIGHBORHOOD_COUNCIL = "roadshow_nc", _("Road show: neighborhood council")
    ROADSHOW_BOARD = "roadshow_board", _("Road show: board or commission")
    ROADSHOW_COMMUNITY_ORG = "roadshow_org", _("Road show: community organization")
    INTERVIEW_LIVED_EXPERT = "interview_lived", _("Interview: lived expert")
    INTERVIEW_STAKEHOLDER = "interview_stakeholder", _("Interview: key stakeholder")
    VISIONING_WORKSHOP = "workshop", _("Visioning workshop")
    ART = "art", _("Art activity")
    MAILER = "mailer", _("Mailer")
    SOCIAL_MEDIA = "social", _("Social media")
    WEBSITE = "website", _("Website")


class Activity(models.Model):
    """One engagement activity of the plan: a workshop, a road-show visit, a mailer..."""

    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=32, choices=ActivityKind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    place = models.CharField(max_length=300, blank=True)
    geography = models.ForeignKey(
        "strategy.Geography", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    languages = models.JSONField(default=list, blank=True)
    partner = models.ForeignKey(
        "strategy.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    milestone = models.ForeignKey(
        "strategy.Milestone", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reach_count = models.PositiveIntegerField(null=True, blank=True)
    attendance_count = models.PositiveIntegerField(null=True, blank=True)
    # Aggregate attendee demographics, category -> value -> count; {"not_asked": true} is valid.
    attendee_demographics = models.JSONField(default=dict, blank=True)
    staff_notes = models.TextField(blank=True)
    is_public = models.BooleanField(default=False, help_text=_("Listed on the public calendar."))

    class Meta:
        ordering = ["-starts_at", "title"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.title


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Survey(models.Model):
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="surveys"
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys"
    )
    slug = models.SlugField(max_length=64)
    title = models.CharField(max_length=300)
    intro = models.TextField(blank=True)
    thanks = models.TextField(blank=True)
    privacy_note = models.TextField(blank=True)
    languages = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    one_response_per_person = models.BooleanField(default=True)
    results_public = models.BooleanField(
        default=False,
        help_text=_("Publish aggregate results (small groups are always suppressed)."),
    )
    invitation_required = models.BooleanField(default=False)
    source_file = models.CharField(max_length=300, blank=True)
    definition = models.JSONField(
        default=dict, blank=True, help_text=_("The survey file as loaded.")
    )
    translations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "slug"], name="survey_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    intro = models.TextField(blank=True)
    order = models.PositiveIntegerField()
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["survey", "order"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="section_key_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class QuestionKind(models.TextChoices):
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    LIKERT = "likert", _("Agreement or rating scale")
    RATING = "rating", _("Number rating")
    RANKING = "ranking", _("Ranking")
    TOP_N = "top_n", _("Pick the top few")
    OPEN_TEXT = "open_text", _("Open text")
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
    COUNCIL_DISTRICT = "council_district", _("Council district")
    MAP_PIN = "map_pin", _("Map pin")


CHOICE_KINDS = frozenset(
    {
        QuestionKind.SINGLE_CHOICE,
        QuestionKind.MULTIPLE_CHOICE,
        QuestionKind.LIKERT,
        QuestionKind.RANKING,
        QuestionKind.TOP_N,
        QuestionKind.NEIGHBOURHOOD,
        QuestionKind.COUNCIL_DISTRICT,
    }
)


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, choices=QuestionKind.choices)
    text = models.TextField()
    help = models.TextField(blank=True)
    required = models.BooleanField(default=False)
    order = models.PositiveIntegerField()
    demographic = models.CharField(max_length=32, blank=True)
    # min, max, min_label, max_label, choose, max_length, options_from
    config = models.JSONField(default=dict, blank=True)
    show_if = models.JSONField(null=True, blank=True)
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["survey", "order"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="question_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.text[:60]}"

    @property
    def min_label(self) -> str:
        return str((self.config or {}).get("min_label", ""))

    @property
    def max_label(self) -> str:
        return str((self.config or {}).get("max_label", ""))


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    value = models.CharField(max_length=64)
    label = models.CharField(max_length=400)
    order = models.PositiveIntegerField()
    prefer_not_to_say = models.BooleanField(default=False)
    exclusive = models.BooleanField(default=False)
    strategy_ref = models.CharField(
        max_length=64, blank=True, help_text=_("goal:N, action:N.N or focus:slug")
    )
    geography = models.ForeignKey(
        "strategy.Geography", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["question", "order"]
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="option_value_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class Invitation(models.Model):
    """A single-use code printed on a mailer or road-show card."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    code = models.CharField(max_length=16, unique=True)
    batch = models.CharField(max_length=200, blank=True, help_text=_("e.g. Mailer, March 2024"))
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "code"]

    def __str__(self) -> str:
        return self.code


class Channel(models.TextChoices):
    WEB = "web", _("Website")
    INVITATION = "invitation", _("Invitation code")
    PAPER = "paper", _("Paper form entered by staff")
    ROADSHOW = "roadshow", _("Road show")
    IMPORT = "import", _("Imported")


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")


class Response(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    public_id = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Resume token; never shown publicly elsewhere."),
    )
    status = models.CharField(
        max_length=16, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS
    )
    language = models.CharField(max_length=8)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    # HMAC of the browser session, to keep one response per person without storing identity.
    respondent_key = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    demographics = models.JSONField(
        default=dict, blank=True, help_text=_("As given at the time of response.")
    )
    neighbourhood = models.ForeignKey(
        "strategy.Geography", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    council_district = models.ForeignKey(
        "strategy.Geography", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    import_batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="responses"
    )
    external_id = models.CharField(max_length=200, blank=True)
    # Kept up to date each time answers are saved, so that submitting is one conditional
    # update: every required question that is shown has an answer; the respondent answered
    # "yes" to follow-up.
    ready = models.BooleanField(
        default=False,
        help_text=_("Every required question shown has an answer (as of the last answers saved)."),
    )
    opted_in = models.BooleanField(
        default=False, help_text=_("The respondent asked to be contacted about follow-up.")
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent_key"],
                condition=Q(status="submitted") & ~Q(respondent_key=""),
                name="one_submitted_response_per_respondent",
            ),
        ]
        indexes = [models.Index(fields=["survey", "status", "submitted_at"])]

    def __str__(self) -> str:
        return f"Response {self.pk} to {self.survey}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    # {"choice": v} | {"choices": [v...]} | {"ranking": [v...]} | {"number": n}
    # | {"text": s} | {"point": [lon, lat]}
    value = models.JSONField()
    # Open text only: the moderation check's redacted text and reasons, made when the answer
    # is saved; submitting copies them into the answer's feedback item.
    redacted_text = models.TextField(blank=True)
    review_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.question.key} = {self.value}"


class ModerationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")


class MapCategory(models.TextChoices):
    FEELS_UNSAFE = "feels_unsafe", _("Feels unsafe")
    FEELS_SAFE = "feels_safe", _("Feels safe")
    LIGHTING = "lighting", _("Lighting")
    TRAFFIC = "traffic", _("Traffic")
    GATHERING_PLACE = "gathering_place", _("Gathering place")
    CLEANLINESS = "cleanliness", _("Cleanliness")
    OTHER = "other", _("Other")


class MapComment(models.Model):
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="map_comments"
    )
    category = models.CharField(max_length=32, choices=MapCategory.choices)
    text = models.TextField()
    redacted_text = models.TextField(blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    address = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Place described in words, for people without the map."),
    )
    redacted_address = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("The place as published, after personal data is removed and moderation."),
    )
    neighbourhood = models.ForeignKey(
        "strategy.Geography", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    council_district = models.ForeignKey(
        "strategy.Geography", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(max_length=8)
    status = models.CharField(
        max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.PENDING
    )
    review_reasons = models.JSONField(default=list, blank=True)
    respondent_key = models.CharField(max_length=64, blank=True, db_index=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.text[:50]}"


class FeedbackSource(models.TextChoices):
    STAFF_NOTE = "staff_note", _("Staff note from an activity")
    SURVEY_ANSWER = "survey_answer", _("Survey open answer")
    MAP_COMMENT = "map_comment", _("Map comment")
    IMPORT = "import", _("Imported file")
    POLIS = "polis", _("Polis conversation")
    DRAFT_COMMENT = "draft_comment", _("Comment on the draft")


class FeedbackItem(models.Model):
    """One piece of input, whatever its channel: the unit that insight codes and counts."""

    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="feedback_items"
    )
    source = models.CharField(max_length=32, choices=FeedbackSource.choices)
    text = models.TextField()
    redacted_text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_items"
    )
    geography = models.ForeignKey(
        "strategy.Geography", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    speaker_demographics = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.PENDING
    )
    review_reasons = models.JSONField(default=list, blank=True)
    answer = models.OneToOneField(
        Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="feedback_item"
    )
    map_comment = models.OneToOneField(
        MapComment, null=True, blank=True, on_delete=models.CASCADE, related_name="feedback_item"
    )
    import_batch = models.ForeignKey(
        "ImportBatch",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="feedback_items",
    )
    external_id = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["strategy", "source", "status"])]

    def __str__(self) -> str:
        return self.text[:60]


class ImportKind(models.TextChoices):
    SURVEY_WIDE = "survey_wide", _("Survey export (one row per response)")
    MAP_COMMENTS = "map_comments", _("Map comment export")
    FEEDBACK = "feedback", _("Comments (one row per comment)")
    POLIS = "polis", _("Polis conversation export")


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed (nothing imported)")
    COMMITTED = "committed", _("Imported")
    FAILED = "failed", _("Failed (nothing imported)")


class ImportBatch(models.Model):
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="import_batches"
    )
    kind = models.CharField(max_length=32, choices=ImportKind.choices)
    original_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    stored_file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices)
    mapping = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


class PolisParticipant(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="participants")
    external_id = models.CharField(max_length=64)
    polis_group = models.CharField(
        max_length=16, blank=True, help_text=_("Polis's own opinion group id, as exported.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "external_id"], name="participant_unique"),
        ]

    def __str__(self) -> str:
        return f"Participant {self.external_id}"


class Vote(models.Model):
    """Agree (1) / disagree (-1) / pass (0) on a feedback item (a Polis statement)."""

    participant = models.ForeignKey(
        PolisParticipant, on_delete=models.CASCADE, related_name="votes"
    )
    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField()
    voted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "item"], name="vote_unique"),
            models.CheckConstraint(condition=Q(value__in=[-1, 0, 1]), name="vote_value"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.value:+d} on {self.item_id}"


class ContactDetail(models.Model):
    """Follow-up contact for someone who opted in: encrypted, apart from answers, purged."""

    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="contact"
    )
    map_comment = models.OneToOneField(
        MapComment, null=True, blank=True, on_delete=models.CASCADE, related_name="contact"
    )
    ciphertext = models.TextField(help_text=_("Fernet token; key from CSAS_CONTACT_KEY."))
    created_at = models.DateTimeField(auto_now_add=True)
    purge_after = models.DateField()

    class Meta:
        ordering = ["purge_after"]

    def __str__(self) -> str:
        return f"Contact details (purge after {self.purge_after})"


class DraftComment(models.Model):
    """A comment on one section of a strategy version published as a draft for review."""

    version = models.ForeignKey(
        "strategy.StrategyVersion", on_delete=models.CASCADE, related_name="draft_comments"
    )
    section = models.CharField(max_length=64, help_text=_("vision, goal:N or action:slug"))
    text = models.TextField()
    redacted_text = models.TextField(blank=True)
    language = models.CharField(max_length=8)
    from_advisory_committee = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.section}: {self.text[:50]}"

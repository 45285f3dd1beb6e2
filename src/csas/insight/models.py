"""Coding input to the strategy and publishing what was heard.

A strategy's codebook (`Code`) holds one code per goal, per action and per focus population
(generated from the strategy) plus themes staff define. The offline coder
(`csas.analysis.insight.coding`) proposes codes for every feedback item (`ItemCode` with
origin ``machine``, one `CodingRun` per pass, the item's overall confidence on `ItemCoding`);
staff review items least-confident first and record the codes they judge right (`Review` plus
`ItemCode` rows with origin ``human``). An item's settled codes are those of its latest review,
or the machine's when nobody has reviewed it. Agreement is computed between coders and between
the model and coders on the items both coded.

`HeardReport` is the "What we heard" page: staff preview it live from stored data, pick quotes
(`HeardQuote`, exact excerpts of moderated, redacted items), and publish; publishing stores a
snapshot of the computed figures so the public page shows exactly what was reviewed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CodeKind(models.TextChoices):
    GOAL = "goal", _("Goal")
    ACTION = "action", _("Action")
    FOCUS = "focus", _("Focus population")
    THEME = "theme", _("Theme")


class Code(models.Model):
    """One code in a strategy's codebook."""

    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="codes"
    )
    kind = models.CharField(max_length=16, choices=CodeKind.choices)
    key = models.CharField(
        max_length=80,
        help_text=_(
            "Identifier written in outputs: a goal's short name, an action's code, a slug."
        ),
    )
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    goal = models.ForeignKey(
        "strategy.Goal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.ForeignKey(
        "strategy.Action", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    focus_population = models.ForeignKey(
        "strategy.FocusPopulation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["strategy", "kind", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "kind", "key"], name="code_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.label}"


class CodingRun(models.Model):
    """One pass of the offline coder over a strategy's feedback items."""

    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="coding_runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=200, blank=True)
    n_items = models.PositiveIntegerField(default=0)
    n_training_examples = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Coding run {self.pk} ({self.n_items} items)"


class CodeOrigin(models.TextChoices):
    MACHINE = "machine", _("Suggested by the coder")
    HUMAN = "human", _("Given by a person")


class ItemCode(models.Model):
    """A code on a feedback item, from the machine (one set per item, replaced each run) or
    from a person (one set per item and coder)."""

    item = models.ForeignKey(
        "engagement.FeedbackItem", on_delete=models.CASCADE, related_name="codes"
    )
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="item_codes")
    origin = models.CharField(max_length=16, choices=CodeOrigin.choices)
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        CodingRun, null=True, blank=True, on_delete=models.CASCADE, related_name="item_codes"
    )
    confidence = models.FloatField(null=True, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "code"],
                condition=Q(origin="machine"),
                name="item_code_machine_unique",
            ),
            models.UniqueConstraint(
                fields=["item", "code", "coder"],
                condition=Q(origin="human"),
                name="item_code_human_unique",
            ),
        ]
        indexes = [models.Index(fields=["code", "origin"])]

    def __str__(self) -> str:
        return f"{self.code.key} on item {self.item_id} ({self.origin})"


class ItemCoding(models.Model):
    """The coder's overall view of one item: its confidence (lowest first in the review queue)."""

    item = models.OneToOneField(
        "engagement.FeedbackItem", on_delete=models.CASCADE, related_name="coding"
    )
    run = models.ForeignKey(CodingRun, on_delete=models.CASCADE, related_name="item_codings")
    confidence = models.FloatField()
    coded_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["confidence"])]

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.confidence:.2f}"


class ReviewDecision(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted the suggested codes")
    CORRECTED = "corrected", _("Corrected the codes")


class Review(models.Model):
    """A person's judgement of one item's codes; the codes themselves are `ItemCode` rows with
    origin ``human`` and this coder (none means no code applies)."""

    item = models.ForeignKey(
        "engagement.FeedbackItem", on_delete=models.CASCADE, related_name="reviews"
    )
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices)
    reviewed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-reviewed_at"]
        constraints = [
            models.UniqueConstraint(fields=["item", "coder"], name="review_item_coder_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.coder} on item {self.item_id}: {self.decision}"


class HeardReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class HeardReport(models.Model):
    """The "What we heard" report of a strategy."""

    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="heard_reports"
    )
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    introduction = models.TextField(blank=True)
    translations = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=HeardReportStatus.choices, default=HeardReportStatus.DRAFT
    )
    snapshot = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "The figures as computed and reviewed at publication; the public page shows these."
        ),
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["strategy", "-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "slug"], name="heard_report_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class HeardQuote(models.Model):
    """A quote staff chose for a report: an exact excerpt of a moderated, redacted item."""

    report = models.ForeignKey(HeardReport, on_delete=models.CASCADE, related_name="quotes")
    item = models.ForeignKey(
        "engagement.FeedbackItem", on_delete=models.CASCADE, related_name="heard_quotes"
    )
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="quotes")
    excerpt = models.TextField()
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["report", "code", "order"]
        constraints = [
            models.UniqueConstraint(fields=["report", "item", "code"], name="heard_quote_unique"),
        ]

    def __str__(self) -> str:
        return self.excerpt[:60]

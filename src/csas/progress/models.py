"""Implementation tracking: who owns each action, its dated milestones and funding, quarterly
updates that move through review to publication, and indicators with observations.

Perception indicators (from periodic surveys) keep value, n, margin of error and wave;
administrative measures are counts per period. The two are different `IndicatorKind`s and are
never mixed in one series.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ReportingPeriod(models.Model):
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="reporting_periods"
    )
    label = models.CharField(max_length=64, help_text=_("e.g. 2026 Q1"))
    starts_on = models.DateField()
    ends_on = models.DateField()
    due_on = models.DateField(help_text=_("Updates are due by this date."))

    class Meta:
        ordering = ["strategy", "starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "label"], name="period_label_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="period_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class ActionOwner(models.Model):
    action = models.ForeignKey("strategy.Action", on_delete=models.CASCADE, related_name="owners")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_actions"
    )
    is_primary = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "user"], name="action_owner_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} owns {self.action.code}"


class ActionMilestone(models.Model):
    action = models.ForeignKey(
        "strategy.Action", on_delete=models.CASCADE, related_name="implementation_milestones"
    )
    title = models.CharField(max_length=300)
    planned_start = models.DateField(null=True, blank=True)
    planned_end = models.DateField()
    actual_end = models.DateField(null=True, blank=True)
    percent_complete = models.PositiveSmallIntegerField(default=0)
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["action", "order", "planned_end"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_complete__lte=100), name="milestone_percent_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class FundingStatus(models.TextChoices):
    FUNDED = "funded", _("Funded")
    PARTIALLY_FUNDED = "partially_funded", _("Partially funded")
    UNFUNDED = "unfunded", _("Unfunded")


class FundingLine(models.Model):
    action = models.ForeignKey(
        "strategy.Action", on_delete=models.CASCADE, related_name="funding_lines"
    )
    source = models.CharField(max_length=300, help_text=_("e.g. General Fund, BJA grant"))
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=32, choices=FundingStatus.choices)
    fiscal_year = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["action", "fiscal_year", "source"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="funding_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.amount}"


class CouncilAction(models.Model):
    action = models.ForeignKey(
        "strategy.Action", on_delete=models.CASCADE, related_name="council_actions"
    )
    title = models.CharField(max_length=300)
    url = models.URLField()
    dated = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["action", "dated"]

    def __str__(self) -> str:
        return self.title


class UpdateStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")
    COMPLETE = "complete", _("Complete")
    DEFERRED = "deferred", _("Deferred")


class UpdateState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    DEPARTMENT_REVIEW = "department_review", _("Department review")
    OFFICE_APPROVAL = "office_approval", _("Strategy office approval")
    PUBLISHED = "published", _("Published")


class ActionUpdate(models.Model):
    """An owner's quarterly update on one action. Only published updates are public."""

    action = models.ForeignKey("strategy.Action", on_delete=models.CASCADE, related_name="updates")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="updates")
    status = models.CharField(max_length=16, choices=UpdateStatus.choices)
    narrative = models.TextField()
    # {"<ActionMilestone pk>": percent complete} reported with the update
    milestone_progress = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=24, choices=UpdateState.choices, default=UpdateState.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_updates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-period__starts_on", "action"]
        constraints = [
            models.UniqueConstraint(fields=["action", "period"], name="one_update_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.action.code} {self.period}"


class UpdateEvent(models.Model):
    """Every move of an update between states: who, when, why."""

    update = models.ForeignKey(ActionUpdate, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=24, choices=UpdateState.choices)
    to_state = models.CharField(max_length=24, choices=UpdateState.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["update", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state}"


class Evidence(models.Model):
    action = models.ForeignKey("strategy.Action", on_delete=models.CASCADE, related_name="evidence")
    update = models.ForeignKey(
        ActionUpdate, null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    title = models.CharField(max_length=300)
    url = models.URLField(blank=True)
    document = models.FileField(upload_to="evidence/%Y/", blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action", "-added_at"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.title


class IndicatorKind(models.TextChoices):
    POPULATION = "population", _("Population indicator (from a survey)")
    PERFORMANCE = "performance", _("Performance measure (counts per period)")


class Direction(models.TextChoices):
    INCREASE = "increase", _("Higher is better")
    DECREASE = "decrease", _("Lower is better")


class IndicatorFeed(models.TextChoices):
    MANUAL = "manual", _("Entered by staff or an integration")
    SURVEY = "survey", _("Computed from a csas survey")
    SAFETY = "safety", _("Computed from csas safety data")


class Indicator(models.Model):
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="indicators"
    )
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=IndicatorKind.choices)
    unit = models.CharField(max_length=64, help_text=_("e.g. percent, calls, minutes"))
    direction = models.CharField(max_length=16, choices=Direction.choices)
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_year = models.PositiveSmallIntegerField(null=True, blank=True)
    target_value = models.FloatField(null=True, blank=True)
    target_year = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)
    feed = models.CharField(
        max_length=16, choices=IndicatorFeed.choices, default=IndicatorFeed.MANUAL
    )
    feed_config = models.JSONField(default=dict, blank=True)
    actions = models.ManyToManyField("strategy.Action", blank=True, related_name="indicators")
    is_public = models.BooleanField(default=True)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "name"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "slug"], name="indicator_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Perception (survey) and administrative (count) measures are not mixed: a survey feed
        makes a population indicator, a safety-data feed a performance measure."""
        super().clean()
        if self.feed == IndicatorFeed.SURVEY and self.kind != IndicatorKind.POPULATION:
            raise ValidationError(
                {"kind": _("An indicator computed from a survey is a population indicator.")}
            )
        if self.feed == IndicatorFeed.SAFETY and self.kind == IndicatorKind.POPULATION:
            raise ValidationError(
                {
                    "kind": _(
                        "An indicator computed from safety data counts calls: it is a "
                        "performance measure, not a population indicator."
                    )
                }
            )


def too_few(n: int | None) -> bool:
    """Whether a figure about `n` people or events is too small to publish
    (``CSAS_SUPPRESSION_THRESHOLD``); None (not a count of people or events) never is."""
    return n is not None and n < settings.SUPPRESSION_THRESHOLD


def publishable() -> Q:
    """Observations whose figures may be published: not suppressed, and n (when given) at or
    above the threshold. The same rule as `Observation.hidden`, for queries."""
    return Q(suppressed=False) & (Q(n__isnull=True) | Q(n__gte=settings.SUPPRESSION_THRESHOLD))


class Observation(models.Model):
    """One value of an indicator for a period, overall or for one group (breakdown).

    An observation of fewer people or events than the threshold is suppressed whatever its
    writer says: `save` sets the flag, and every public reader also checks `hidden`, so a
    threshold raised later applies to figures stored before.
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="observations")
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.FloatField(null=True, blank=True)
    # Survey-based (population) indicators: respondents, margin of error, survey wave.
    n = models.PositiveIntegerField(null=True, blank=True)
    margin_of_error = models.FloatField(null=True, blank=True)
    wave = models.CharField(max_length=32, blank=True)
    # Breakdowns: dimension "" is the overall figure.
    dimension = models.CharField(
        max_length=64, blank=True, help_text=_("e.g. council_district, race_ethnicity")
    )
    group = models.CharField(max_length=120, blank=True)
    suppressed = models.BooleanField(
        default=False, help_text=_("Too few people or events to publish.")
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(
        max_length=200, blank=True, help_text=_("User or API key that wrote it.")
    )

    class Meta:
        ordering = ["indicator", "period_start", "dimension", "group"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period_start", "period_end", "dimension", "group"],
                name="observation_unique",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="observation_period_order",
            ),
        ]
        indexes = [models.Index(fields=["indicator", "period_start"])]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period_start}: {self.value}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if too_few(self.n):
            self.suppressed = True
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "suppressed"}
        super().save(*args, **kwargs)

    @property
    def hidden(self) -> bool:
        """Too few people or events to publish: marked so, or n under the threshold."""
        return self.suppressed or too_few(self.n)


class ApiKey(models.Model):
    """A staff integration that may write observations. Only the key's hash is stored."""

    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=128)
    can_write_observations = models.BooleanField(default=True)
    indicators = models.ManyToManyField(
        Indicator,
        blank=True,
        related_name="api_keys",
        help_text=_("The key may write observations for these indicators only."),
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SheetImportStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected (nothing applied)")


class UpdateSheetImport(models.Model):
    """One upload of a filled-in quarterly update sheet: all rows applied, or none."""

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="imports")
    original_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=SheetImportStatus.choices)
    rows_total = models.PositiveIntegerField(default=0)
    rows_applied = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    # [{"row": 3, "column": "status", "message": "..."}]
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.period})"


class YouSaidWeDid(models.Model):
    """A theme residents raised, what the City heard, and what it did about it (which actions).

    The count of input behind a theme is computed from the feedback items linked to it.
    """

    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="you_said_we_did"
    )
    slug = models.SlugField(max_length=80)
    theme = models.CharField(max_length=200, help_text=_("The theme, in residents' words."))
    what_we_heard = models.TextField()
    what_we_did = models.TextField()
    actions = models.ManyToManyField("strategy.Action", blank=True, related_name="you_said_we_did")
    feedback_items = models.ManyToManyField(
        "engagement.FeedbackItem", blank=True, related_name="you_said_we_did"
    )
    order = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField(default=False)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "order", "theme"]
        verbose_name = _("you said, we did")
        verbose_name_plural = _("you said, we did")
        constraints = [
            models.UniqueConstraint(fields=["strategy", "slug"], name="you_said_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.theme

"""The strategy a city publishes: versions, goals, objectives, actions and the dated plan.

Every piece of strategy content belongs to one `StrategyVersion`: the April 2024 draft and the
adopted December 2025 wording are two complete versions, and the public sees only the version
marked published. Action codes ("3.6") are stable across versions; a goal keeps its number
when it is renamed, so its history can be followed from version to version.

Content that residents read carries a `translations` mapping, language code -> field -> text,
for example ``{"es": {"title": "Lugares seguros"}}``; missing entries fall back to English.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class City(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=200, blank=True, help_text=_("State or province."))

    class Meta:
        verbose_name_plural = "cities"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Strategy(models.Model):
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="strategies")
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    owner_office = models.CharField(
        max_length=200, blank=True, help_text=_("The office that owns the strategy.")
    )
    source_file = models.CharField(
        max_length=300, blank=True, help_text=_("Name of the strategy file last loaded.")
    )
    schema_version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "strategies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ADOPTED = "adopted", _("Adopted")
    SUPERSEDED = "superseded", _("Superseded")


class StrategyVersion(models.Model):
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="versions")
    key = models.SlugField(max_length=64, help_text=_("Stable identifier, e.g. 2025-12-adopted."))
    label = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=VersionStatus.choices)
    dated = models.DateField(help_text=_("Date of this wording (presented or adopted)."))
    is_published = models.BooleanField(
        default=False, help_text=_("The one version the public sees.")
    )
    open_for_comment = models.BooleanField(
        default=False,
        help_text=_(
            "Published as a draft for review: residents and advisory committee members "
            "can read this version and comment section by section."
        ),
    )
    vision = models.TextField(blank=True)
    safety_definition = models.TextField(
        blank=True, help_text=_("The community's definition of safety.")
    )
    summary = models.TextField(blank=True)
    source_note = models.TextField(blank=True, help_text=_("Where this wording comes from."))
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "dated", "key"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "key"], name="version_key_unique"),
            models.UniqueConstraint(
                fields=["strategy"],
                condition=Q(is_published=True),
                name="one_published_version_per_strategy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strategy}: {self.label}"


class Goal(models.Model):
    version = models.ForeignKey(StrategyVersion, on_delete=models.CASCADE, related_name="goals")
    number = models.PositiveSmallIntegerField()
    short_name = models.CharField(max_length=32, help_text=_("e.g. PLACES"))
    title = models.CharField(max_length=300)
    statement = models.TextField(blank=True)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="goal_number_unique"),
            models.UniqueConstraint(fields=["version", "short_name"], name="goal_short_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def code(self) -> str:
        return str(self.number)


class Objective(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="objectives")
    code = models.CharField(max_length=16)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["goal", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "code"], name="objective_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Department(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="departments")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    abbreviation = models.CharField(max_length=16, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="department_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="partners")
    slug = models.SlugField(max_length=64)
    organisation = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    # Contact details are for staff only; public pages never show them.
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="partner_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.organisation


class Horizon(models.TextChoices):
    NOT_STATED = "", _("Not stated")
    NEAR_TERM = "near_term", _("Near-term")
    LONG_TERM = "long_term", _("Long-term")
    SUPPORTING = "supporting", _("Supporting")


class ActionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    ONGOING = "ongoing", _("Ongoing")
    COMPLETE = "complete", _("Complete")
    DEFERRED = "deferred", _("Deferred")


class CodeOrigin(models.TextChoices):
    SOURCE = "source", _("As numbered in the source document")
    ASSIGNED = "assigned", _("Assigned by the strategy office (unnumbered in the source)")


class Action(models.Model):
    version = models.ForeignKey(StrategyVersion, on_delete=models.CASCADE, related_name="actions")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="actions")
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    code = models.CharField(max_length=16, help_text=_("Stable, human-readable code, e.g. 3.6."))
    slug = models.SlugField(max_length=64, help_text=_("Unique within the version; used in URLs."))
    code_origin = models.CharField(
        max_length=16, choices=CodeOrigin.choices, default=CodeOrigin.SOURCE
    )
    data_note = models.TextField(
        blank=True,
        help_text=_("A flag about the data itself, e.g. a code the source uses twice."),
    )
    title = models.CharField(max_length=400)
    description = models.TextField(blank=True)
    horizon = models.CharField(
        max_length=16, choices=Horizon.choices, blank=True, default=Horizon.NOT_STATED
    )
    status = models.CharField(
        max_length=16, choices=ActionStatus.choices, default=ActionStatus.NOT_STARTED
    )
    lead_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="led_actions"
    )
    supporting_departments = models.ManyToManyField(
        Department, blank=True, related_name="supported_actions"
    )
    order = models.PositiveIntegerField(default=0)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords(m2m_fields=[supporting_departments])

    class Meta:
        ordering = ["version", "goal__number", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="action_slug_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def clean(self) -> None:
        super().clean()
        if self.goal_id and self.version_id and self.goal.version_id != self.version_id:
            raise ValidationError({"goal": _("The goal belongs to another strategy version.")})
        if self.objective is not None and self.objective.goal_id != self.goal_id:
            raise ValidationError({"objective": _("The objective belongs to another goal.")})


class ActionPartner(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="partner_roles")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="action_roles")
    role = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["partner__organisation"]
        constraints = [
            models.UniqueConstraint(fields=["action", "partner"], name="action_partner_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} on {self.action.code}"


class FocusPopulation(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="focus_populations")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["goal", "order"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "slug"], name="focus_population_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Workstream(models.Model):
    version = models.ForeignKey(
        StrategyVersion, on_delete=models.CASCADE, related_name="workstreams"
    )
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="workstream_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Milestone(models.Model):
    """A dated step of the plan, spanning one or more calendar quarters."""

    workstream = models.ForeignKey(Workstream, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=300)
    starts_on = models.DateField(help_text=_("First day of the first quarter."))
    ends_on = models.DateField(help_text=_("Last day of the last quarter."))
    order = models.PositiveIntegerField(default=0)
    data_note = models.TextField(blank=True)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["workstream", "starts_on", "order"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A milestone cannot end before it starts.")})


class DiscussionQuestion(models.Model):
    version = models.ForeignKey(
        StrategyVersion, on_delete=models.CASCADE, related_name="discussion_questions"
    )
    text = models.CharField(max_length=500)
    order = models.PositiveIntegerField(default=0)
    translations = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.text


class GeographyKind(models.TextChoices):
    CITY = "city", _("City")
    COUNCIL_DISTRICT = "council_district", _("Council district")
    NEIGHBORHOOD_COUNCIL_DISTRICT = (
        "neighborhood_council_district",
        _("Neighborhood council district"),
    )
    POLICE_DISTRICT = "police_district", _("Police district")
    BLOCK_GROUP = "block_group", _("Census block group")


class Geography(models.Model):
    """An area of the city. Geometry is GeoJSON in WGS84 longitude/latitude.

    Kinds do not necessarily nest (some block groups straddle council districts), so nothing
    here assumes they do; population moves between kinds by areal interpolation.
    """

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="geographies")
    kind = models.CharField(max_length=40, choices=GeographyKind.choices)
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    population = models.PositiveIntegerField(null=True, blank=True)
    attributes: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(
        default=dict, blank=True, help_text=_("Demographic shares and index values.")
    )
    geometry = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "geographies"
        ordering = ["city", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["city", "kind", "code"], name="geography_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

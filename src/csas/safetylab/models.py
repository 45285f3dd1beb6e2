"""Stored results of the safety data lab: aggregates only.

A `SafetyAnalysis` is one output folder of `csas safety analyze` (see docs/safety.md) loaded
into the database: its ``summary.json`` and ``eligibility.json`` as JSON, and each published
CSV table as rows. Everything here was already aggregated and suppressed by the library
(every count under the threshold, 10, withheld along with every figure derived from it);
nothing is recomputed on the way in. No call, no point and no area smaller than a 2020
census block group is ever stored: the models have no field that could hold one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from csas.strategy.models import GeographyKind, Strategy

#: The district geographies the lab publishes rates for (the pipeline's keys -> our kinds).
DISTRICT_KINDS: dict[str, str] = {
    "council_district": GeographyKind.COUNCIL_DISTRICT,
    "neighborhood_council": GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT,
    "police_district": GeographyKind.POLICE_DISTRICT,
}


class DataKind(models.TextChoices):
    """What the analysed rows are: the ingestion profile's kind (``summary.input.kind``)."""

    CALLS = "calls", _("Calls for service")
    INCIDENTS = "incidents", _("Crime incidents")
    REQUESTS = "requests", _("Service requests (311)")


#: The kinds the public safety pages describe. Their words (calls, dispatch, arrival,
#: alternative responses) fit calls for service only; the other kinds' analyses serve staff.
PUBLISHABLE_KINDS: tuple[str, ...] = (DataKind.CALLS,)


class SafetyAnalysis(models.Model):
    """One `csas safety analyze` output folder, as loaded. Public only once published, and
    only an analysis of calls for service can be published (`PUBLISHABLE_KINDS`)."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="safety_analyses")
    title = models.CharField(max_length=200)
    is_synthetic = models.BooleanField(
        default=False, help_text=_("Made-up calls (csas safety synth), not real data.")
    )
    kind = models.CharField(
        max_length=20,
        choices=DataKind.choices,
        default=DataKind.CALLS,
        help_text=_("What the analysed rows are (the ingestion profile's kind)."),
    )
    source = models.CharField(
        max_length=500, blank=True, help_text=_("Where the calls came from, in words.")
    )
    received_from = models.DateTimeField(null=True, blank=True)
    received_to = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    is_published = models.BooleanField(default=False)
    summary: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(
        default=dict, help_text=_("summary.json as written by csas safety analyze.")
    )
    eligibility: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(
        default=dict, help_text=_("eligibility.json as written by csas safety analyze.")
    )

    class Meta:
        verbose_name_plural = "safety analyses"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def public() -> models.Q:
        """The condition of an analysis the public may see: published, of a publishable kind
        (checked on reading too, so that a row changed outside the services is never shown in
        the wrong words)."""
        return models.Q(is_published=True, kind__in=PUBLISHABLE_KINDS)

    def clean(self) -> None:
        calls = (self.summary.get("input") or {}).get("calls")
        if self.is_published and not calls:
            raise ValidationError(
                {
                    "is_published": _(
                        "This analysis has fewer than %(threshold)s calls: every figure in it "
                        "is withheld, so there is nothing to publish."
                    )
                    % {"threshold": self.threshold}
                }
            )
        if self.is_published and self.kind not in PUBLISHABLE_KINDS:
            raise ValidationError(
                {
                    "is_published": _(
                        "Only an analysis of calls for service can be published: the public "
                        "safety pages speak of calls, dispatch and arrival, and alternative "
                        "responses. This analysis is of %(kind)s; it stays a draft for staff."
                    )
                    % {"kind": self.get_kind_display().lower()}
                }
            )

    @property
    def threshold(self) -> int:
        """Counts under this were withheld by the analysis (10 unless it was run otherwise)."""
        value = self.summary.get("parameters", {}).get("threshold", 10)
        return int(value) if isinstance(value, int) else 10


class SafetyAreaRate(models.Model):
    """Calls in one district and local month, per 1,000 residents (rates_<geography>.csv)."""

    analysis = models.ForeignKey(SafetyAnalysis, on_delete=models.CASCADE, related_name="rates")
    kind = models.CharField(max_length=40, choices=GeographyKind.choices)
    area_code = models.CharField(max_length=64)
    month = models.CharField(max_length=7, help_text=_("YYYY-MM, local time."))
    calls = models.PositiveIntegerField(null=True, blank=True)
    rate_per_1000 = models.FloatField(null=True, blank=True)
    rate_low = models.FloatField(null=True, blank=True)
    rate_high = models.FloatField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)

    class Meta:
        ordering = ["analysis", "kind", "area_code", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "kind", "area_code", "month"], name="safety_rate_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.area_code} {self.month}"


class SafetyCallsWithoutArea(models.Model):
    """Calls outside every district of a geography or without a location, per month."""

    analysis = models.ForeignKey(
        SafetyAnalysis, on_delete=models.CASCADE, related_name="calls_without_area"
    )
    kind = models.CharField(max_length=40, choices=GeographyKind.choices)
    month = models.CharField(max_length=7)
    calls = models.PositiveIntegerField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)

    class Meta:
        ordering = ["analysis", "kind", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "kind", "month"], name="safety_without_area_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} (no area) {self.month}"


class SafetyResponseTime(models.Model):
    """Minutes to dispatch or arrival for calls not started by an officer, by priority,
    citywide (empty council district) or per council district (response_times.csv)."""

    analysis = models.ForeignKey(
        SafetyAnalysis, on_delete=models.CASCADE, related_name="response_times"
    )
    priority = models.CharField(max_length=20)
    council_district = models.CharField(
        max_length=64, blank=True, help_text=_("Empty for the citywide figure.")
    )
    interval = models.CharField(max_length=20, help_text=_("dispatch or arrival"))
    n = models.PositiveIntegerField(null=True, blank=True)
    median_min = models.FloatField(null=True, blank=True)
    median_low = models.FloatField(null=True, blank=True)
    median_high = models.FloatField(null=True, blank=True)
    p90_min = models.FloatField(null=True, blank=True)
    p90_low = models.FloatField(null=True, blank=True)
    p90_high = models.FloatField(null=True, blank=True)
    ratio_to_city = models.FloatField(null=True, blank=True)
    ratio_low = models.FloatField(null=True, blank=True)
    ratio_high = models.FloatField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)

    class Meta:
        ordering = ["analysis", "interval", "priority", "council_district"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "priority", "council_district", "interval"],
                name="safety_response_time_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.interval} P{self.priority} {self.council_district or 'citywide'}"


class SafetyTimeProfileCell(models.Model):
    """Eligible calls by local weekday and hour, citywide (eligible_time_profile.csv).

    ``weekday = "all"`` rows are the hour-of-day totals; ``hour = None`` rows the weekday
    totals. Cells withheld by complementary suppression are marked as such.
    """

    analysis = models.ForeignKey(
        SafetyAnalysis, on_delete=models.CASCADE, related_name="time_profile"
    )
    definition = models.CharField(max_length=20, help_text=_("by_type or after_screening"))
    weekday = models.CharField(max_length=3, help_text=_("Mon ... Sun, or all"))
    hour = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Empty: all"))
    calls = models.PositiveIntegerField(null=True, blank=True)
    share = models.FloatField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)
    suppression = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["analysis", "definition", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "definition", "weekday", "hour"],
                name="safety_profile_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition} {self.weekday} {self.hour}"


class SafetyBlockGroupHotspot(models.Model):
    """Getis-Ord Gi* for one 2020 census block group (hotspots_block_groups.csv).

    The block group is the smallest area stored anywhere in the lab.
    """

    analysis = models.ForeignKey(SafetyAnalysis, on_delete=models.CASCADE, related_name="hotspots")
    measure = models.CharField(max_length=40, help_text=_("all_calls or eligible_after_screening"))
    geoid = models.CharField(max_length=12, help_text=_("12-digit block group GEOID"))
    calls = models.PositiveIntegerField(null=True, blank=True)
    z = models.FloatField(null=True, blank=True)
    p = models.FloatField(null=True, blank=True)
    q = models.FloatField(null=True, blank=True)
    classification = models.CharField(max_length=20)
    suppressed = models.BooleanField(default=False)

    class Meta:
        ordering = ["analysis", "measure", "geoid"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "measure", "geoid"], name="safety_hotspot_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.geoid}"


class SafetyAreaEligibility(models.Model):
    """A district's calls started by the public and the share eligible for an alternative
    response, by call type alone (high) and after screening (low) (eligibility_by_area.csv).

    Empty figures were withheld by the analysis (fewer than 10 calls, a small remainder, or
    complementary suppression).
    """

    analysis = models.ForeignKey(
        SafetyAnalysis, on_delete=models.CASCADE, related_name="area_eligibility"
    )
    kind = models.CharField(max_length=40, choices=GeographyKind.choices)
    area_code = models.CharField(max_length=64)
    calls = models.PositiveIntegerField(null=True, blank=True)
    eligible_by_type = models.PositiveIntegerField(null=True, blank=True)
    eligible_after_screening = models.PositiveIntegerField(null=True, blank=True)
    share_by_type = models.FloatField(null=True, blank=True)
    share_after_screening = models.FloatField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)

    class Meta:
        ordering = ["analysis", "kind", "area_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "kind", "area_code"], name="safety_area_eligibility_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.area_code} eligibility"


class SafetyDistrictHourCell(models.Model):
    """Eligible calls in one council district and local hour of the week (Monday 00:00 = 0)
    (eligible_time_by_district.csv)."""

    analysis = models.ForeignKey(
        SafetyAnalysis, on_delete=models.CASCADE, related_name="district_hours"
    )
    definition = models.CharField(max_length=20, help_text=_("by_type or after_screening"))
    council_district = models.CharField(max_length=64)
    hour_of_week = models.PositiveSmallIntegerField(help_text=_("0-167, Monday 00:00 first"))
    calls = models.PositiveIntegerField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)
    suppression = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["analysis", "definition", "council_district", "hour_of_week"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "definition", "council_district", "hour_of_week"],
                name="safety_district_hour_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition} {self.council_district} {self.hour_of_week}"

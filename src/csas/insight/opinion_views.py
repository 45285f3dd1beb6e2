"""Staff pages: opinion groups of imported Polis conversations, and survey priorities."""

from __future__ import annotations

import html
import math

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_safe

from csas.engagement.models import Survey
from csas.insight import opinion_selectors
from csas.insight.access import strategy_for_office as _strategy_office
from csas.insight.opinion_selectors import ConversationAnalysis
from csas.insight.selectors import survey_priorities

# Group marks differ in shape as well as colour, so the chart does not rely on colour alone.
# Every colour has at least 3:1 contrast on white (WCAG 1.4.11).
GROUP_STYLES = (
    ("#1d4f91", "circle"),
    ("#a4343a", "square"),
    ("#2e6b30", "triangle"),
    ("#6a3d9a", "diamond"),
    ("#7a4b00", "cross"),
)
INK = "#1b1f24"
MUTED = "#4a525c"
GRID = "#c9d0d8"


@require_safe
@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    strategy = _strategy_office(request)
    return render(
        request,
        "insight/opinion/conversation_list.html",
        {"conversations": list(opinion_selectors.conversation_list(strategy=strategy))},
    )


@require_safe
@login_required
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = _strategy_office(request)
    batch = opinion_selectors.conversation_get(strategy=strategy, pk=pk)
    if batch is None:
        raise Http404("No such conversation.")
    analysis = opinion_selectors.conversation_opinion_groups(batch)
    return render(
        request,
        "insight/opinion/conversation_detail.html",
        {
            "analysis": analysis,
            "chart": opinion_map_svg(analysis) if analysis.result is not None else "",
        },
    )


@require_safe
@login_required
def priorities(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = _strategy_office(request)
    survey = Survey.objects.filter(pk=pk, strategy=strategy).first()
    if survey is None:
        raise Http404("No such survey.")
    return render(
        request, "insight/opinion/priorities.html", {"priorities": survey_priorities(survey)}
    )


def _e(text: object) -> str:
    return html.escape(str(text))


def _mark(shape: str, x: float, y: float, colour: str, size: float = 4.0) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" fill="{colour}"/>'
    if shape == "square":
        return (
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size:.1f}" '
            f'height="{2 * size:.1f}" fill="{colour}"/>'
        )
    if shape == "triangle":
        points = (
            f"{x:.1f},{y - size * 1.2:.1f} {x - size:.1f},{y + size:.1f} "
            f"{x + size:.1f},{y + size:.1f}"
        )
        return f'<polygon points="{points}" fill="{colour}"/>'
    if shape == "diamond":
        s = size * 1.25
        points = f"{x:.1f},{y - s:.1f} {x + s:.1f},{y:.1f} {x:.1f},{y + s:.1f} {x - s:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    return (
        f'<path d="M{x - size:.1f} {y - size:.1f}L{x + size:.1f} {y + size:.1f}'
        f'M{x - size:.1f} {y + size:.1f}L{x + size:.1f} {y - size:.1f}" '
        f'stroke="{colour}" stroke-width="2.5"/>'
    )


def opinion_map_svg(
    analysis: ConversationAnalysis, *, width: int = 640, height: int = 440
) -> SafeString:
    """The participants' positions on the opinion map (the first two principal components)
    as an accessible inline SVG. Participants of groups whose size is hidden are not drawn,
    nor are ungrouped participants when their number is hidden."""
    result = analysis.result
    if result is None:
        return SafeString("")
    shown_groups = {g.index for g in analysis.groups if not g.hidden}
    points: list[tuple[float, float, int | None]] = []
    for participant, (x, y) in result.projections.items():
        group = result.groups.get(participant)
        if group is None:
            if analysis.n_not_grouped is not None:
                points.append((x, y, None))
        elif group in shown_groups:
            points.append((x, y, group))
    if not all(math.isfinite(v) for x, y, _ in points for v in (x, y)):
        return SafeString("")
    left, right, top, bottom = 56, 20, 56, 48
    xs = [p[0] for p in points] or [0.0]
    ys = [p[1] for p in points] or [0.0]
    span = max(max(map(abs, xs)), max(map(abs, ys)), 1e-9) * 1.1
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x + span) / (2 * span) * plot_w

    def sy(y: float) -> float:
        return top + (span - y) / (2 * span) * plot_h

    first, second = result.explained_variance
    title = gettext("Opinion map of the participants")
    hidden_groups = len(result.sizes) - len(shown_groups)
    desc = " ".join(
        [
            ngettext(
                "Each mark is one participant, placed by how they voted: %(n)s participant drawn.",
                "Each mark is one participant, placed by how they voted: %(n)s participants drawn.",
                len(points),
            )
            % {"n": len(points)},
            gettext(
                "Participants close together voted alike. The horizontal axis is the first "
                "principal component (%(first)s%% of the variation), the vertical the second "
                "(%(second)s%%)."
            )
            % {"first": round(first * 100), "second": round(second * 100)},
            ngettext(
                "%(n)s group is not drawn because it is too small to show.",
                "%(n)s groups are not drawn because they are too small to show.",
                hidden_groups,
            )
            % {"n": hidden_groups}
            if hidden_groups
            else "",
            gettext("Group sizes and centres are in the table below."),
        ]
    ).strip()
    chart_id = f"opinion-map-{analysis.batch.pk}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        f'stroke="{GRID}"/>',
        f'<line x1="{sx(0):.1f}" y1="{top}" x2="{sx(0):.1f}" y2="{top + plot_h}" stroke="{GRID}"/>',
        f'<line x1="{left}" y1="{sy(0):.1f}" x2="{left + plot_w}" y2="{sy(0):.1f}" '
        f'stroke="{GRID}"/>',
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 14}" text-anchor="middle" '
        f'fill="{MUTED}">{_e(gettext("First component"))}</text>',
        f'<text x="16" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="{MUTED}" '
        f'transform="rotate(-90 16 {top + plot_h / 2:.1f})">'
        f"{_e(gettext('Second component'))}</text>",
    ]
    for x, y, group in points:
        if group is None:
            parts.append(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="none" '
                f'stroke="{MUTED}" stroke-width="1.5"/>'
            )
        else:
            colour, shape = GROUP_STYLES[group % len(GROUP_STYLES)]
            parts.append(_mark(shape, sx(x), sy(y), colour))
    # legend, one entry per drawn group, plus ungrouped participants
    legend_x = left
    for summary in analysis.groups:
        if summary.hidden:
            continue
        colour, shape = GROUP_STYLES[summary.index % len(GROUP_STYLES)]
        label = gettext("Group %(number)s") % {"number": summary.number}
        parts.append(_mark(shape, legend_x + 6, 24, colour, 5))
        parts.append(f'<text x="{legend_x + 16}" y="28" fill="{INK}">{_e(label)}</text>')
        legend_x += 24 + 7 * len(label)
        if summary.centroid is not None:
            cx, cy = sx(summary.centroid[0]), sy(summary.centroid[1])
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none" stroke="{INK}" '
                f'stroke-width="2"/>'
            )
            parts.append(
                f'<text x="{cx + 12:.1f}" y="{cy - 10:.1f}" fill="{INK}" '
                f'font-weight="bold">{summary.number}</text>'
            )
    if analysis.n_not_grouped:
        label = gettext("Not grouped (too few votes)")
        parts.append(
            f'<circle cx="{left + 6}" cy="42" r="4" fill="none" stroke="{MUTED}" '
            f'stroke-width="1.5"/>'
        )
        parts.append(f'<text x="{left + 16}" y="46" fill="{INK}">{_e(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped

"""The run report's two charts as inline SVG (pygal): throughput over the run and time per PO.

Each chart is drawn from numbers and labels popool makes itself (clock times, second ranges), never from portal
text, and without any script (pygal's tooltip script and its config are left out), so the SVG can go into the page
as is and needs no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.etree import etree as svg_etree
from pygal.style import Style

# The report's own palette (see templates/run_report.html.j2).
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACCENT = "#1565c0"
FONT = "'Segoe UI', 'Helvetica Neue', Arial, sans-serif"
WIDTH, HEIGHT = 560, 300  # the page shows each chart about this wide, so its text keeps its size
MAX_X_LABELS = 12


@dataclass(frozen=True, slots=True)
class Series:
    """Bars or points of one chart: a label and a value each."""

    labels: tuple[str, ...]
    values: tuple[float, ...]
    y_title: str
    x_title: str  # empty: none (the section heading says it)


def _style() -> Style:
    return Style(
        background="transparent",
        plot_background="transparent",
        foreground=INK,
        foreground_strong=INK,
        foreground_subtle=GRID,
        colors=(ACCENT,),
        font_family=FONT,
        label_font_family=FONT,
        major_label_font_family=FONT,
        title_font_family=FONT,
        value_font_family=FONT,
        label_font_size=12,
        major_label_font_size=12,
        title_font_size=13,
        value_colors=(INK,),
        value_font_size=12,
        opacity=".85",
        opacity_hover=".95",
        guide_stroke_color=GRID,
        major_guide_stroke_color=GRID,
    )


def _config(series: Series) -> dict[str, object]:
    every = max(1, -(-len(series.labels) // MAX_X_LABELS))
    return dict(
        style=_style(),
        width=WIDTH,
        height=HEIGHT,
        explicit_size=False,  # a viewBox only: the chart scales with the page
        show_legend=False,
        js=[],
        disable_xml_declaration=True,
        x_title=series.x_title or None,
        y_title=series.y_title,
        show_minor_x_labels=every == 1,
        x_labels_major_every=every,
        truncate_label=-1,
        margin=12,
        no_data_text="No PO finished in this run",
        include_x_axis=True,
        show_x_guides=False,
    )


def _render(chart: pygal.graph.graph.Graph, series: Series) -> str:
    chart.x_labels = list(series.labels)
    chart.add(series.y_title, list(series.values))
    tree = chart.render_tree()
    # pygal always adds a script with its config (for its tooltips), and comments; the report runs no script.
    for parent in tree.iter():
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag.endswith("script"):
                parent.remove(child)
    return str(svg_etree.tostring(tree, encoding="unicode"))  # lxml's or the standard library's, as pygal chose


def throughput_svg(series: Series) -> str:
    """POs finished per minute, one point per interval of the run."""
    chart = pygal.Line(fill=True, show_dots=len(series.values) <= 40, dots_size=2.5, **_config(series))
    return _render(chart, series)


def durations_svg(series: Series) -> str:
    """How many POs took how long: one bar per time range."""
    chart = pygal.Bar(
        spacing=4,
        print_values=len(series.values) <= 16,
        print_values_position="top",
        print_zeroes=False,
        x_label_rotation=30 if len(series.values) > 8 else 0,
        **_config(series),
    )
    return _render(chart, series)


def nice_step(span: float, most: int, steps: Sequence[float]) -> float:
    """The smallest of `steps` that cuts `span` into at most `most` pieces (the largest step if none does)."""
    return next((step for step in steps if span / step <= most), steps[-1])

"""The site's renderings of a time, in the reader's time zone (Asia/Shanghai).

Django's `date` filter parses its format string at every call: ~70 µs for a
card's two times, ~2 ms of the home page's ~30 cards, headlines and wire items
(docs/BENCHMARKS.md, "Uncached page speed"). These give the same text.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from django import template
from django.utils import timezone

register = template.Library()

# reader_time's styles, each the `date` format it stands for.
STYLES: dict[str, Callable[[dt.datetime], str]] = {
    "full": lambda t: f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}",  # Y年n月j日 H:i
    "date": lambda t: f"{t.year}年{t.month}月{t.day}日",  # Y年n月j日
    "day_time": lambda t: f"{t.month}月{t.day}日 {t:%H:%M}",  # n月j日 H:i
    "day": lambda t: f"{t.month}月{t.day}日",  # n月j日
    "clock": lambda t: f"{t:%H:%M}",  # H:i
}


@register.filter
def iso_time(value: dt.datetime | None) -> str:
    """For <time datetime>: 2022-06-12T08:30:00+0800 (as `date:'Y-m-d\\TH:i:sO'`)."""
    if not isinstance(value, dt.datetime):
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S%z")


@register.filter
def reader_time(value: dt.datetime | None, style: str = "full") -> str:
    """For readers, in one of STYLES: "full" 2022年6月12日 08:30, "clock" 08:30, …"""
    if not isinstance(value, dt.datetime):
        return ""
    return STYLES[style](timezone.localtime(value))

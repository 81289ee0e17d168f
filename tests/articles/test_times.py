"""The site's time filters (articles/templatetags/times.py) print exactly what Django's `date` filter would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone

from articles.templatetags.times import STYLES

FORMATS = {"full": "Y年n月j日 H:i", "date": "Y年n月j日", "day_time": "n月j日 H:i", "day": "n月j日", "clock": "H:i"}
MOMENTS = [
    dt.datetime(2022, 6, 11, 16, 0, tzinfo=dt.timezone.utc),  # midnight in Beijing: the next day
    dt.datetime(2022, 6, 11, 15, 59, 59, tzinfo=dt.timezone.utc),
    dt.datetime(2019, 12, 31, 23, 30, tzinfo=dt.timezone.utc),  # a new year in Beijing only
    dt.datetime(2024, 2, 29, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))),  # another zone's time
    timezone.now(),
]


def render(source: str, moment) -> str:
    return Template("{% load times %}" + source).render(Context({"t": moment}))


@pytest.mark.parametrize("moment", MOMENTS)
def test_each_style_prints_what_the_date_filter_prints_in_beijing(moment):
    assert set(STYLES) == set(FORMATS)
    for style, date_format in FORMATS.items():
        assert render(f'{{{{ t|reader_time:"{style}" }}}}', moment) == render(f'{{{{ t|date:"{date_format}" }}}}', moment)
    assert render("{{ t|reader_time }}", moment) == render('{{ t|date:"Y年n月j日 H:i" }}', moment)
    assert render("{{ t|iso_time }}", moment) == render("{{ t|date:'Y-m-d\\TH:i:sO' }}", moment)


def test_no_time_prints_nothing():
    assert render("[{{ t|iso_time }}][{{ t|reader_time }}]", None) == "[][]"

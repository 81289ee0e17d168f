"""The admin's headline slots (要闻/头条): Editors place, end and remove them; Authors may not.

A placement is history: once saved, only its end time changes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles import front
from articles.models import Category, HeadlineSlot
from tests.factories import chain, html, publish, staff

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def local(moment: dt.datetime) -> dict[str, str]:
    """A split date/time widget's fields for `moment` (Beijing time)."""
    moment = timezone.localtime(moment)
    return {"0": moment.strftime("%Y-%m-%d"), "1": moment.strftime("%H:%M:%S")}


def slot_form(article, position: int = 0, starts: dt.datetime | None = None, ends: dt.datetime | None = None) -> dict:
    starts = local(starts or timezone.now() - dt.timedelta(minutes=1))
    data = {"position": str(position), "article": str(article.pk),
            "starts_at_0": starts["0"], "starts_at_1": starts["1"], "ends_at_0": "", "ends_at_1": ""}
    if ends is not None:
        ends_fields = local(ends)
        data.update(ends_at_0=ends_fields["0"], ends_at_1=ends_fields["1"])
    return data


def test_an_editor_places_a_lead_story_that_the_home_page_shows(client):
    editor = staff("desk", "Editors")
    chosen = publish("编辑部的头条", timezone.now() - dt.timedelta(days=20), categories=[chain("金融")])
    publish("更新的新闻", categories=[chain("金融")])
    response = logged_in(editor).post(reverse("admin:articles_headlineslot_add"), slot_form(chosen))
    assert response.status_code == 302, response.content.decode()[:2000]
    slot = HeadlineSlot.objects.get()
    assert slot.created_by == editor and slot.article == chosen and slot.position == HeadlineSlot.Position.LEAD
    page = html(client.get("/"))
    lead = page[page.index('class="lead-story"'):page.index("</article>", page.index('class="lead-story"'))]
    assert "编辑部的头条" in lead


def test_a_saved_placement_changes_only_its_end_time(client):
    editor = staff("desk", "Editors")
    first = publish("原头条", timezone.now() - dt.timedelta(days=3))
    other = publish("别的文章")
    slot = HeadlineSlot.objects.create(position=0, article=first, starts_at=timezone.now() - dt.timedelta(hours=1))
    desk = logged_in(editor)
    change = reverse("admin:articles_headlineslot_change", args=[slot.pk])
    form = html(desk.get(change))
    assert 'name="ends_at_0"' in form and 'name="article"' not in form
    data = {**slot_form(other, position=3), **{f"ends_at_{k}": v for k, v in local(timezone.now()).items()}}
    assert desk.post(change, data).status_code == 302
    slot.refresh_from_db()
    assert slot.article == first and slot.position == 0 and slot.ends_at is not None
    assert front.live_slots() == {}
    page = html(client.get("/"))
    assert "原头条" not in page[page.index('class="lead-story"'):page.index("</article>")]


def test_a_placement_cannot_end_before_it_starts():
    editor = staff("desk", "Editors")
    article = publish("文章")
    now = timezone.now()
    response = logged_in(editor).post(reverse("admin:articles_headlineslot_add"),
                                      slot_form(article, starts=now, ends=now - dt.timedelta(hours=1)))
    assert response.status_code == 200 and not HeadlineSlot.objects.exists()


def test_authors_may_not_see_or_place_slots():
    author = staff("writer", "Authors")
    article = publish("作者的文章", created_by=author)
    slot = HeadlineSlot.objects.create(position=0, article=article)
    writer = logged_in(author)
    assert writer.get(reverse("admin:articles_headlineslot_changelist")).status_code == 403
    assert writer.get(reverse("admin:articles_headlineslot_add")).status_code == 403
    assert writer.post(reverse("admin:articles_headlineslot_add"), slot_form(article, 1)).status_code == 403
    assert writer.post(reverse("admin:articles_headlineslot_delete", args=[slot.pk]), {"post": "yes"}).status_code == 403
    assert HeadlineSlot.objects.count() == 1


def test_editors_see_the_history_and_what_shows_now():
    editor = staff("desk", "Editors")
    old, new = publish("上午的头条"), publish("下午的头条")
    HeadlineSlot.objects.create(position=0, article=old, starts_at=timezone.now() - dt.timedelta(hours=5))
    HeadlineSlot.objects.create(position=0, article=new)
    page = html(logged_in(editor).get(reverse("admin:articles_headlineslot_changelist")))
    assert "上午的头条" in page and "下午的头条" in page
    assert page.count('alt="True"') == 1  # the afternoon's; the morning's ended when it was replaced


def test_editors_set_the_channels_front_page_order(client):
    editor = staff("desk", "Editors")
    finance = chain("金融")
    for n in range(8):  # more than the 要闻 block takes
        publish(f"金融新闻{n}", categories=[finance])
        publish(f"科技新闻{n}", categories=[chain("科技")])
    response = logged_in(editor).post(reverse("admin:articles_category_change", args=[finance.pk]),
                                      {"name": "金融", "slug": finance.slug, "parent": "", "front_order": "1"})
    assert response.status_code == 302
    assert Category.objects.get(pk=finance.pk).front_order == 1
    page = html(client.get("/"))
    sections = page[page.index('class="sections"'):page.index("最新文章")]
    assert ">金融</a></h2>" in sections and ">科技</a></h2>" not in sections


def test_only_a_top_level_category_takes_a_front_page_position():
    editor = staff("desk", "Editors")
    sub = chain("金融", "证券")
    response = logged_in(editor).post(reverse("admin:articles_category_change", args=[sub.pk]),
                                      {"name": "证券", "slug": sub.slug, "parent": str(sub.parent_id), "front_order": "1"})
    assert response.status_code == 200 and Category.objects.get(pk=sub.pk).front_order is None

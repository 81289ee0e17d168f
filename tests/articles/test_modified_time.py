"""The article's last-modified time (`updated_at`, Hexo's `updated`) where the site shows it, and what moves it.

Shown as `Article.modified_at`: JSON-LD dateModified, <meta property="article:modified_time">,
sitemap lastmod (a Beijing day), Atom <updated> and the API's updated_at (Beijing time) —
never earlier than the publication time. A save that changes nothing a reader sees (an
admin save of an unchanged form, publishing) leaves it; an editor's real change moves it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from articles.models import Article
from tests.factories import chain, change_form, change_url, changelist, post

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PUBLISHED = dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)
# 04:00 on 3 May in Beijing: still 2 May in UTC, so a day written in the wrong zone shows.
UPDATED = dt.datetime(2022, 5, 2, 20, 0, tzinfo=UTC)


def imported(run_import, write_post, **fields: str) -> Article:
    result = run_import(write_post("a.md", post(**fields)))
    assert result.exit_code == 0, result.stderr
    return Article.objects.get()


def shown(client, article: Article) -> dict[str, str]:
    """Every place the site shows the article's last-modified time, as written there."""
    page = client.get(article.get_absolute_url()).content.decode()
    [ld] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    [meta] = re.findall(r'<meta property="article:modified_time" content="([^"]+)">', page)
    atom = ET.fromstring(client.get("/feed/atom/").content)
    [entry] = atom.findall(f"{ATOM}entry")
    [url] = ET.fromstring(client.get("/sitemap-2022.xml").content).findall(f"{SM}url")
    api = client.get(f"/api/v1/articles/{article.pk}/").json()
    return {"json-ld": json.loads(ld)["dateModified"], "meta": meta, "atom": entry.findtext(f"{ATOM}updated"),
            "sitemap": url.findtext(f"{SM}lastmod"), "api": api["updated_at"]}


def test_an_imported_updated_is_shown_everywhere(client, run_import, write_post):
    article = imported(run_import, write_post, updated="2022-05-03 04:00:00")  # naive: Beijing time
    assert article.updated_at == UPDATED
    places = shown(client, article)
    assert places["api"] == places["meta"] == "2022-05-03T04:00:00+08:00"  # Beijing time, as elsewhere
    assert dt.datetime.fromisoformat(places["json-ld"]) == dt.datetime.fromisoformat(places["atom"]) == UPDATED
    assert places["sitemap"] == "2022-05-03"  # the Beijing day


def test_an_updated_earlier_than_the_publication_is_stored_but_shown_as_the_publication(
        client, run_import, write_post):
    article = imported(run_import, write_post, updated="2020-01-01 00:00:00")
    assert article.updated_at == dt.datetime(2019, 12, 31, 16, 0, tzinfo=UTC)  # as given
    assert article.modified_at == article.published_at == PUBLISHED
    places = shown(client, article)
    assert dt.datetime.fromisoformat(places["json-ld"]) == dt.datetime.fromisoformat(places["atom"]) == PUBLISHED
    assert places["api"] == places["meta"] == "2022-04-30T09:33:09+08:00" and places["sitemap"] == "2022-04-30"
    # The sitemap index's lastmod for the year too.
    index = client.get("/sitemap.xml").content.decode()
    assert "<lastmod>2022-04-30" in index and "2019-12-31" not in index


# --- what moves it ---------------------------------------------------------------------------------


def test_an_admin_save_that_changes_nothing_leaves_it_and_a_real_edit_moves_it(editor, run_import, write_post):
    article = imported(run_import, write_post, updated="2022-05-03 04:00:00")
    assert editor.post(change_url(article), change_form(article)).status_code == 302
    article.refresh_from_db()
    assert article.updated_at == UPDATED
    before = timezone.now()
    assert editor.post(change_url(article), change_form(article, body="<p>编辑改过的正文</p>")).status_code == 302
    article.refresh_from_db()
    assert article.body == "<p>编辑改过的正文</p>" and before <= article.updated_at <= timezone.now()


def test_publishing_leaves_it_and_so_does_a_later_unchanged_save(editor, run_import, write_post):
    article = imported(run_import, write_post, updated="2022-05-03 04:00:00", published="false")
    assert article.status == Article.Status.DRAFT
    editor.post(changelist("article"), {"action": "publish", "_selected_action": [str(article.pk)]})
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.updated_at == UPDATED
    # The publication's revision stays (an editor did something), with the time it kept.
    assert article.history.latest("history_date").updated_at == UPDATED
    assert editor.post(change_url(article), change_form(article)).status_code == 302
    article.refresh_from_db()
    assert article.updated_at == UPDATED


def test_moving_to_another_category_moves_it(editor, run_import, write_post):
    article = imported(run_import, write_post, updated="2022-05-03 04:00:00", categories="[金融]")
    target = chain("科技", "36kr")
    editor.post(changelist("article"), {"action": "move_to_category", "_selected_action": [str(article.pk)],
                                        "apply": "1", "category": str(target.pk)})
    article.refresh_from_db()
    assert set(article.categories.values_list("path", flat=True)) == {"科技", "科技/36kr"}
    assert article.updated_at > UPDATED


def test_a_plain_save_moves_it_unless_asked_to_keep_it():
    article = Article.objects.create(title="稿", body="<p>正文</p>", published_at=PUBLISHED)
    Article.objects.filter(pk=article.pk).update(updated_at=UPDATED)
    article.refresh_from_db()
    article.save(keep_updated_at=True)
    assert Article.objects.get(pk=article.pk).updated_at == UPDATED
    article.save()
    assert Article.objects.get(pk=article.pk).updated_at > UPDATED

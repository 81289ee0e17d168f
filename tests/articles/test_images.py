"""Placeholder services' pictures are not shown (articles.images); pages load the image script."""

from __future__ import annotations

import re

import pytest

from articles.images import is_placeholder, usable_image
from tests.factories import html, publish

PICSUM = "https://picsum.photos/400/300?random=2661"
CLS = "https://img.cls.cn/images/20220429/2451e5nC7Z.jpg"


@pytest.mark.parametrize(("url", "placeholder"), [
    (PICSUM, True),
    ("https://fastly.picsum.photos/id/1/400/300.jpg", True),  # a subdomain
    ("HTTPS://PICSUM.PHOTOS/400/300", True),
    (CLS, False),
    ("https://notpicsum.photos/x.jpg", False),  # only the host and its subdomains
    ("/media/2022/04/chart.png", False),  # the site's own
])
def test_placeholder_hosts(url, placeholder):
    assert is_placeholder(url) is placeholder


def test_the_host_list_is_a_setting(settings):
    settings.NEWSPORTAL_PLACEHOLDER_IMAGE_HOSTS = ["placehold.co"]
    assert is_placeholder("https://placehold.co/600x400") and not is_placeholder(PICSUM)
    settings.NEWSPORTAL_PLACEHOLDER_IMAGE_HOSTS = []
    assert usable_image(PICSUM) == PICSUM


def test_usable_image_is_the_first_real_one():
    assert usable_image(PICSUM, CLS) == CLS
    assert usable_image("", PICSUM) == ""


@pytest.mark.django_db
def test_a_story_with_only_a_placeholder_picture_gets_a_text_card(client):
    publish("镜像的报道", thumbnail=PICSUM, head_image=PICSUM)
    publish("有图的报道", thumbnail=PICSUM, head_image=CLS)
    page = html(client.get("/"))
    assert "picsum.photos" not in page
    cards = re.findall(r'<li class="card">.*?</li>', page, re.S)
    assert ['class="thumb"' in card for card in cards] == [True, False]  # newest first; then a text card
    assert f'<img src="{CLS}"' in page


@pytest.mark.django_db
def test_the_article_page_shows_and_previews_no_placeholder(client):
    mirrored = publish("镜像的报道", thumbnail=PICSUM, head_image=PICSUM)
    page = html(client.get(mirrored.get_absolute_url()))
    assert "picsum.photos" not in page
    assert 'class="head-image"' not in page and "og:image" not in page
    real = publish("有图的报道", head_image=CLS)
    page = html(client.get(real.get_absolute_url()))
    assert f'<img class="head-image" src="{CLS}"' in page and f'<meta property="og:image" content="{CLS}">' in page


@pytest.mark.django_db
def test_every_page_loads_the_image_script_from_the_site(client):
    page = html(client.get("/"))
    assert re.search(r'<script src="/static/js/images\.js" defer></script>', page)
    assert "onerror" not in page  # no inline handler: the CSP would refuse it

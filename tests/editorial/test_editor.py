"""The body's editor widget: what it offers, where its files come from, what a save keeps."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django_prose_editor.config import allowlist_from_extensions

from editorial.widgets import EDITOR_EXTENSIONS
from articles.models import Article
from articles.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from tests.factories import add_form

pytestmark = pytest.mark.django_db

# Attributes the widget may write that the sanitiser drops or sets itself, harmlessly:
# rel (forced to "noopener noreferrer nofollow"), an ordered list's type, an image's upload id,
# a figure's class (the site's CSS styles every figure alike).
DROPPED_ATTRIBUTES = {"rel", "type", "data-type", "data-file", "class"}


def test_the_editor_offers_nothing_the_sanitiser_would_remove():
    allowed = allowlist_from_extensions(EDITOR_EXTENSIONS)
    assert allowed["tags"] <= ALLOWED_TAGS
    for tag, attributes in allowed["attributes"].items():
        assert set(attributes) - DROPPED_ATTRIBUTES <= ALLOWED_ATTRIBUTES.get(tag, set()), tag
    # headings, emphasis, lists, quotes, links, images with captions and tables are all there
    assert {"h2", "strong", "em", "u", "ul", "ol", "li", "blockquote", "a", "img", "figure",
            "figcaption", "table", "td", "th"} <= allowed["tags"]


def test_the_change_page_uses_the_widget_with_local_assets(admin_client):
    page = admin_client.get(reverse("admin:articles_article_add")).content.decode()
    assert 'data-django-prose-editor-configurable="' in page
    # The import map carries the request's CSP nonce (templates/admin/change_form.html).
    assert re.search(r'<script type="importmap" nonce="[^"]+">', page)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    editor_files = [s for s in sources if "prose_editor" in s]
    assert editor_files and all(s.startswith("/static/") for s in editor_files)  # no CDN
    for path in editor_files:
        assert admin_client.get(path).status_code == 200, path


@override_settings(STORAGES={
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
})
@pytest.mark.slow
def test_collectstatic_collects_the_editor_for_whitenoise(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
    assert finders.find("django_prose_editor/editor.js")
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert '"django_prose_editor/editor.js"' in manifest and '"django_prose_editor/configurable.js"' in manifest
    assert list(tmp_path.glob("django_prose_editor/editor.*.js.gz"))


def test_what_the_widget_posts_is_sanitised_on_save(admin_client):
    widget_output = (
        '<h2>小标题</h2><p><strong>粗体</strong><em>斜体</em><u>下划线</u>'
        '<a href="https://example.com/" target="_blank" rel="noopener">链接</a></p>'
        '<ul><li><p>要点</p></li></ul><blockquote><p>引文</p></blockquote>'
        '<figure><img src="https://img.example.com/a.png" alt="图" data-file="7"><figcaption>图注</figcaption></figure>'
        '<table><tbody><tr><th colspan="1">表头</th></tr><tr><td>数据</td></tr></tbody></table>'
        '<script>alert("x")</script><p onclick="steal()">点我</p>'
    )
    response = admin_client.post(reverse("admin:articles_article_add"), add_form("编辑器稿件", body=widget_output))
    assert response.status_code == 302
    body = Article.objects.get(title="编辑器稿件").body
    assert "<script" not in body and "alert" not in body and "onclick" not in body
    assert 'target=' not in body and 'data-file' not in body
    for kept in ("<h2>小标题</h2>", "<strong>粗体</strong>", "<u>下划线</u>", "<blockquote>",
                 'rel="noopener noreferrer nofollow"', "<figcaption>图注</figcaption>", "<th colspan=\"1\">表头</th>"):
        assert kept in body, kept

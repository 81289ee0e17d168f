"""export_articles --site, built by real Hexo 8 (tests/hexo/: hexo, hexo-cli, hexo-renderer-marked, locked).

`make test-hexo` installs them (`npm ci` in tests/hexo/) and runs these tests;
without Node.js or tests/hexo/node_modules they skip, saying which is missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.management import call_command

from articles.models import Article
from articles.sanitize import html_to_text, sanitize_body
from importing.assets import storage_name
from tests.factories import SEEDS, image_bytes, publish, store_image
from tests.hexo_support import HEXO_MODULES, require_hexo

pytestmark = [pytest.mark.django_db, pytest.mark.hexo, pytest.mark.slow]

UTC = dt.timezone.utc

# A theme of one layout, added by the test only to read what Hexo rendered of each post, and its excerpt.
PROBE_LAYOUT = "<article>{{ page.content }}</article><aside>{{ page.excerpt }}</aside>\n"

AWKWARD = {
    "模板语法": "<p>公式 {{ x }} 与 {% y %} 以及 {# z #}</p>",
    "缩进的HTML": "<p>一</p>\n    <p>二</p>\n\n\t<p>三</p>",
    "预排版": "<pre>a\n\n    b</pre>\n<p>```js</p>",
    "文字开头": "中证网讯 <br>\n<p>二 *不是强调* 与 [不是链接](x)</p>",
}


@pytest.fixture
def hexo() -> Path:
    """tests/hexo/node_modules; skips where Hexo cannot run, fails instead under `make test-hexo` (CI)."""
    require_hexo()
    return HEXO_MODULES


def build(site: Path, *configs: str) -> subprocess.CompletedProcess:
    """`hexo generate` in `site`, as its package.json's `npm run build` does (TZ: Hexo's dates in URLs)."""
    env = {**os.environ, "TZ": settings.TIME_ZONE}
    args = [str(site / "node_modules" / ".bin" / "hexo"), "generate"]
    if configs:
        args += ["--config", ",".join(configs)]
    return subprocess.run(args, cwd=site, env=env, capture_output=True, text=True, timeout=600)


def page_of(site: Path, article: Article) -> Path:
    return site / "public" / unquote(article.get_absolute_url()).strip("/") / "index.html"


def export_and_build(hexo: Path, site: Path) -> None:
    """Export a site to `site`, build it plainly (no theme), then with a probe theme; check both builds."""
    out = io.StringIO()
    call_command("export_articles", str(site), "--site", stdout=out)
    assert f"exported {Article.objects.count()} article(s)" in out.getvalue()
    (site / "node_modules").symlink_to(hexo, target_is_directory=True)
    published = list(Article.objects.filter(status=Article.Status.PUBLISHED))
    unpublished = list(Article.objects.exclude(status=Article.Status.PUBLISHED))
    assert published and unpublished

    # As exported: no theme, which Hexo builds with a warning per page ("No layout"), and empty pages.
    plain = build(site)
    log = plain.stdout + plain.stderr
    assert plain.returncode == 0, log
    assert not re.search(r"\b(ERROR|FATAL)\b", log), log
    for article in published:
        assert page_of(site, article).is_file(), f"{article.title}: no page at {article.get_absolute_url()}"
    for article in unpublished:
        assert not page_of(site, article).exists(), f"{article.title}: a draft got a page"
    pages = list((site / "public").rglob("index.html"))
    assert len(pages) == len(published)

    # With a layout that shows the post: what Hexo made of each body, through our sanitiser, is the body.
    (site / "themes" / "probe" / "layout").mkdir(parents=True)
    (site / "themes" / "probe" / "layout" / "post.njk").write_text(PROBE_LAYOUT, encoding="utf-8")
    (site / "_probe.yml").write_text("theme: probe\n", encoding="utf-8")
    shutil.rmtree(site / "public")
    themed = build(site, "_config.yml", "_probe.yml")
    assert themed.returncode == 0, themed.stdout + themed.stderr
    for article in published:
        page = page_of(site, article)
        rendered, excerpt = re.fullmatch(r"<article>(.*)</article><aside>(.*)</aside>\s*",
                                         page.read_text(encoding="utf-8"), re.S).groups()
        assert "<code" not in rendered or "<code" in article.body, f"{article.title}: Markdown made code of it"
        assert as_stored(sanitize_body(rendered), page.parent) == article.body, article.title
        if article.excerpt_explicit:  # Hexo's excerpt (the body before <!-- more -->, or the front matter's)
            assert html_to_text(sanitize_body(excerpt)) == article.excerpt, article.title


def as_stored(body: str, page_dir: Path) -> str:
    """`body` with each image of the post's asset folder (relative, beside the page where Hexo copied it)
    pointing at the URL the importer stores that file under."""
    def stored_url(match: re.Match) -> str:
        data = (page_dir / match[2]).read_bytes()
        return f'{match[1]}="{settings.MEDIA_URL}{storage_name(hashlib.sha256(data).hexdigest(), match[3])}"'

    return re.sub(r'\b(src|href)="(image-\d+\.(png|jpg|gif|webp))"', stored_url, body)


def add_awkward_articles() -> None:
    for i, (title, body) in enumerate(AWKWARD.items()):
        publish(title, dt.datetime(2023, 5, 6, 7, 8, i, tzinfo=UTC), body=body)
    publish("草稿 {{ 草稿 }}", dt.datetime(2023, 5, 7, tzinfo=UTC), body="<p>{% 草稿 %}</p>",
            status=Article.Status.DRAFT)
    publish("审核中", dt.datetime(2023, 5, 8, tzinfo=UTC), status=Article.Status.REVIEW)
    # Late at night in Shanghai, the day before in UTC: the URL's day is Shanghai's, in Hexo too.
    publish("深夜", dt.datetime(2023, 5, 8, 16, 30, tzinfo=UTC))


def add_asset_and_excerpt_articles() -> None:
    """Images stored by the importer (exported into asset folders), and an excerpt set by `<!-- more -->`."""
    red, blue = store_image(image_bytes(color="red")), store_image(image_bytes("JPEG", color="blue"))
    publish("配图", dt.datetime(2023, 5, 9, tzinfo=UTC),
            body=f'<p>图一 <img src="{red}" alt="红"></p>\n<p><a href="{red}">原图</a> <img src="{blue}" alt="蓝"></p>')
    publish("草稿配图", dt.datetime(2023, 5, 10, tzinfo=UTC), body=f'<p><img src="{blue}" alt="蓝"></p>',
            status=Article.Status.DRAFT)
    publish("有摘要", dt.datetime(2023, 5, 11, tzinfo=UTC), body="<p>导语 &lt;要点&gt;。</p>\n<p>其余。</p>",
            excerpt="导语 <要点>。", excerpt_explicit=True)


def test_hexo_builds_the_exported_seeds(run_import, hexo, media_root, tmp_path):
    assert run_import(SEEDS).exit_code == 0
    add_awkward_articles()
    add_asset_and_excerpt_articles()
    site = tmp_path / "site"
    export_and_build(hexo, site)
    template = Article.objects.get(title="模板语法")
    page = page_of(site, template).read_text(encoding="utf-8")
    assert "{{ x }}" in page and "{% y %}" in page and "{# z #}" in page
    assert page_of(site, Article.objects.get(title="深夜")).parent.parent.name == "09"  # 9 May in Shanghai
    # Hexo copied the asset folder beside the page (checked by content above); the draft's stayed unbuilt.
    assert {p.name for p in page_of(site, Article.objects.get(title="配图")).parent.iterdir()} == {
        "index.html", "image-1.png", "image-2.jpg"}
    assert len(list((site / "public").rglob("*.jpg"))) == 1


def test_hexo_builds_the_exported_real_corpus(run_import, corpus_dir, hexo, tmp_path):
    run_import(SEEDS)
    run_import(corpus_dir)  # a few files of the corpus are broken on purpose
    assert Article.objects.count() > 100
    add_awkward_articles()
    export_and_build(hexo, tmp_path / "site")

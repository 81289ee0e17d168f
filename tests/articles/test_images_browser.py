"""No page shows a broken-image icon when every remote image fails (Playwright + Debian's Chromium).

Every request that is not for the live server is aborted, as hot-link
protection, link rot or a closed network would: the thumbnails and body images
of the pages below all fail, except one image the test serves itself (a
loaded image must stay as it is). At a phone's and a desktop's size, with
scripts on (static/js/images.js replaces a failed image by a placeholder box)
and off (the CSS alone must cover the icon), nothing looks broken and nothing
scrolls sideways.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from articles.models import Article
from tests.browsers import BROWSER_TESTS, only_the_live_server
from tests.factories import SEEDS, chain, image_bytes, publish
from tests.page_types import public_page_paths

pytestmark = BROWSER_TESTS

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LOADED = "/test-only/loaded.png"  # answered by the browser context (see `context`), not by the site
CDN = "https://img.example.com"
BODY = (
    f'<p>正文第一段。</p><p><img src="{CDN}/chart.png" alt="沪深两市成交额走势"></p>'
    f'<p><img src="{CDN}/no-alt.jpg"></p>'
    f'<figure><img src="{CDN}/sized.jpg" alt="" width="640" height="360"><figcaption>图为示意</figcaption></figure>'
    f'<p><img src="{LOADED}" alt="能加载的图"></p><p>正文最后一段。</p>'
)
PAGES = ("home", "category", "article", "tag", "author")
# Where browsers draw the broken-image icon (and the inset border around it): the top left corner.
ICON_CORNER = 20
# Left out of that corner: a rounded corner's edge, drawn in shades between the box and the page.
ROUNDED = 6


@pytest.fixture
def site(live_server, run_import) -> dict[str, str]:
    """Name -> URL of the pages checked: thumbnails from a CDN and from picsum, an article with head and body images."""
    assert run_import(SEEDS).exit_code == 0
    paths = public_page_paths(BODY)
    article = Article.objects.get(title="券商加大IT投入")
    article.head_image = f"{CDN}/head.jpg"
    article.save()
    deep = chain("金融", "券商", "深度")
    for n in range(3):
        publish(f"有缩略图的报道{n}", categories=[deep], tags=["券商"], author="记者甲",
                thumbnail=f"{CDN}/thumb{n}.jpg")
        publish(f"镜像机器人的报道{n}", categories=[deep], tags=["券商"], author="记者甲",
                thumbnail=f"https://picsum.photos/400/300?random={n}", head_image=f"https://picsum.photos/400/300?random={n}")
    return {name: live_server.url + paths[name] for name in PAGES}


@pytest.fixture(params=[True, False], ids=["scripts-on", "scripts-off"])
def context(request, browser):
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="zh-CN", java_script_enabled=request.param)
    only_the_live_server(context)
    png = image_bytes(size=(40, 30), color="green")
    context.route(f"**{LOADED}", lambda route: route.fulfill(status=200, content_type="image/png", body=png))
    context.scripts_on = request.param
    yield context
    context.close()


def settle(page) -> None:
    """Scroll through the page so that lazy images load or fail, then wait until every one has."""
    for _ in range(40):  # bounded: the pages are a few screens long
        at_bottom = page.evaluate(
            "() => { window.scrollBy(0, window.innerHeight);"
            " return window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1; }")
        if at_bottom:
            break
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)", timeout=10_000)
    page.evaluate("() => window.scrollTo(0, 0)")


def failed_images(page) -> list[dict]:
    """The images still in the page that did not load, with their box and visibility."""
    return page.evaluate("""() => Array.from(document.images).filter(img => img.naturalWidth === 0).map(img => {
        const box = img.getBoundingClientRect(), style = getComputedStyle(img);
        return {src: img.getAttribute('src'), width: box.width, height: box.height,
                x: box.left + window.scrollX, y: box.top + window.scrollY,
                shown: style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0 && box.height > 0};
    })""")


def corner_colours(page, image: dict) -> set[tuple]:
    """The colours in the top left corner of `image` as drawn on the screen (inside its rounded corner)."""
    size = min(ICON_CORNER, int(image["width"]) - ROUNDED, int(image["height"]) - ROUNDED)
    clip = {"x": image["x"] + ROUNDED, "y": image["y"] + ROUNDED, "width": size, "height": size}
    shot = page.screenshot(full_page=True, clip=clip)
    return {colour for _, colour in Image.open(io.BytesIO(shot)).convert("RGB").getcolors(size * size)}


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_broken_image_icon_and_no_sideways_scroll(site, context, viewport):
    page = context.new_page()
    page.set_viewport_size(VIEWPORTS[viewport])
    for name, url in site.items():
        page.goto(url)
        settle(page)
        where = f"{name} at {viewport}"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{where}: scrolls sideways"
        assert not page.locator("img[src*='picsum.photos']").count(), f"{where}: a placeholder service's image"
        failed = failed_images(page)
        if context.scripts_on:
            # Each failed image was replaced by a placeholder box: none is left, and the boxes are there.
            assert failed == [], f"{where}: failed images left in the page: {failed}"
            assert page.locator(".img-fallback").count() >= 1, f"{where}: no placeholder"
        else:
            assert failed, f"{where}: expected the remote images to fail"
            for image in failed:
                if not image["shown"]:
                    continue
                # The layout holds (the image keeps its box) and the box shows one colour where the icon would be.
                assert min(image["width"], image["height"]) >= ICON_CORNER + ROUNDED, f"{where}: {image} collapsed"
                assert len(corner_colours(page, image)) == 1, f"{where}: {image['src']} shows a broken-image icon"
    if context.scripts_on:
        page.goto(site["article"])
        settle(page)
        # The head image's placeholder spans the column, as the image did.
        head, column = page.locator("article > .img-fallback").bounding_box(), page.locator("article").bounding_box()
        assert head["width"] == column["width"] and head["height"] > 100
        # A body image's placeholder says what the image showed; the image that loaded is untouched.
        assert "沪深两市成交额走势" in page.locator(".article-body .img-fallback").first.inner_text()
        assert page.evaluate(f"() => document.querySelector('img[src=\"{LOADED}\"]').naturalWidth") == 40
    page.close()

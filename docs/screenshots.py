"""Retake the README's screenshots (docs/screenshots/*.png) on the demo archive.

    .venv/bin/python docs/screenshots.py [--count N] [--out DIR]

A scratch SQLite database in a temporary directory is filled by
`manage.py make_demo` (the archive `make demo` serves), `manage.py runserver`
serves it on a free loopback port, and Chromium (Debian's, driven by
Playwright as in tests/browsers.py) opens the home page, a channel, an article
and the wire at phone (390×844) and desktop (1280×900) sizes. Every request
that is not for the loopback server is aborted, so the pictures show what a
reader sees when remote images fail (hotlink protection, link rot, no network):
placeholders and text cards, never a broken-image icon.

Then the editors' admin in Chinese at 1280×900, as an Editor (a few of the demo's
articles are made drafts, submissions and a schedule first, so the queues have
rows): the desk (admin-desk.png), the article list (admin-list.png), an article's
form (admin-article.png) and the same with the preview beside it (admin-preview.png).

The database and the server go away at the end; only the PNGs stay (viewport
pictures, not whole pages, and quantised to a palette to keep them small).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
START_TIMEOUT = 60  # seconds for runserver to answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"runserver exited with status {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"runserver did not answer within {START_TIMEOUT}s")


def save_small(png: bytes, path: Path) -> None:
    """A 256-colour palette PNG: text and flat boxes lose nothing visible, the file a third of the size."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def shoot(base: str, out: Path) -> list[Path]:
    """The site's pictures, then the admin's; one browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            return [*shoot_site(browser, base, out), *shoot_admin(browser, base, out)]
        finally:
            browser.close()


def offline_page(browser, base: str, viewport: dict[str, int]):
    """A new page where only the loopback server answers: remote images fail, as they will for readers."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    return context.new_page()


def snap(page, target: Path) -> Path:
    save_small(page.screenshot(full_page=False), target)
    return target


def shoot_site(browser, base: str, out: Path) -> list[Path]:
    """The home page, a channel, an article and the wire, at each of VIEWPORTS."""
    written = []
    for label, viewport in VIEWPORTS.items():
        page = offline_page(browser, base, viewport)
        page.goto(base + "/", wait_until="networkidle")
        channel = page.locator(".channel-bar a").first.get_attribute("href")
        article = page.locator(".lead-story h3 a").first.get_attribute("href")
        for name, path in (("home", "/"), ("channel", channel), ("article", article), ("wire", "/wire/")):
            page.goto(base + path, wait_until="networkidle")
            written.append(snap(page, out / f"{name}-{label}.png"))
        page.context.close()
    return written


EDITOR = ("editor", "editor-demo-2024")
AUTHOR = ("author", "author-demo-2024")
# Run by `manage.py shell`: an Editor and an Author, and work in their queues.
ADMIN_SETUP = f"""
import datetime as dt
from django.contrib.auth.models import Group, User
from django.utils import timezone
from articles.models import Article

def person(name, password, group):
    user = User.objects.create_user(name, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user

editor, author = person(*{EDITOR!r}, "Editors"), person(*{AUTHOR!r}, "Authors")
newest = list(Article.objects.order_by("-published_at").values_list("pk", flat=True)[:12])
Article.objects.filter(pk__in=newest[:3]).update(status="review", created_by=author)
Article.objects.filter(pk__in=newest[3:5]).update(status="draft", created_by=editor)
Article.objects.filter(pk__in=newest[5:7]).update(published_at=timezone.now() + dt.timedelta(hours=5))
"""


def shoot_admin(browser, base: str, out: Path) -> list[Path]:
    """The desk, the article list and an article's form, alone and with the preview beside it, as an Editor."""
    page = offline_page(browser, base, VIEWPORTS["desktop"])
    page.goto(base + "/admin/login/?next=/admin/")
    page.fill("#id_username", EDITOR[0])
    page.fill("#id_password", EDITOR[1])
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    written = []
    for name, path in (("admin-desk", "/admin/"), ("admin-list", "/admin/articles/article/")):
        page.goto(base + path, wait_until="networkidle")
        written.append(snap(page, out / f"{name}.png"))
    page.locator("#result_list tbody a").first.click()
    page.wait_for_selector(".ProseMirror[contenteditable=true]")
    page.locator(".article-text").scroll_into_view_if_needed()  # the text with tags and categories beside it
    written.append(snap(page, out / "admin-article.png"))
    page.evaluate("() => window.scrollTo(0, 0)")
    page.click("[data-preview-open]")
    page.locator("#article-preview-panel iframe").wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the framed page's layout
    written.append(snap(page, out / "admin-preview.png"))
    page.context.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="demo articles (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go (default: docs/screenshots)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="newsportal-shots-") as scratch:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3", "DJANGO_DEBUG": "1"}
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "make_demo", "--count", str(args.count))
        manage(env, "shell", "-v", "0", "-c", ADMIN_SETUP)
        port = free_port()
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/", server)
            for path in shoot(base, args.out):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
                      f"({path.stat().st_size // 1024} KB)")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

"""Builders the test modules share: where the project's files are, Hexo posts, articles
and categories, staff users, the admin's forms, and the environment of a production
server (for settings read in a process of their own).

One place, so a test module never imports another test module for them (and a
change to how an article is made is made once). Fixtures live in conftest.py (and
an app folder's conftest.py where only that app's tests use them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import zoneinfo
from collections.abc import Iterable
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Author, Category

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
CORPUS = PROJECT.parent / "shared" / "corpus" / "real"
HEXO_SITE = PROJECT.parent / "shared" / "corpus" / "hexo-site"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def post_titles(posts: Iterable[Path]) -> list[str]:
    """The `title:` of each post's front matter (quotes dropped), in file-name order: what a
    page listing the imported posts shows."""
    titles = []
    for post in sorted(path for path in posts if path.is_file()):
        match = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", post.read_text(encoding="utf-8"), re.M)
        if match:
            titles.append(match.group(1))
    return titles


def post(title: str = "'测试文章'", date: str = "Sat, 30 Apr 2022 01:33:09 GMT", body: str = "<p>正文</p>",
         **fields: str) -> str:
    """A Hexo post in the seeds' format; extra fields are given as YAML text."""
    lines = ["---", f"title: {title}", f"date: {date}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n---\n\n" + body + "\n"


def publish(title: str, when: dt.datetime | None = None, *, categories=(), tags=(), author: str | None = None,
            status: str = Article.Status.PUBLISHED, body: str = "<p>正文内容</p>", **fields) -> Article:
    """An article, published an hour ago unless told otherwise; `author` is a name, made if new."""
    article = Article.objects.create(
        title=title, body=body, status=status,
        published_at=when or timezone.now() - dt.timedelta(hours=1),
        author=Author.objects.get_or_create(name=author)[0] if author else None, **fields,
    )
    if categories:
        article.categories.add(*categories)
    if tags:
        article.tags.add(*tags)
    return article


def chain(*names: str) -> Category:
    """The category at the end of a path of names (chain("金融", "证券")), made where missing."""
    parent = None
    for name in names:
        parent, _ = Category.objects.get_or_create(name=name, parent=parent)
    return parent


def html(response) -> str:
    """The text of a page that must have been served (200)."""
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- staff and the admin's article form -------------------------------------------------------


def staff(username: str, group: str) -> User:
    """A staff user in one of the editorial groups ("Authors", "Editors"); password `pw-<username>-2024`."""
    user = User.objects.create_user(username, password=f"pw-{username}-2024", is_staff=True)
    user.groups.add(editorial_group(group))
    return user


def editorial_group(name: str) -> Group:
    """The group the migrations made, made again as they made it if it is gone.

    A live-server test flushes the database when it ends, and a flush keeps
    permissions but not groups: the next test finds no Editors. The groups are
    rebuilt by running the migrations' own grants (`create_groups`, `grant…`)
    against the migrated state, so they hold exactly what a migrated database holds.
    """
    group = Group.objects.filter(name=name).first()
    if group is not None:
        return group
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection)
    state_apps = loader.project_state().apps
    for key in loader.graph.forwards_plan(("articles", loader.graph.leaf_nodes("articles")[0][1])):
        if key[0] != "articles":
            continue
        for operation in loader.graph.nodes[key].operations:
            code = getattr(operation, "code", None)
            if isinstance(operation, RunPython) and (code.__name__ == "create_groups"
                                                     or code.__name__.startswith("grant")):
                code(state_apps, None)
    return Group.objects.get(name=name)


def changelist(model: str) -> str:
    return reverse(f"admin:articles_{model}_changelist")


def change_url(article: Article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def add_form(title: str, **fields) -> dict:
    """The POST data of the admin's add-article page: a draft with one empty category row."""
    data = {
        "title": title, "slug": "", "status": "draft",
        "published_at_0": "2022-04-30", "published_at_1": "09:33:09",
        "author": "", "tags": "", "body": "<p>正文</p>", "head_image": "", "thumbnail": "",
        "comments_enabled": "on", "extra_front_matter": "{}",
        "articlecategory_set-TOTAL_FORMS": "1", "articlecategory_set-INITIAL_FORMS": "0",
        "articlecategory_set-MIN_NUM_FORMS": "0", "articlecategory_set-MAX_NUM_FORMS": "1000",
        "articlecategory_set-0-category": "",
        "byline_links-TOTAL_FORMS": "0", "byline_links-INITIAL_FORMS": "0",
        "byline_links-MIN_NUM_FORMS": "0", "byline_links-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    return data


def change_form(article: Article, **fields) -> dict:
    """The POST data of the article's change page as loaded (its version included), with `fields` changed."""
    data = add_form(article.title, body=article.body, status=article.status,
                    published_at_0=timezone.localtime(article.published_at).strftime("%Y-%m-%d"),
                    published_at_1=timezone.localtime(article.published_at).strftime("%H:%M:%S"),
                    slug=article.slug, version=str(article.version))
    data.update(fields)
    return data


# --- a production server's environment ---------------------------------------------


def production_env(**extra: str) -> dict:
    """The environment of a production server: no DEBUG, a real key, a host name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEWSPORTAL_"))}
    env.update(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="news.example.com",
               DJANGO_SETTINGS_MODULE="newsportal.settings")
    env["NEWSPORTAL_ENV_FILE"] = ""  # a developer's .env (DJANGO_DEBUG=1, a key) must not leak in
    env.update(extra)
    return env


def static_manifest_in(folder: Path) -> Path:
    """A STATIC_ROOT holding an (empty) static files manifest, as collectstatic leaves one:
    enough for newsportal.checks to let a production process start. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "staticfiles.json").write_text('{"paths": {}, "version": "1.1", "hash": ""}')
    return folder


def settings_in(env: dict, *names: str) -> dict:
    """The values of settings `names` in a new process with environment `env` (None if unset)."""
    code = ("import django, json; django.setup(); from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}, default=str))")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def write_file(path: Path, data: bytes | str) -> Path:
    """Write text (UTF-8) or bytes at `path`, making its folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (8, 6), color: str = "red") -> bytes:
    """A real image made with Pillow, in `image_format` (PNG, JPEG, GIF, WEBP, …)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=image_format)
    return out.getvalue()


def store_image(data: bytes) -> str:
    """`data` saved in the default storage as the importer stores an asset folder's image; its URL.

    The storage is MEDIA_ROOT: use with the `media_root` fixture, so each test has its own.
    """
    import hashlib

    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from importing.assets import ALLOWED_FORMATS, image_format_of, storage_name

    image_format, problem = image_format_of(data)
    assert problem is None, problem
    name = storage_name(hashlib.sha256(data).hexdigest(), ALLOWED_FORMATS[image_format])
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    return settings.MEDIA_URL + name


def ended_process_pid() -> int:
    """The pid of a process that has ended (and been reaped): a killed worker's, say."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    assert process.wait(timeout=60) == 0
    return process.pid

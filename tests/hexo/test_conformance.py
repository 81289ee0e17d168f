"""The same posts read by real Hexo 8 and by newsportal, compared post by post (issue #16).

Hexo's side: tests/hexo/dump_posts.js loads a site with Hexo's API and prints each
post as JSON (title, instants, categories, tags, excerpt, rendered content, URL).
newsportal's side: `import_articles` into the test database. Per post the suite
compares title, `date` instant, `updated`, categories, tags, excerpt, published
flag, the old URL (Hexo's) answering with the article, and the rendered body
(both through our sanitiser, normalised by tests/hexo/normalize.py).

Corpora: tests/hexo/corpus/ (ours: one post per Hexo feature), and in
../shared/corpus/: hexo-site/ (hexo.io's 58 news posts), hexo-docs-zh/ (Hexo's
Chinese docs pages, wrapped in a temporary site) and real/ (the RSS mirror
bot's posts, wrapped in a temporary site with `timezone: Asia/Shanghai`).

Each corpus writes a JSON summary (`conformance-<corpus>.json`) to the folder
named by NEWSPORTAL_CONFORMANCE_DIR, else to pytest's temporary folder, and
prints its rates and each differing post with a short diff. docs/HEXO.md,
"Conformance with real Hexo", lists the measured rates and the differences.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from articles.models import Article
from articles.sanitize import html_to_text, sanitize_body
from importing.markdown import is_html_body
from importing.parse import ImportFileError, split_front_matter
from tests.factories import PROJECT
from tests.hexo_support import HEXO_MODULES
from tests.hexo.normalize import (
    body_diff,
    comparable_hexo,
    comparable_ours,
    with_asset_tokens,
    without_code_languages,
)

pytestmark = [pytest.mark.django_db, pytest.mark.hexo, pytest.mark.slow]

DUMP_SCRIPT = PROJECT / "tests" / "hexo" / "dump_posts.js"
SHARED = PROJECT.parent / "shared" / "corpus"
OWN_CORPUS = PROJECT / "tests" / "hexo" / "corpus"
UTC = dt.timezone.utc

# SWITCH — importing a site from its root (`import_articles SITE` reads _config.yml,
# source/_posts and source/_drafts: importing/hexo_site.py). Without it (a branch
# before it), a site's source/_posts is imported with --timezone from its
# _config.yml, and a wrapped corpus's folder (drafts are then not imported, dates
# come from no file name, and no old URL answers: the report says so).
SITE_ROOT_IMPORT = importlib.util.find_spec("importing.hexo_site") is not None

FIELDS = ("title", "date", "updated", "categories", "tags", "excerpt", "published", "old_url", "body")


@dataclass(frozen=True)
class Corpus:
    name: str
    folder: Path  # the site root (`site`), or the folder of posts (`wrapped`)
    kind: str  # "site": a Hexo site read in place; "wrapped": posts wrapped in a temporary site
    timezone: str  # the site's; also Hexo's host zone (TZ), so Hexo reads offsets exactly (docs/HEXO.md, Dates)
    file_name_dates: bool = False  # new_post_name gives dates where the front matter has none
    # A wrapped corpus's Hexo plugins (from tests/hexo/node_modules), as its real site had them
    plugins: tuple[str, ...] = ("hexo-renderer-marked",)
    # The site a wrapped corpus came from: its _config.yml, scripts/ and posts (which `post_link`
    # names) go into the temporary site too, the corpus's posts in source/_posts/<name>/.
    home_site: Path | None = None

    @property
    def prefix(self) -> str:
        """What Hexo's `source` of a post of this corpus starts with."""
        if self.kind == "site":
            return ""
        return f"_posts/{self.name}/" if self.home_site else "_posts/"


CORPORA = {
    "own": Corpus("own", OWN_CORPUS, "site", "Asia/Shanghai"),
    "hexo-site": Corpus("hexo-site", SHARED / "hexo-site", "site", "UTC", file_name_dates=True),
    # hexo.io, whose docs these are (hexo-site/: its config, `note` tag and news posts, which
    # the docs' `post_link`s name), with the embeds (youtube, vimeo, jsfiddle, gist) Hexo 7
    # moved out to hexo-tag-embed.
    "hexo-docs-zh": Corpus("hexo-docs-zh", SHARED / "hexo-docs-zh", "wrapped", "UTC",
                           plugins=("hexo-renderer-marked", "hexo-tag-embed"), home_site=SHARED / "hexo-site"),
    "real": Corpus("real", SHARED / "real", "wrapped", "Asia/Shanghai"),
}


@dataclass
class PostResult:
    source: str
    markdown: bool  # a Markdown body (not an HTML body kept as HTML, docs/HEXO.md)
    imported: bool = True
    error: str = ""
    differing: dict[str, list] = field(default_factory=dict)  # field -> [hexo's, ours]
    compared: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    diff: str = ""
    notes: list[str] = field(default_factory=list)  # differences counted as none, and why


@dataclass
class CorpusReport:
    corpus: str
    hexo_version: str
    import_mode: str
    posts: list[PostResult]
    import_warnings: list[str]
    hexo_problems: list[dict]  # what Hexo logged: files it could not read, …
    not_read_by_hexo: list[str]  # files newsportal imported that Hexo did not read

    def same(self, name: str, markdown_only: bool = False) -> tuple[int, int]:
        """(posts where `name` was compared and is the same, posts where it was compared)."""
        posts = [p for p in self.posts if name in p.compared and (p.markdown or not markdown_only)]
        return sum(name not in p.differing for p in posts), len(posts)

    def rate(self, name: str, markdown_only: bool = False) -> float:
        same, compared = self.same(name, markdown_only)
        return same / compared if compared else 1.0

    def summary(self) -> dict:
        rates = {name: dict(zip(("same", "compared"), self.same(name), strict=True)) for name in FIELDS}
        rates["markdown_body"] = dict(zip(("same", "compared"), self.same("body", markdown_only=True), strict=True))
        causes: dict[str, int] = {}
        for post in self.posts:
            for cause in post.causes:
                causes[cause] = causes.get(cause, 0) + 1
        return {
            "corpus": self.corpus, "hexo": self.hexo_version, "import_mode": self.import_mode,
            "posts": len(self.posts), "imported": sum(p.imported for p in self.posts),
            "rates": rates, "causes": dict(sorted(causes.items(), key=lambda kv: -kv[1])),
            "differences": [asdict(p) for p in self.posts if p.differing or not p.imported],
            "notes": {p.source: p.notes for p in self.posts if p.notes},
            "import_warnings": self.import_warnings,
            "hexo_problems": self.hexo_problems,
            "not_read_by_hexo": self.not_read_by_hexo,
        }


# --- Hexo's side -----------------------------------------------------------

def _hexo_site_for(corpus: Corpus, tmp: Path) -> Path:
    """The folder Hexo reads: a site in place, or a temporary site around copies of the posts."""
    if corpus.kind == "site":
        return corpus.folder
    site = tmp / f"hexo-{corpus.name}"
    if corpus.home_site:
        shutil.copytree(corpus.home_site, site)
    else:
        (site / "source" / "_posts").mkdir(parents=True)
        (site / "_config.yml").write_text(
            f"title: {corpus.name}\ntimezone: {corpus.timezone}\nurl: https://example.com\n", encoding="utf-8")
    posts = site / "source" / corpus.prefix
    for path in sorted(corpus.folder.rglob("*.md")):
        target = posts / path.relative_to(corpus.folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    dependencies = {name: "*" for name in corpus.plugins}
    (site / "package.json").write_text(json.dumps({"name": "wrapped", "dependencies": dependencies}), encoding="utf-8")
    (site / "node_modules").symlink_to(HEXO_MODULES, target_is_directory=True)
    return site


def dump_hexo(node: str, corpus: Corpus, site: Path) -> dict:
    """Hexo's reading of the corpus's site (tests/hexo/dump_posts.js), with TZ the site's zone."""
    env = {**os.environ, "TZ": corpus.timezone}
    run = subprocess.run([node, str(DUMP_SCRIPT), str(site)], cwd=DUMP_SCRIPT.parent, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"Hexo could not read {corpus.folder}:\n{run.stderr[-3000:]}"
    dump = json.loads(run.stdout)
    dump["posts"] = [post for post in dump["posts"] if post["source"].startswith(corpus.prefix)]
    return dump


# --- newsportal's side -----------------------------------------------------

def import_corpus(run_import, corpus: Corpus, site: Path) -> tuple[str, dict[str, str], list[str]]:
    """Import the corpus; (how, {source key: error}, warning lines).

    With the site-root import, the very site Hexo read (for a wrapped corpus, the
    temporary one around copies of its posts); before it, the posts folder.
    """
    if SITE_ROOT_IMPORT:
        how, args = "site root", [site]
    elif corpus.kind == "site":
        how, args = "source/_posts with --timezone", [corpus.folder / "source" / "_posts", "--timezone", corpus.timezone]
    else:
        how, args = "folder with --timezone", [corpus.folder, "--timezone", corpus.timezone]
    run = run_import(*args)
    errors: dict[str, str] = {}
    warnings: list[str] = []
    for line in run.stderr.splitlines() + run.stdout.splitlines():
        path = re.match(r"\s*(?:ERROR|error|FAILED|failed)?[: ]*(/\S[^:]*\.(?:md|markdown)):\s*(.*)", line)
        if path and "warning" not in line.lower():
            errors[_key(corpus, site, path.group(1))] = path.group(2)
        elif "warning" in line.lower():
            warnings.append(line.strip())
    return how, errors, warnings


def _key(corpus: Corpus, site: Path, source_path: str) -> str:
    """A post's name as Hexo gives it (`_posts/x.md`), from the path newsportal stored."""
    path = Path(source_path).resolve()
    if path.is_relative_to(site.resolve() / "source"):
        return path.relative_to(site.resolve() / "source").as_posix()
    return corpus.prefix + path.relative_to(corpus.folder.resolve()).as_posix()


def _source_file(corpus: Corpus, key: str) -> Path:
    return (corpus.folder / "source" / key) if corpus.kind == "site" else corpus.folder / key.removeprefix(corpus.prefix)


def _hexo_asset_urls(corpus: Corpus, post: dict) -> dict[str, str]:
    """Hexo's URL of each file in the post's asset folder (beside it, named as it): its SHA-256."""
    folder = _source_file(corpus, post["source"]).with_suffix("")
    if not folder.is_dir():
        return {}
    urls = {}
    for path in folder.rglob("*"):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            name = path.relative_to(folder).as_posix()
            for url in ("/" + post["path"].lstrip("/") + name, post["permalink"] + name):
                urls[url] = urls[quote(url, safe="/:%")] = digest
    return urls


def _raw_body(corpus: Corpus, key: str) -> str:
    path = _source_file(corpus, key)
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    try:
        return split_front_matter(text, str(path)).body
    except ImportFileError:
        return text


# --- comparing -------------------------------------------------------------

def _instant(value: dt.datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if value else None


def _leaf_chains(chains: list[list[str]]) -> list[list[str]]:
    """The chains that are no other chain's beginning, sorted (a post linked to 金融 and 金融›银行 is in 金融›银行)."""
    unique = {tuple(chain) for chain in chains}
    return sorted(list(c) for c in unique if not any(o != c and o[: len(c)] == c for o in unique))


def _our_chains(article: Article) -> list[list[str]]:
    return _leaf_chains([c.path_names for c in article.categories.all()])


def _text(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _old_url_ok(client, post: dict, article: Article) -> tuple[bool, str]:
    """Hexo's URL of the post answers with the article: a redirect to it, or the page itself."""
    url = "/" + quote(post["path"].lstrip("/"), safe="/%")  # a post's own permalink may start with /
    response = client.get(url)
    target = article.get_absolute_url()
    if response.status_code in (301, 308):
        location = response["Location"]
        return location.endswith((target, quote(target, safe="/%"))), f"{response.status_code} to {unquote(location)}"
    ok = response.status_code == 200 and url in (target, quote(target, safe="/%"))
    return ok, f"{response.status_code}; the article is at {unquote(target)}"


_FENCE_WITH_TITLE = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*\S+[ \t]+\S", re.MULTILINE)


def _body_causes(full_diff: str, raw: str, markdown: bool) -> list[str]:
    """What a body's differences come from, read from the changed lines (`-` Hexo's, `+` ours)."""
    changed = "\n".join(line for line in full_diff.splitlines() if line[:1] in "+-")
    causes = []
    if "{%" in changed or "{{" in changed:
        causes.append("tag plugins")
    if "<figcaption>" in changed and _FENCE_WITH_TITLE.search(raw):
        causes.append("code block titles")
    if re.search(r'src="(?!https?:|/|data:)|src="/[^"]*/[^"/]+\.(?:png|jpe?g|gif|svg|webp)"', changed):
        causes.append("assets")
    if not markdown:
        causes.append("HTML bodies")
    elif not causes:
        causes.append("markdown rendering")
    return causes


def _causes(post: dict, result: PostResult, raw: str, full_diff: str = "") -> list[str]:
    causes = []
    if not result.imported:
        causes.append("not imported")
    if "date" in result.differing and not post["front_matter_date"]:
        causes.append("dates from file names")
    elif "date" in result.differing:
        causes.append("dates")
    if "old_url" in result.differing:
        causes.append("old URLs")
    if "body" in result.differing:
        causes += _body_causes(full_diff, raw, result.markdown)
    other = set(result.differing) - {"date", "old_url", "body"}
    causes += sorted(other)
    return causes


def compare_post(client, corpus: Corpus, post: dict, article: Article | None, error: str,
                 languages: frozenset[str] = frozenset()) -> PostResult:
    raw = _raw_body(corpus, post["source"])
    result = PostResult(post["source"], markdown=post["source"].endswith((".md", ".markdown")) and not is_html_body(raw))
    if article is None and not error and post["source"].startswith("_drafts/") and not SITE_ROOT_IMPORT:
        error = "source/_drafts is read by the site-root import (SITE_ROOT_IMPORT), not yet on main"
    if article is None:
        result.imported, result.error = False, error or "no article from this file"
        result.causes = _causes(post, result, raw)
        return result
    checks: dict[str, tuple] = {
        "title": (post["title"], article.title),
        "categories": (_leaf_chains(post["categories"]), _our_chains(article)),
        "tags": (sorted(post["tags"]), sorted(article.tags.names())),
        "published": (post["published"], article.status == Article.Status.PUBLISHED),
    }
    if post["front_matter_date"] or corpus.file_name_dates:
        checks["date"] = (post["date"], _instant(article.published_at))
    if post["front_matter_updated"]:
        checks["updated"] = (post["updated"], _instant(article.updated_at))
    if post["excerpt"]:  # Hexo's is empty without `excerpt:` or <!-- more -->; ours is cut from the body then
        checks["excerpt"] = (_text(html_to_text(sanitize_body(post["excerpt"]))), _text(article.excerpt))
    for name, (hexo, ours) in checks.items():
        result.compared.append(name)
        if hexo != ours:
            result.differing[name] = [hexo, ours]
    if post["published"] and post["layout"] == "post":
        result.compared.append("old_url")
        ok, shown = _old_url_ok(client, post, article)
        if not ok:
            result.differing["old_url"] = [post["path"], shown]
    hexo_body = with_asset_tokens(comparable_hexo(post["content"]), _hexo_asset_urls(corpus, post))
    our_body = with_asset_tokens(comparable_ours(article.body))
    if languages and (shown := without_code_languages(our_body, languages)) != our_body:
        # Hexo writes `plaintext` for a language its highlighting does not know; we keep the author's
        our_body = shown
        result.notes.append("a code language Hexo's highlighting does not know: Hexo writes none, we the author's")
    result.compared.append("body")
    full_diff = ""
    if hexo_body != our_body:
        result.differing["body"] = ["(see diff)", "(see diff)"]
        result.diff = body_diff(hexo_body, our_body)
        full_diff = body_diff(hexo_body, our_body, limit=0)
    result.causes = _causes(post, result, raw, full_diff)
    return result


def run_conformance(client, run_import, node: str, corpus: Corpus, tmp: Path) -> CorpusReport:
    site = _hexo_site_for(corpus, tmp)
    hexo = dump_hexo(node, corpus, site)
    how, errors, warnings = import_corpus(run_import, corpus, site)
    articles: dict[str, Article] = {}
    for article in Article.objects.exclude(source_path=""):
        key = _key(corpus, site, article.source_path)
        if key.startswith(corpus.prefix):  # not the home site's own posts around a wrapped corpus
            articles[key] = article
    languages = frozenset(hexo["highlight_languages"])
    posts = [compare_post(client, corpus, post, articles.get(post["source"]), errors.get(post["source"], ""), languages)
             for post in hexo["posts"]]
    read = {post["source"] for post in hexo["posts"]}
    not_read = sorted(key for key in articles if key not in read)
    return CorpusReport(corpus.name, hexo["hexo"], how, posts, warnings, hexo["problems"], not_read)


# --- the report ------------------------------------------------------------

def _report_dir(tmp_path_factory) -> Path:
    named = os.environ.get("NEWSPORTAL_CONFORMANCE_DIR")
    folder = Path(named) if named else tmp_path_factory.getbasetemp() / "conformance"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _print_report(report: CorpusReport, path: Path) -> None:
    summary = report.summary()
    rates = summary["rates"]
    shown = ", ".join(f"{name} {r['same']}/{r['compared']}" for name, r in rates.items() if r["compared"])
    print(f"\n== Hexo conformance, {report.corpus} ({summary['imported']}/{summary['posts']} imported; "
          f"{report.import_mode}): {shown}")
    print(f"   causes: {summary['causes']}   summary: {path}")
    notes = summary["notes"]
    if notes:
        print(f"   counted as the same: {len(notes)} post(s): {sorted({n for ns in notes.values() for n in ns})}")
    if report.not_read_by_hexo:
        print(f"   imported by newsportal, not read by Hexo: {len(report.not_read_by_hexo)}")
    for problem in report.hexo_problems:
        print(f"   Hexo {problem['level']}: {problem['message']}")
    for post in report.posts:
        if not post.differing and post.imported:
            continue
        print(f"-- {post.source}: {', '.join(post.causes)}")
        if not post.imported:
            print(f"   not imported: {post.error}")
        for name, (hexo, ours) in post.differing.items():
            if name != "body":
                print(f"   {name}: hexo {hexo!r} / newsportal {ours!r}")
        if post.diff:
            print("   " + post.diff.replace("\n", "\n   "))


_reports: dict[str, CorpusReport] = {}


@pytest.fixture
def conformance(request, client, run_import, node_for_hexo, tmp_path, tmp_path_factory, capsys):
    """The comparison of one corpus (computed once per session, printed and written when computed)."""

    def of(name: str) -> CorpusReport:
        corpus = CORPORA[name]
        if not corpus.folder.is_dir():
            pytest.skip(f"{corpus.folder} not found (../shared/corpus lives beside the project)")
        if name not in _reports:
            report = run_conformance(client, run_import, node_for_hexo, corpus, tmp_path)
            path = _report_dir(tmp_path_factory) / f"conformance-{name}.json"
            path.write_text(json.dumps(report.summary(), ensure_ascii=False, indent=1), encoding="utf-8")
            with capsys.disabled():
                _print_report(report, path)
            _reports[name] = report
        return _reports[name]

    return of


# --- what the issue demands ------------------------------------------------

@pytest.mark.parametrize("name", CORPORA)
def test_hexo_reads_every_post_and_newsportal_reports_each(conformance, name):
    """Every post Hexo reads is in the report, imported or with the reason it was not."""
    report = conformance(name)
    assert report.posts, f"Hexo read no post of {name}"
    summary = report.summary()
    assert summary["posts"] == len({p.source for p in report.posts})
    for post in report.posts:
        assert post.imported or post.error, post.source


def test_own_corpus_reads_as_hexo_reads_it(conformance):
    """Our one-post-per-feature corpus: front matter, dates, `updated`, excerpts, drafts, old URLs as in Hexo."""
    report = conformance("own")
    assert all(p.imported for p in report.posts), [(p.source, p.error) for p in report.posts if not p.imported]
    for name in ("title", "date", "updated", "categories", "tags", "excerpt", "published", "old_url"):
        assert report.rate(name) == 1.0, [(p.source, p.differing[name]) for p in report.posts if name in p.differing]


def test_real_corpus_reads_as_hexo_reads_it_but_where_we_do_better(conformance):
    """The mirror bot's posts: the same titles, instants, tags and URLs; bodies too, but where Hexo made code of HTML."""
    report = conformance("real")
    for name in ("title", "date", "tags", "published", "old_url"):
        assert report.rate(name) == 1.0, [(p.source, p.differing[name]) for p in report.posts if name in p.differing]
    for post in report.posts:
        if "categories" in post.differing:  # names are read NFKC-normalised (full-width － is -)
            hexo, ours = post.differing["categories"]
            assert [[unicodedata.normalize("NFKC", n) for n in chain] for chain in hexo] == ours, post.source
        if "body" in post.differing:  # an HTML body kept as HTML, where Hexo shows indented lines as code
            assert not post.markdown and "<code>" in post.diff.split("\n+", 1)[0], post.source
        if not post.imported:  # the two posts with a blank title and 'Invalid Date' (docs/HEXO.md, Dates)
            assert "date" in post.error and "title" in post.error, post.source
    assert sum(not p.imported for p in report.posts) <= 2


def test_real_hexo_site_posts_all_imported_with_hexos_titles_and_instants(conformance):
    report = conformance("hexo-site")
    assert len(report.posts) == 58
    assert all(p.imported for p in report.posts), [(p.source, p.error) for p in report.posts if not p.imported]
    assert report.rate("title") == 1.0, [(p.source, p.differing["title"]) for p in report.posts if "title" in p.differing]
    assert report.rate("date") == 1.0, [(p.source, p.differing["date"]) for p in report.posts if "date" in p.differing]


def test_real_hexo_site_old_urls_answer(conformance):
    report = conformance("hexo-site")
    assert report.rate("old_url") == 1.0, [p.differing["old_url"] for p in report.posts if "old_url" in p.differing]


# The docs pages use hexo.io's own `note` tag and `{% youtube %}` embeds on most pages, which
# differ by design (docs/HEXO.md, Conformance: remaining differences).
DOCS_BY_DESIGN = pytest.mark.xfail(
    strict=False, reason="hexo.io's own `note` tag and the embeds differ by design on most docs pages "
                         "(docs/HEXO.md, Conformance)")


@pytest.mark.parametrize("name", ["own", "hexo-site", pytest.param("hexo-docs-zh", marks=DOCS_BY_DESIGN)])
def test_markdown_bodies_identical_on_95_percent(conformance, name):
    report = conformance(name)
    same, compared = report.same("body", markdown_only=True)
    assert compared and same / compared >= 0.95, f"{name}: {same}/{compared} Markdown bodies identical"

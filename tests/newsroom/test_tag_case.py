"""One tag per name whatever its case (#6): the lower(name) index of migration 0015 and who relies on it.

"AI" and "ai" are one tag for the site (TAGGIT_CASE_INSENSITIVE, the importer's
casefold maps). The database now refuses a second spelling, so two writers
racing to create it cannot both succeed, and every writer reuses the tag that
won. Each test gives the racing tag a slug of its own (as an editor may), so
that only the name index — not a slug collision — stands between the two.
"""

from __future__ import annotations

import logging

import pytest
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.urls import NoReverseMatch, reverse
from taggit.models import Tag

from newsroom import keywords
from importing.load import ArticleLoader
from articles.models import Article, TagSuggestion
from tests.factories import post, publish
from tests.faults_support import assert_clean_run, assert_consistent, manage, probe, run_manage


@pytest.mark.django_db
def test_the_database_refuses_a_second_spelling_of_a_tag():
    Tag.objects.create(name="ai", slug="ai")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="AI", slug="artificial-intelligence")
    Tag.objects.create(name="AI 芯片", slug="ai-chips")  # another name is fine
    assert Tag.objects.count() == 2


def create_tag_elsewhere(name: str, slug: str) -> Tag:
    """Commit a tag through a second database connection, as another process would."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("INSERT INTO taggit_tag (name, slug) VALUES (%s, %s)", [name, slug])
    finally:
        other.close()
    return Tag.objects.get(slug=slug)


@pytest.mark.django_db(transaction=True)
def test_an_import_that_loses_the_race_for_a_tag_links_the_winners_one(run_import, write_post, monkeypatch, caplog):
    """The loader's maps are read, then another writer commits "ai", then the loader writes "AI"."""
    path = write_post("archive/post.md", post(title="'人工智能周报'", tags="[AI, 芯片]"))
    read_maps = ArticleLoader._load_maps
    raced = []

    def read_maps_then_lose_the_race(self):
        read_maps(self)
        if not raced:  # only after the first read: the retry's re-read must see the winner
            raced.append(create_tag_elsewhere("ai", "ai-by-an-editor"))

    monkeypatch.setattr(ArticleLoader, "_load_maps", read_maps_then_lose_the_race)
    with caplog.at_level(logging.WARNING, logger="importing.database_errors"):
        result = run_import(path.parent, "--workers", "0")

    assert result.exit_code == 0, result.stderr
    assert "created 1, updated 0, unchanged 0, failed 0" in result.stdout
    assert any("lost a race" in message for message in caplog.messages)
    [winner] = raced
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["ai", "芯片"]
    assert set(Article.objects.get().tags.all()) == {winner, Tag.objects.get(name="芯片")}


@pytest.mark.django_db
def test_the_admin_tag_field_reuses_a_tag_in_another_case(admin_client):
    existing = Tag.objects.create(name="ai", slug="ai-by-an-editor")
    article = publish("人工智能周报")
    from tests.factories import add_form

    response = admin_client.post(reverse("admin:articles_article_change", args=[article.pk]), add_form(
        "人工智能周报", slug=article.slug, status="published", tags="AI, 芯片",
        published_at_0="2022-04-30", published_at_1="09:33:09", version=str(article.version)))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(article.tags.all()) == {existing, Tag.objects.get(name="芯片")}
    assert Tag.objects.filter(name__iexact="ai").count() == 1


def tag_form(name: str, slug: str) -> dict[str, str]:
    # taggit's admin shows the tag's generic TaggedItem links as an inline.
    inline = "taggit_taggeditem_items"
    return {"name": name, "slug": slug, f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0",
            f"{inline}-MIN_NUM_FORMS": "0", f"{inline}-MAX_NUM_FORMS": "1000"}


@pytest.mark.django_db
def test_adding_a_tag_in_the_admin_names_the_existing_spelling(admin_client):
    Tag.objects.create(name="ai", slug="ai")
    response = admin_client.post(reverse("admin:taggit_tag_add"), tag_form("AI", "artificial-intelligence"))
    assert response.status_code == 200
    assert "标签“ai”已存在" in response.content.decode()  # "The tag “ai” already exists" (the admin speaks Chinese)
    assert Tag.objects.count() == 1
    # Renaming a tag to another case of its own name is a rename, not a duplicate.
    tag = Tag.objects.get()
    response = admin_client.post(reverse("admin:taggit_tag_change", args=[tag.pk]), tag_form("AI", "ai"))
    assert response.status_code == 302
    assert list(Tag.objects.values_list("name", flat=True)) == ["AI"]


@pytest.mark.django_db
def test_taggits_own_merge_page_is_gone(admin_client):
    # It moved only generic TaggedItem links and created its target by exact name.
    with pytest.raises(NoReverseMatch):
        reverse("admin:taggit_tag_merge_tags")
    response = admin_client.post("/admin/taggit/tag/merge-tags/", {"new_tag_name": "AI"})
    assert response.status_code != 200 and not Tag.objects.exists()


@pytest.mark.django_db
def test_accepting_a_suggested_tag_reuses_the_tag_in_another_case():
    existing = Tag.objects.create(name="ai", slug="ai-by-an-editor")
    article = publish("人工智能周报")
    suggestion = TagSuggestion.objects.create(article=article, name="AI", score=1.0)
    assert keywords.accept([suggestion]) == 1
    assert list(article.tags.all()) == [existing]
    assert keywords.tag_named("Ai") == existing


SEED_DUPLICATES = """
# The models as they were at 0014 (today's have columns that 0014's table lacks).
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from taggit.models import Tag, TaggedItem
from django.utils import timezone
state = MigrationLoader(connection).project_state(("articles", "0014_search_automerge")).apps
Article, TaggedArticle = state.get_model("articles", "Article"), state.get_model("articles", "TaggedArticle")
now = timezone.now()
a1 = Article.objects.create(title='一', slug='one', body='<p>一</p>', published_at=now, published_date=now.date(), status='published')
a2 = Article.objects.create(title='二', slug='two', body='<p>二</p>', published_at=now, published_date=now.date(), status='published')
ai = Tag.objects.create(name='AI', slug='ai')
ai2 = Tag.objects.create(name='ai', slug='ai-2')
ai3 = Tag.objects.create(name='Ai', slug='ai-3')
chips = Tag.objects.create(name='芯片', slug='chips')
for article, tags in ((a1, (ai, ai2, chips)), (a2, (ai3,))):
    for tag in tags:
        TaggedArticle.objects.create(content_object_id=article.pk, tag_id=tag.pk)
ct = ContentType.objects.get_for_model(state.get_model("articles", "Article"))
TaggedItem.objects.create(content_type=ct, object_id=a1.pk, tag=ai2)
TaggedItem.objects.create(content_type=ct, object_id=a1.pk, tag=ai3)
"""

READ_BACK = """
import json
from taggit.models import Tag, TaggedItem
from articles.models import Article
print(json.dumps({
    "tags": sorted(Tag.objects.values_list("name", "slug")),
    "one": sorted(Article.objects.get(slug='one').tags.names()),
    "two": sorted(Article.objects.get(slug='two').tags.names()),
    "generic": sorted(TaggedItem.objects.values_list("tag__name", flat=True)),
}))
"""


@pytest.mark.slow
def test_upgrading_merges_tags_that_differ_only_in_case_into_the_oldest(scratch_db):
    """A database from before 0015, with case duplicates, migrates; the index then holds."""
    import json

    back = run_manage(scratch_db, "migrate", "articles", "0014", "-v0")
    assert back.returncode == 0, back.stderr
    seeded = run_manage(scratch_db, "shell", "-c", SEED_DUPLICATES)
    assert seeded.returncode == 0, seeded.stderr

    forward = run_manage(scratch_db, "migrate", "-v0")
    assert forward.returncode == 0, forward.stderr
    done = run_manage(scratch_db, "shell", "-c", READ_BACK)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.splitlines()[-1])  # shell -c may first say what it imported
    assert state["tags"] == [["AI", "ai"], ["芯片", "chips"]]  # the oldest spelling and its slug
    assert state["one"] == ["AI", "芯片"]  # its two spellings became one link
    assert state["two"] == ["AI"]
    assert state["generic"] == ["AI"]  # taggit's generic links were merged the same way
    assert_consistent(probe(scratch_db))

    refused = run_manage(scratch_db, "shell", "-c", "from taggit.models import Tag; Tag.objects.create(name='aI', slug='x')")
    assert refused.returncode != 0 and "IntegrityError" in refused.stderr


@pytest.mark.slow
def test_two_imports_meeting_a_tag_in_different_cases_make_one_tag(scratch_db, tmp_path):
    """Two real processes, started together, each write the same tags in their own letter case.

    Whether their first batches collide is up to the scheduler, and here the
    slugs would collide too; the test above isolates the name index. This one
    checks the whole path end to end: no failed file, one tag per name.
    """

    spellings = {"upper": ["AI", "FinTech", "ESG"], "lower": ["ai", "fintech", "esg"]}
    for case, tags in spellings.items():
        for n in range(150):
            path = tmp_path / case / f"{n}.md"
            path.parent.mkdir(exist_ok=True)
            path.write_text(post(title=f"'{case} 第{n}篇'", date=f"2022-04-{1 + n % 28:02d} 09:00:00",
                                 categories="[科技]", tags="[" + ", ".join(tags) + "]"), encoding="utf-8")
    processes = [manage(scratch_db, "import_articles", "--workers", "0", "--batch-size", "10", tmp_path / case)
                 for case in spellings]
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert_clean_run(process, stdout, stderr)
    state = probe(scratch_db)
    assert_consistent(state)  # duplicate_tags compares casefolded names
    assert state["articles"] == 300 and state["tags"] == 3

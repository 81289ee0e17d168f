"""`make demo`: fill the site with a generated, realistic archive a newcomer can try at once.

What it does, in order (`make_demo`):

1. writes `count` synthetic posts (importing.corpus, the generator the
   benchmarks use: Chinese financial news over several years, 财联社 电报
   items opening with a 【headline】, 快讯 flashes, long reads with
   （记者 …） datelines the byline detector reads, tags) to a temporary
   directory;
2. imports them through the one import entry point (importing.service.run_import,
   what `manage.py import_articles` runs), so the demo exercises what users use:
   sanitising, bylines, search index, content keys, an ImportRun in the admin;
3. places a few headline slots (the lead and secondary 要闻), unless some
   placement is live already: an editor's choices are never replaced;
4. adds reads to a handful of recent articles for 热门, unless the hot window
   already has reads, through the beacon's own counter and flush (articles.hot).

Deterministic (the same seed gives the same files, so the same articles) and
idempotent: a second run re-imports identical files (all "unchanged") and finds
slots and reads in place, so it changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from articles import front, hot
from articles.models import Article, ArticleHits, HeadlineSlot
from importing.corpus import CorpusSummary, write_corpus
from importing.report import ImportReport
from importing.service import ImportOptions, PathSource, run_import

DEFAULT_COUNT = 3000
DEFAULT_SEED = 18
# The lead story and three secondary headlines: the fifth 要闻 place is left to
# the fallback (the newest lead-channel story), so both mechanisms show.
DEMO_SLOT_POSITIONS = (
    HeadlineSlot.Position.LEAD, HeadlineSlot.Position.SECOND, HeadlineSlot.Position.THIRD,
    HeadlineSlot.Position.FOURTH,
)
# 热门: this many of the newest stories get reads, out of the newest HOT_POOL.
HOT_ARTICLES = 12
HOT_POOL = 200


@dataclass
class DemoReport:
    corpus: CorpusSummary
    imported: ImportReport
    slots_placed: int  # 0: some placement was live already
    reads_added: int  # 0: the hot window had reads already

    def summary(self) -> str:
        imported = self.imported
        slots = (f"placed {self.slots_placed} headline slots" if self.slots_placed
                 else "headline slots already live: left as they are")
        reads = (f"added {self.reads_added} reads for 热门" if self.reads_added
                 else "热门 already has reads: none added")
        return (
            f"generated {self.corpus.files} posts ({self.corpus.stories} stories); imported: created "
            f"{imported.created}, updated {imported.updated}, unchanged {imported.unchanged}, "
            f"failed {imported.failed}; {slots}; {reads}"
        )


def make_demo(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED, *, workers: int | None = None) -> DemoReport:
    """Generate, import and dress the demo archive; see the module's docstring."""
    with tempfile.TemporaryDirectory(prefix="newsportal-demo-") as folder:
        corpus = write_corpus(folder, count, seed, duplicates=False)
        # The files' dates carry their offset (RFC 2822), so the time zone only
        # names the run; the default is the site's.
        imported = run_import(PathSource([folder]), ImportOptions(workers=workers))
    slots = place_demo_slots(seed) if not HeadlineSlot.objects.live().exists() else 0
    reads = add_demo_reads(seed) if not _hot_window_has_reads() else 0
    return DemoReport(corpus=corpus, imported=imported, slots_placed=slots, reads_added=reads)


def _story_ids(newest: int, *, illustrated: bool = False) -> list[int]:
    """The newest published stories outside the wire channels: what an editor would put on the front page.

    `illustrated`: only stories with an image in the body (a long read), for the lead.
    """
    wire = front.wire_channel_ids()
    stories = Article.objects.published().exclude(categories__in=wire) if wire else Article.objects.published()
    if illustrated:
        stories = stories.filter(body__contains="<img")
    return list(stories.order_by("-published_at", "-id").values_list("pk", flat=True).distinct()[:newest])


def place_demo_slots(seed: int) -> int:
    """Lead and secondary headlines from the newest stories, chosen by `seed`; returns how many were placed."""
    candidates = _story_ids(40)
    if not candidates:
        return 0
    rng = random.Random(f"slots:{seed}")
    chosen = rng.sample(candidates, min(len(DEMO_SLOT_POSITIONS), len(candidates)))
    # The lead: a long read with images where there is one (its images show the
    # placeholders when they cannot load), not a three-line flash.
    leads = [pk for pk in _story_ids(40, illustrated=True) if pk not in chosen[1:]]
    if leads:
        chosen[0] = rng.choice(leads)
    for position, article_id in zip(DEMO_SLOT_POSITIONS, chosen):
        # HeadlineSlot.save records the slot keys: the cached home page changes.
        HeadlineSlot.objects.create(position=position, article_id=article_id)
    return len(chosen)


def _hot_window_has_reads() -> bool:
    since = timezone.now() - dt.timedelta(hours=int(settings.NEWSPORTAL_HOT_HOURS))
    return ArticleHits.objects.filter(hour__gte=since).exists()


def add_demo_reads(seed: int) -> int:
    """Reads for a few recent stories, counted and flushed as the beacon's are; returns how many.

    They count for NEWSPORTAL_HOT_HOURS like real reads: after that 热门 is
    empty again until readers (or another `make demo`) add some.
    """
    candidates = _story_ids(HOT_POOL)
    if not candidates:
        return 0
    rng = random.Random(f"reads:{seed}")
    chosen = rng.sample(candidates, min(HOT_ARTICLES, len(candidates)))
    total = 0
    for rank, article_id in enumerate(chosen):
        reads = max(1, int(rng.uniform(40, 400) / (rank + 1)))
        for _ in range(reads):
            hot.add_hit(article_id)
        total += reads
    # The flush writes closed epochs only: flush as if the current one had ended.
    hot.flush_hits(time.time() + max(1, int(settings.NEWSPORTAL_HOT_FLUSH_SECONDS)))
    hot.refresh_hot(force=True)
    return total

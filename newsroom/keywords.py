"""Suggested keyword tags: jieba TF-IDF over the title and the body, with a domain dictionary.

Up to five suggestions an article, stored apart from its tags (TagSuggestion,
pending until an editor accepts or rejects them; `import_articles
--accept-suggested-tags` accepts them at once).

* Segmentation is jieba's, with its dictionary and IDF table as shipped in the
  package (nothing is downloaded). The domain dictionary — market terms and
  company names from newsroom/data/keywords/ plus what editors add in the
  admin (KeywordTerm) — is added to it so that 宁德时代 or 北向资金 stay one
  word, and those words are preferred: their IDF is raised to the table's
  upper quartile.
* Stop words (the shipped list, jieba's, and the editors') are never
  suggested, nor numbers (with their units: 2022年, 3.5%, 十二), tags the
  article already has, or any part of its author's, outlet's (the author, and
  the outlet opening the dateline) or reporters' names: jieba cuts 财联社
  into 财 + 联社, and 联社 is no keyword.
* The title counts twice: it names the story's subject.

jieba loads its dictionary once per process, lazily (about 1–2 s), on the
first suggestion; a changed dictionary in the admin is picked up at the next
batch (one cheap query per batch checks it). Cost per article: see
docs/BENCHMARKS.md — far above the import's per-file budget, which is why
the default import suggests nothing and suggestions are made by
`suggest_tags`, by `--accept-suggested-tags`, or when an editor opens an
article that has none.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from taggit.models import Tag

from articles.iterables import batched
from articles.models import Article, KeywordTerm, TagSuggestion
from articles.sanitize import html_to_text

DATA_DIR = Path(__file__).resolve().parent / "data" / "keywords"
MAX_SUGGESTIONS = 5
TEXT_CHARS = 4000  # the lead and the first paragraphs carry the subject; long tails cost time only
CANDIDATES = 25

log = logging.getLogger(__name__)
_NOT_A_TAG = re.compile(r"^[\d.,%％:：/\-+年月日号时分秒亿万千百元股只家个]+$|^\W+$")
_HAS_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{2,}")
# A number is numerals (any script's digits, Chinese ones) with at most units and signs around
# them: 2022, 76.90, 3.5%, 十二, 1-8月, 100亿元, 第三. 沪深300 and 标普500 are names, not numbers.
_NUMERALS = frozenset("〇零一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟")
_NUMBER_PARTS = frozenset(".,%％‰:：/-+~～ 年月日号时分秒元角股只家个份次倍成点余多约第")
# The outlet that opens a dateline (财联社2月28日电, 新华社北京12月6日电, 每经网1月28日讯):
# the longest run of the words before the date that ends as an outlet's name does.
_DATELINE = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{2,14}?)\d{1,2}月\d{1,2}日(?:电|讯|消息)")
_OUTLET_ENDINGS = tuple("社报网台刊闻经道财视")


def read_list(name: str) -> list[str]:
    """A shipped word list: one entry a line, '#' comments."""
    words = []
    for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            words.append(word)
    return words


@dataclass(frozen=True)
class Dictionary:
    terms: tuple[str, ...]  # market terms and company names
    stop_words: frozenset[str]

    @classmethod
    def current(cls) -> "Dictionary":
        rows = list(KeywordTerm.objects.values_list("word", "kind"))
        terms = read_list("market_terms.txt") + read_list("companies.txt")
        terms += [w for w, kind in rows if kind != KeywordTerm.Kind.STOP]
        stop = set(read_list("stop_words.txt")) | {w for w, kind in rows if kind == KeywordTerm.Kind.STOP}
        return cls(tuple(dict.fromkeys(t for t in terms if t not in stop)), frozenset(w.lower() for w in stop))


class Suggester:
    """jieba's TF-IDF with the domain dictionary; one per process (see `suggester()`)."""

    def __init__(self, dictionary: Dictionary) -> None:
        import jieba
        import jieba.analyse
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        self.dictionary = dictionary
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        for word in dictionary.terms:
            self.tokenizer.add_word(word)
        self.tfidf = jieba.analyse.TFIDF()
        self.tfidf.tokenizer = self.tokenizer
        self.tfidf.postokenizer = jieba.posseg.POSTokenizer(self.tokenizer)
        self.tfidf.stop_words = set(self.tfidf.stop_words) | set(dictionary.stop_words)
        idf = sorted(self.tfidf.idf_freq.values())
        preferred = idf[len(idf) * 3 // 4]
        for word in dictionary.terms:
            self.tfidf.idf_freq[word] = max(self.tfidf.idf_freq.get(word, 0.0), preferred)

    def suggest(self, title: str, text: str, *, exclude: Iterable[str] = (), names: Iterable[str] = (),
                limit: int = MAX_SUGGESTIONS) -> list[tuple[str, float]]:
        """The best `limit` keywords of the story, with their TF-IDF weights.

        `exclude`: words never suggested (the article's tags); `names`: the
        author's, the outlet's and the reporters' names, of which no part is
        suggested either (jieba cuts 财联社 into 财 + 联社).
        """
        excluded = {e.casefold() for e in exclude if e}
        name_list = [n.casefold() for n in names if n and len(n) >= 2]
        source = f"{title}\n{title}\n{text[:TEXT_CHARS]}"
        found: list[tuple[str, float]] = []
        for word, weight in self.tfidf.extract_tags(source, topK=CANDIDATES, withWeight=True):
            word = word.strip()
            if (len(word) < 2 or word.casefold() in excluded or _NOT_A_TAG.match(word)
                    or not _HAS_WORD.search(word) or len(word) > 30 or is_number(word)
                    or is_name_part(word, name_list)):
                continue
            found.append((word, round(weight, 4)))
            excluded.add(word.casefold())
            if len(found) == limit:
                break
        return found


def is_number(word: str) -> bool:
    """A number, with its units if any (2022年, 3.5%, 十二, 100亿元), which is never a tag."""
    has_numeral = False
    for char in word:
        if char.isdigit() or char in _NUMERALS:
            has_numeral = True
        elif char not in _NUMBER_PARTS:
            return False
    return has_numeral


def is_name_part(word: str, names: Iterable[str]) -> bool:
    """`word` is one of `names`, a part of one (联社 of 财联社) or holds one (财联社记者); case-blind."""
    folded = word.casefold()
    return any(folded in name or name in folded for name in (n.casefold() for n in names if n))


def dateline_outlet(text: str) -> str:
    """The outlet named at the start of a story's dateline (财联社2月28日电 → 财联社), or ""."""
    match = _DATELINE.search(text[:200])
    if not match:
        return ""
    before = match.group(1)
    for end in range(len(before), 1, -1):
        if before[end - 1] in _OUTLET_ENDINGS:
            return before[:end]
    return ""


_lock = threading.Lock()
_state: dict[str, object] = {}


def dictionary_version() -> tuple:
    return tuple(KeywordTerm.objects.aggregate(n=Count("id"), last=Max("updated_at")).values())


def suggester() -> Suggester:
    """The process's suggester, built on first use and again after editors change the dictionary."""
    version = dictionary_version()
    with _lock:
        if _state.get("version") != version or "suggester" not in _state:
            _state["suggester"] = Suggester(Dictionary.current())
            _state["version"] = version
        return _state["suggester"]  # type: ignore[return-value]


# --- storing and deciding -------------------------------------------------------------------------


def names_of(article: Article, text: str | None = None) -> list[str]:
    """Who wrote the article — its reporters, the outlet opening its dateline, its author — never what it is about."""
    text = html_to_text(article.body[:2000]) if text is None else text
    names = [*article.bylines.values_list("name", flat=True), dateline_outlet(text)]
    if article.author_id:
        names.append(article.author.name)
    return [name for name in names if name]


def offered(suggestions: Iterable[TagSuggestion], article: Article) -> list[TagSuggestion]:
    """The stored suggestions worth offering: not a number, no part of a name (ones stored before that rule)."""
    names = names_of(article)
    return [s for s in suggestions if not is_number(s.name) and not is_name_part(s.name, names)]


def suggestions_for(article: Article, engine: Suggester | None = None) -> list[tuple[str, float]]:
    engine = engine or suggester()
    text = html_to_text(article.body[: TEXT_CHARS * 4])
    return engine.suggest(article.title, text, exclude=article.tags.names(), names=names_of(article, text))


def store(article: Article, suggestions: list[tuple[str, float]]) -> list[TagSuggestion]:
    """Replace the article's pending suggestions; names decided before are not suggested again."""
    with transaction.atomic():
        decided = {name.casefold() for name in TagSuggestion.objects.filter(article=article)
                   .exclude(state=TagSuggestion.State.PENDING).values_list("name", flat=True)}
        TagSuggestion.objects.filter(article=article, state=TagSuggestion.State.PENDING).delete()
        return TagSuggestion.objects.bulk_create(
            TagSuggestion(article=article, name=name, score=score)
            for name, score in suggestions if name.casefold() not in decided
        )


def suggest(articles: Iterable[Article]) -> int:
    """Compute and store suggestions for `articles`; returns how many were made."""
    engine = suggester()
    made = 0
    for article in articles:
        made += len(store(article, suggestions_for(article, engine)))
    return made


def tag_named(name: str) -> Tag:
    """The existing tag of that name (any case), or a new one.

    get_or_create: if another process creates the tag (in any case) between
    the lookup and the insert, the unique index on lower(name) (migration
    0015) rejects the insert and the other process's tag is read instead.
    """
    return Tag.objects.get_or_create(name__iexact=name, defaults={"name": name})[0]


def accept(suggestions: Iterable[TagSuggestion], user=None) -> int:
    """Make the suggestions tags of their articles, as part of what is being saved anyway.

    For the importer's --accept-suggested-tags (the tags are part of what the
    import wrote). An editor's decision is saved as their edit by
    newsroom.operations.accept_suggestions.
    """
    count = 0
    with transaction.atomic():
        by_article: dict[int, list[TagSuggestion]] = {}
        for suggestion in suggestions:
            if suggestion.state != TagSuggestion.State.ACCEPTED:
                by_article.setdefault(suggestion.article_id, []).append(suggestion)
        for article in Article.objects.filter(pk__in=by_article):
            count += tag(article, by_article[article.pk], user)
    return count


def tag(article: Article, chosen: list[TagSuggestion], user=None) -> int:
    """Add the chosen suggestions of `article` as its tags and mark them accepted; returns how many."""
    article.tags.add(*(tag_named(s.name) for s in chosen))
    TagSuggestion.objects.filter(pk__in=[s.pk for s in chosen]).update(
        state=TagSuggestion.State.ACCEPTED, decided_at=timezone.now(), decided_by=_decider(user))
    return len(chosen)


def _decider(user):
    return user if user is not None and user.is_authenticated else None


def reject(suggestions: Iterable[TagSuggestion], user=None) -> int:
    pks = [s.pk for s in suggestions if s.state != TagSuggestion.State.REJECTED]
    TagSuggestion.objects.filter(pk__in=pks).update(
        state=TagSuggestion.State.REJECTED, decided_at=timezone.now(), decided_by=_decider(user))
    return len(pks)


def accept_for_articles(article_ids: Iterable[int], *, batch_size: int = 200) -> int:
    """Suggest and accept at once (import_articles --accept-suggested-tags); returns tags added."""
    added = 0
    for chunk in batched(article_ids, batch_size):
        articles = list(Article.objects.filter(pk__in=chunk).select_related("author"))
        suggest(articles)
        added += accept(TagSuggestion.objects.filter(article__in=articles, state=TagSuggestion.State.PENDING))
    return added

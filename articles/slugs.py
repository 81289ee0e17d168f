"""Slugs: the readable, unique last part of an address (articles, categories, authors, tags).

Django's `slugify` drops every character that is not a letter, digit, `_`, `-`
or space, so a market report's figures lost their meaning in the address:
"沪指涨0.23%" became `沪指涨023`. `unicode_slug` first spells out what the
signs of a number mean, then slugifies:

| in the title              | in the slug | example                       |
| ------------------------- | ----------- | ----------------------------- |
| `.` between two digits    | `-`         | `0.23` → `0-23`               |
| `%` (also `％`)            | `-pct`      | `0.23%` → `0-23-pct`          |
| `‰`                       | `-permille` | `5‰` → `5-permille`           |
| `+` (also `＋`)            | `plus-`     | `+5%` → `plus-5-pct`          |
| `-`/`−` starting a number | `minus-`    | `-1.5%` → `minus-1-5-pct`     |

A `-` after a Latin letter or a digit (`2022-06-11`, `COVID-19`, `A-B`) stays a hyphen.
Only new slugs follow this convention: a stored slug is never recomputed when
its title changes (an editor who clears the slug in the admin asks for a new
one; the old address then answers with a 301, see `record_url_changes`). The
admin's JavaScript fills a new article's slug by Django's own rule as the title
is typed; `prepopulated_slug` tells such a slug from one the editor chose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.utils.text import slugify

SLUG_MAX_LENGTH = 80

# The signs spelled out, each with spaces around it that slugify turns into single hyphens.
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
# A minus sign: `−` (U+2212) anywhere before a digit, or `-` before a digit where it
# is not a hyphen: not after a Latin letter or a digit (`COVID-19`, `2022-06`), so at
# the start, after a space, a sign or a Chinese character (`跌-1.5%`).
_MINUS = re.compile(r"\u2212(?=\.?\d)|(?<![A-Za-z0-9_.])-(?=\.?\d)")
_SIGN_WORDS = (
    ("%", " pct "),
    ("‰", " permille "),
    ("+", " plus "),
)


def spell_out_signs(text: str) -> str:
    """`text` with the signs of numbers written as words (the table in this module's docstring)."""
    text = unicodedata.normalize("NFKC", text)  # ％ → %, ＋ → +, full-width digits → digits
    text = _MINUS.sub(" minus ", text)
    text = _DECIMAL_POINT.sub("-", text)
    for sign, word in _SIGN_WORDS:
        text = text.replace(sign, word)
    return text


def unicode_slug(text: str, fallback: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """A Unicode slug of `text`, never empty, at most `max_length` characters."""
    slug = slugify(spell_out_signs(text), allow_unicode=True)[:max_length].strip("-_")
    return slug or fallback


def unique_slug(base: str, taken: Iterable[str] | set[str], max_length: int = SLUG_MAX_LENGTH) -> str:
    """`base`, or `base-2`, `base-3`, … : the first not in `taken`."""
    taken = taken if isinstance(taken, set) else set(taken)
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)].rstrip("-_") + suffix
        if candidate not in taken:
            return candidate
        n += 1


# What Django admin's URLify (admin/js/urlify.js, with allowUnicode) keeps: letters, numbers, `-`, `_`, space.
_URLIFY_DROPPED = re.compile(r"[^-_\w\s]")


def prepopulated_slug(text: str, max_length: int) -> str:
    """The slug the Django admin's JavaScript fills in from `text` (URLify): signs and decimals dropped."""
    slug = _URLIFY_DROPPED.sub("", text.lower()).strip()
    slug = re.sub(r"[-\s]+", "-", slug)[:max_length]
    return slug.rstrip("-")

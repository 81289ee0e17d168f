"""`reverse()` remembered: the same page addresses are built again and again.

A listing prints each article's, category's and outlet's address, and the
channel bar every top-level category's, on every page: the home page made ~60
`reverse()` calls, ~0.5 ms of its time (docs/BENCHMARKS.md, "Uncached page
speed"). An address depends only on the URLconf, the script prefix and the
arguments (and, were the patterns ever translated, the language), so each is
built once per process.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

# Enough for every address a busy listing and its neighbours print; least recently used go first.
REMEMBERED = 20_000


def reverse_cached(viewname: str, **kwargs: object) -> str:
    """`reverse(viewname, kwargs=kwargs)`, remembered per URLconf, script prefix and language."""
    return _reverse(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), get_language(), viewname,
                    tuple(kwargs.items()))


@lru_cache(maxsize=REMEMBERED)
def _reverse(_root_urlconf: str, urlconf: str | None, _prefix: str, _language: str | None, viewname: str,
             kwargs: tuple) -> str:
    # The root URLconf, the prefix and the language are part of the key only: reverse() reads them itself.
    return reverse(viewname, urlconf=urlconf, kwargs=dict(kwargs))

"""The search index's tokens of a long text, computed with numpy.

`articles.search` defines the tokens (CJK bigrams, each run's last character
alone, words cut at a maximum length) and finds them with a regex, one match
per token: about 0.25 ms for an article body of 2,000 characters, more than
parsing and sanitising the file. Here the same string is built from arrays of
code points in a dozen vectorised steps, about three times faster. It is
worth it for bodies only; a title is quicker through the regex.

Only `articles.search` uses this, and it checks both agree (tests too).
"""

from __future__ import annotations

import re
import sys

import numpy as np

SEPARATOR, CJK, WORD = 0, 1, 2
_SPACE = ord(" ")


class BigramTokenizer:
    """Space-separated index tokens of a normalised text, as one string."""

    def __init__(self, cjk_run: str, word_run: str, max_word_chars: int) -> None:
        """`cjk_run` and `word_run`: regexes of a run of each kind of token character."""
        self.max_word_chars = max_word_chars
        self.kinds = self._kinds(cjk_run, word_run)

    @staticmethod
    def _kinds(cjk_run: str, word_run: str) -> np.ndarray:
        """The kind of every code point (SEPARATOR, CJK or WORD), found by the regexes themselves."""
        kinds = np.full(sys.maxunicode + 1, SEPARATOR, dtype=np.uint8)
        every_character = "".join(map(chr, range(sys.maxunicode + 1)))
        for kind, pattern in ((CJK, cjk_run), (WORD, word_run)):
            for run in re.finditer(pattern, every_character):
                kinds[run.start():run.end()] = kind
        return kinds

    def __call__(self, text: str) -> str:
        """The tokens of `text` (already normalised), each followed by a space but the last.

        Raises UnicodeEncodeError for a lone surrogate, which UTF-32 cannot hold.
        """
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        kinds = self.kinds[codes]
        following, preceding = np.zeros_like(kinds), np.zeros_like(kinds)
        following[:-1], preceding[1:] = kinds[1:], kinds[:-1]

        cjk = kinds == CJK
        bigram = cjk & (following == CJK)  # else the run's last character, alone
        # Each character's place in its word, to cut words at max_word_chars.
        positions = np.arange(len(kinds))
        word = kinds == WORD
        word_start = np.maximum.accumulate(np.where(word & (preceding != WORD), positions, 0))
        place = positions - word_start
        kept = word & (place < self.max_word_chars)
        word_end = kept & ((following != WORD) | (place == self.max_word_chars - 1))

        # Every CJK character writes itself, its successor if they make a
        # bigram, and a space; a word character writes itself, and a space
        # if it ends the (cut) word.
        widths = 2 * cjk + bigram + kept + word_end
        ends = np.cumsum(widths)
        if not len(ends) or not ends[-1]:
            return ""
        starts = ends - widths
        out = np.full(int(ends[-1]), _SPACE, dtype=np.uint32)
        writes = widths > 0
        out[starts[writes]] = codes[writes]
        out[starts[bigram] + 1] = codes[np.flatnonzero(bigram) + 1]
        return out[:-1].tobytes().decode("utf-32-le")  # without the final space

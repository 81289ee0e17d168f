"""The search index's tokens of a long text, computed with numpy.

`search.tokens` defines the tokens (CJK bigrams, each run's last character
alone, words cut at a maximum length) and finds them with a regex, one match
per token: about 0.25 ms for an article body of 2,000 characters, more than
parsing and sanitising the file. Here the same string is built from arrays of
code points in a dozen vectorised steps: about 0.035 ms. It is
worth it for bodies only; a title is quicker through the regex.

Only `search.tokens` uses this, and it checks both agree (tests too).
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
        if not len(codes):
            return ""
        kinds = self.kinds[codes]
        following = np.empty_like(kinds)
        following[:-1], following[-1] = kinds[1:], SEPARATOR
        cjk, word = kinds == CJK, kinds == WORD
        bigram = cjk & (following == CJK)  # else the run's last character, alone
        kept, word_end = self._cut_words(word, following == WORD)

        # Each character gets three slots: itself, its successor, a space.
        # A CJK character fills all three if it starts a bigram, else the
        # first and the last; a word character fills the first, and the last
        # if it ends its (cut) word. Keeping the filled slots, in order, spells
        # out the tokens.
        slots = np.empty((len(codes), 3), dtype=np.uint32)
        slots[:, 0] = codes
        slots[:-1, 1] = codes[1:]
        slots[:, 2] = _SPACE
        filled = np.empty((len(codes), 3), dtype=bool)
        np.logical_or(cjk, kept, out=filled[:, 0])
        filled[:, 1] = bigram
        np.logical_or(cjk, word_end, out=filled[:, 2])
        out = slots[filled]
        return out[:-1].tobytes().decode("utf-32-le")  # without the final space

    def _cut_words(self, word: np.ndarray, next_is_word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The word characters kept (each word's first max_word_chars), and those that end a kept word."""
        word_end = word & ~next_is_word
        ends = np.flatnonzero(word_end)
        if not len(ends):
            return word, word_end
        first = word.copy()
        first[1:] &= ~word[:-1]
        starts = np.flatnonzero(first)
        if (ends - starts).max() < self.max_word_chars:
            return word, word_end  # no word to cut, as in nearly every text
        # Each character's place in its word.
        positions = np.arange(len(word))
        place = positions - np.maximum.accumulate(np.where(first, positions, 0))
        kept = word & (place < self.max_word_chars)
        return kept, kept & (~next_is_word | (place == self.max_word_chars - 1))

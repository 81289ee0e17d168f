"""An import's error and warning lines in the reader's language, translated when shown.

The importer writes its lines in English ("<file>: <problem>"; a bad front
matter's fields joined by "; "): the command line prints them so, and the
import history stores them so (`ImportRun.errors`, `.warnings`), whatever the
language of whoever started the run. The admin's run page shows them through
`translated_line`, in the language of the request: each known problem's English
text is a msgid with %(name)s placeholders, read back as a pattern, and the
catalogue (locale/zh_Hans) gives the Chinese. A line no pattern matches (a
database's own message, PyYAML's wording of a syntax error inside a matched
line) is shown as it was written.

The patterns follow the wording of importing.parse, importing.upload and
importing.pipeline; tests/importing/test_error_lines.py imports bad files of
each kind and checks that their lines are translated.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _noop

# Problems of a whole file: "<file>: <problem>".
FILE_PROBLEMS = (
    _noop("file is empty"),
    _noop("file is binary (contains NUL bytes), not a text post"),
    _noop("file is not UTF-8 (invalid byte %(byte)s at offset %(offset)s)"),
    _noop("file is %(size)s bytes, over the %(limit)s-byte limit (--max-bytes)"),
    _noop("file is %(size)s bytes, over the %(limit)s-byte limit (NEWSPORTAL_IMPORT_MAX_BYTES)"),
    _noop("file is over the %(limit)s-byte limit"),
    _noop("file name is over %(n)s characters"),
    _noop("cannot read file: %(reason)s"),
    _noop("cannot unpack from the archive: %(reason)s"),
    _noop("is encrypted; upload it unencrypted"),
    _noop("front matter opened with '%(sep)s' is never closed"),
    _noop("no front matter (expected a '---' or ';;;' block)"),
    _noop("front matter: is over %(n)s KiB"),
    _noop("front matter: is empty"),
    _noop("front matter: must be a mapping of fields, not a %(type)s"),
    _noop("front matter: uses more than %(n)s YAML aliases"),
    _noop("front matter: invalid YAML at line %(line)s: %(problem)s"),
    _noop("front matter: invalid YAML: %(problem)s"),
    _noop("front matter: nests too deeply"),
    _noop("front matter: invalid JSON at line %(line)s: %(problem)s"),
    _noop("front matter: has more than %(n)s values"),
    _noop("front matter: nests deeper than %(n)s levels"),
    # Warnings: imported, with something guessed or left out.
    _noop("date is missing: dated by the file's modification time, %(time)s"),
    _noop("permalink: the old address is not known (%(reason)s): no redirect from it"),
    _noop("permalink: the old address is over %(n)s bytes: no redirect from it"),
)

# Problems of one front-matter field, "<field> <problem>"; a file's are joined by "; ".
FIELD_PROBLEMS = (
    _noop("%(field)s is missing"),
    _noop("%(field)s is blank"),
    _noop("%(field)s must be text, not a %(type)s"),
    _noop("%(field)s must be text, not %(type)s"),
    _noop("%(field)s is %(n)s characters, over the limit of %(limit)s"),
    _noop("%(field)s must be a date, not a %(type)s"),
    _noop("%(field)s year %(year)s is out of range"),
    _noop("%(field)s %(value)s is not a valid date: %(reason)s"),
    _noop("%(field)s %(value)s is not a date (YYYY-MM-DD HH:MM:SS, YYYY/M/D H:MM, ISO 8601, RFC 2822 or "
          "another form Hexo reads)"),
    _noop("%(field)s %(value)s is a number, not a date (Hexo reads a number as milliseconds since 1970)"),
    _noop("%(field)s is missing, and the file's modification time (%(year)s) is out of range"),
    _noop("%(field)s URL is over %(n)s characters"),
    _noop("%(field)s %(value)s is not an http(s) URL or a site path"),
    _noop("%(field)s must be true or false, not %(value)s"),
    _noop("%(field)s %(value)s is not a slug (letters, digits, '-' and '_' only)"),
    _noop("%(field)s must be a list, not a %(type)s"),
    _noop("%(field)s must be a string or a list, not a %(type)s"),
    _noop("%(field)s must be a list of names"),
    _noop("%(field)s has %(n)s entries, over the limit of %(limit)s"),
    _noop("%(field)s has %(n)s chains, over the limit of %(limit)s"),
    _noop("%(field)s a chain is %(n)s levels deep, over the limit of %(limit)s"),
    _noop("%(field)s a chain may hold only names"),
    _noop("%(field)s name %(value)s… is over %(n)s characters"),
    _noop("%(field)s %(value)s is not 'role name' (roles: %(roles)s)"),
    _noop("%(field)s must be 64 lower-case hexadecimal digits"),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(template: str) -> re.Pattern[str]:
    """The English template as a regular expression: each %(name)s a lazy group of its own."""
    parts, last = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        parts.append(rf"(?P<{match.group(1)}>.+?)" if match.group(1) != "field" else r"(?P<field>[\w-]+)")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[tuple[re.Pattern[str], str], ...], tuple[tuple[re.Pattern[str], str], ...]]:
    return (tuple((_pattern(t), t) for t in FILE_PROBLEMS), tuple((_pattern(t), t) for t in FIELD_PROBLEMS))


def _translated(text: str, patterns) -> str | None:
    for pattern, template in patterns:
        match = pattern.fullmatch(text)
        if match:
            return gettext(template) % match.groupdict()
    return None


def _problem(text: str) -> str | None:
    """One problem in the current language; None when it is not one the importer words."""
    files, fields = _compiled()
    found = _translated(text, files)
    if found is not None:
        return found
    parts = text.split("; ")
    translated = [_translated(part, fields) for part in parts]
    if all(t is not None for t in translated):
        return gettext("; ").join(translated)
    return None


def translated_line(line: str) -> str:
    """`line` ("<file>: <problem>") in the current language; a line of unknown wording as it was."""
    # The file's name may hold ": " itself: try each place the problem could start.
    start = line.find(": ")
    while start != -1:
        problem = _problem(line[start + 2:])
        if problem is not None:
            return f"{line[:start]}{gettext(': ')}{problem}"
        start = line.find(": ", start + 2)
    return line


def translated_lines(lines: list[str]) -> list[str]:
    return [translated_line(line) for line in lines]

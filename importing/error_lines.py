"""An import's error and warning lines in the reader's language, translated when shown.

The importer writes its lines in English ("<file>: <problem>"; a bad front
matter's fields joined by "; "): the command line prints them so, and the
import history stores them so (`ImportRun.errors`, `.warnings`), whatever the
language of whoever started the run. The admin's run page shows them through
`translated_line`, in the language of the request: each known problem's English
text is a msgid with %(name)s placeholders, read back as a pattern, and the
catalogue (locale/zh_Hans) gives the Chinese. A line no pattern matches is
shown as it was written.

Some values inside a line are another library's English: PyYAML's or json's
wording of a syntax error (`%(problem)s`), a database's message (`%(detail)s`),
Python's reason a date is impossible or the OS's a file cannot be read
(`%(reason)s`), why an asset was refused (`%(why)s`). Each known wording is
shown in Chinese with the original kept in parentheses, so nothing is lost
for a technical reader; a syntax error of unknown wording still says 语法错误.

The patterns follow the wording of importing.parse, importing.upload,
importing.pipeline, importing.hexo_site (a site's `_config.yml`),
importing.database_errors (`explain`), importing.assets, importing.asset_store
and importing.tag_plugins; tests/importing/test_error_lines.py imports bad
files of each kind, through the command and the upload page, and checks that
their lines are translated.
"""

from __future__ import annotations

import re
from functools import cache

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
    _noop("front matter: invalid YAML at line %(line)s, column %(column)s: %(problem)s"),
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
    # A path given on the command line (importing.pipeline).
    _noop("no such file or directory"),
    # A Hexo site's _config.yml, "<site>/_config.yml: <problem>" (importing.hexo_site.SiteConfigError);
    # its settings' problems are in FIELD_PROBLEMS.
    _noop("cannot be read: %(reason)s"),
    _noop("is over %(n)s bytes"),
    _noop("is not UTF-8 (invalid byte at offset %(offset)s)"),
    _noop("is not valid YAML at line %(line)s, column %(column)s: %(problem)s"),
    _noop("is not valid YAML at line %(line)s: %(problem)s"),
    _noop("is not valid YAML: %(problem)s"),
    _noop("must be a mapping of settings"),
    # A database error that stopped one file (importing.database_errors.explain).
    _noop("database error: %(detail)s"),
    _noop("the database is read-only (%(detail)s)"),
    _noop("the database or its disk is full (%(detail)s)"),
    _noop("the database file cannot be read or written (I/O error) (%(detail)s)"),
    _noop("the database cannot be opened (%(detail)s)"),
    # A post's asset folder (importing.assets, importing.asset_store): warnings.
    _noop("asset folder %(folder)s/ is a symbolic link: not read"),
    _noop("asset %(name)s: %(why)s; not imported"),
    _noop("asset %(name)s: not stored (%(detail)s)"),
    # Hexo's tag plugins in a post's body (importing.tag_plugins): warnings.
    _noop("{%% post_path %%}: no post %(slug)s in this import: the path is left empty"),
    _noop("{%% post_link %%}: no post %(slug)s in this import: its text is kept without a link"),
    _noop("{%% %(tag)s %%}: asset %(name)s is not in the post's asset folder: the image is left out"),
    _noop("{%% %(tag)s %%}: asset %(name)s is not in the post's asset folder: it is left out"),
    _noop("{%% %(tag)s %%}: cannot include %(path)s (a file outside the post): only its title is kept"),
    _noop("{%% %(tag)s %%} is not a tag plugin newsportal knows (a site's own?): "
          "its content is kept, as Markdown, in a neutral block"),
    _noop("{%% %(tag)s %%} is not a tag plugin newsportal knows (a site's own?): kept as text"),
    _noop("{%% %(tag)s %%} is never closed with {%% end%(end)s %%}: kept as text"),
    _noop("{%% %(tag)s %%} is nested more than %(n)s deep: kept as text"),
    _noop("template variable %(value)s is not rendered: kept as text"),
    _noop("%(value)s closes no tag: kept as text"),
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
    # A setting of a Hexo site's _config.yml (importing.hexo_site).
    _noop("%(field)s must be a mapping of hexo-renderer-marked's options"),
    _noop("%(field)s must be one of %(allowed)s, not %(value)s"),
    _noop("%(field)s must be a mapping, not %(type)s"),
    _noop("%(field)s %(value)s is not a known time zone"),
)

# Why a whole run failed or stopped (ImportRun.failure_reason, shown beside its status; importing.runs,
# importing.tasks, importing.pipeline, newsportal.tasks): most specific first, the exception that
# ended the run ("<class>: <message>") last.
RUN_FAILURES = (
    _noop("interrupted (Ctrl-C or SIGINT); the batches committed before are kept: run the import again to "
          "finish it"),
    _noop("the import process (pid %(pid)s on %(host)s) ended without recording its end (killed, or the "
          "database could not be written); run the import again to complete it"),
    _noop("a worker process ended abruptly (killed, or out of memory?); the batches committed before are kept: "
          "run the import again to finish it"),
    _noop("worker %(worker)s stopped while running this task (attempt %(n)s of %(limit)s)"),
    _noop("the uploaded files are gone from the import spool (%(detail)s); upload them again"),
    _noop("the import could not be queued (%(detail)s); nothing was imported: upload the files again"),
    _noop("attempt %(n)s of %(limit)s failed (%(failure)s); it will be tried again"),
    _noop("%(failure)s; it will be tried again"),
    _noop("the import task failed for good: %(failure)s"),
    _noop("the task failed"),
    _noop("%(exception)s: %(failure)s"),
)

# Another library's words inside a line, by the placeholder that holds them.
# A syntax error (`%(problem)s`): PyYAML's pure-Python parser, libyaml's (the C
# loader most front matter goes through) and json's.
SYNTAX_PHRASES = (
    # PyYAML
    _noop("expected <block end>, but found %(token)s"),
    _noop("expected ',' or ']', but got %(token)s"),
    _noop("expected ',' or '}', but got %(token)s"),
    _noop("expected '<document start>', but found %(token)s"),
    _noop("expected the node content, but found %(token)s"),
    _noop("expected a comment or a line break, but found %(token)s"),
    _noop("expected alphabetic or numeric character, but found %(token)s"),
    _noop("expected ' ', but found %(token)s"),
    _noop("found character %(token)s that cannot start any token"),
    _noop("mapping values are not allowed here"),
    _noop("mapping keys are not allowed here"),
    _noop("could not find expected ':'"),
    _noop("found unexpected end of stream"),
    _noop("found unexpected document separator"),
    _noop("found unknown escape character %(token)s"),
    _noop("found undefined alias %(token)s"),
    _noop("found undefined tag handle %(token)s"),
    _noop("found unhashable key"),
    _noop("expected a single document in the stream"),
    # libyaml
    _noop("did not find expected key"),
    _noop("did not find expected ',' or ']'"),
    _noop("did not find expected ',' or '}'"),
    _noop("did not find expected node content"),
    _noop("did not find expected '-' indicator"),
    _noop("did not find expected comment or line break"),
    _noop("did not find expected <document start>"),
    _noop("did not find expected alphabetic or numeric character"),
    _noop("mapping values are not allowed in this context"),
    _noop("block sequence entries are not allowed in this context"),
    _noop("found character that cannot start any token"),
    _noop("found a tab character that violates indentation"),
    _noop("found unknown escape character"),
    _noop("found undefined alias"),
    # json
    _noop("Expecting value"),
    _noop("Expecting ',' delimiter"),
    _noop("Expecting ':' delimiter"),
    _noop("Expecting property name enclosed in double quotes"),
    _noop("Unterminated string starting at"),
    _noop("Invalid control character at"),
    _noop("Invalid \\escape: %(token)s"),
    _noop("Extra data"),
)

# Reasons (`%(reason)s`, `%(detail)s`, `%(why)s`, `%(failure)s`): Python's for an impossible date,
# the OS's for a file, zipfile's, the database's.
LIBRARY_REASONS = (
    _noop("month must be in 1..12"),
    _noop("day is out of range for month"),
    _noop("hour must be in 0..23"),
    _noop("minute must be in 0..59"),
    _noop("second must be in 0..59"),
    _noop("year %(year)s is out of range"),
    _noop("No such file or directory"),
    _noop("Permission denied"),
    _noop("Is a directory"),
    _noop("Bad CRC-32 for file %(name)s"),
    _noop("database is locked"),
    _noop("database table is locked"),
    _noop("UNIQUE constraint failed: %(columns)s"),
    _noop("database or disk is full"),
    _noop("attempt to write a readonly database"),
    _noop("server closed the connection unexpectedly"),
    _noop("[Errno 28] No space left on device"),
)
# PostgreSQL's messages that go on with their details: known by how they begin.
REASON_BEGINNINGS = (
    _noop("deadlock detected"),
    _noop("could not serialize access"),
    _noop("duplicate key value violates unique constraint"),
)
# The importer's own wording of a reason (an asset refused, an old address not known):
# shown in Chinese alone, no original beside it.
OWN_REASONS = (
    _noop("a link to a file outside the asset folder"),
    _noop("not a regular file"),
    _noop("SVG is not accepted (it can carry scripts)"),
    _noop("an image with too many pixels"),
    _noop("not an image (PNG, JPEG, GIF or WebP, checked by content)"),
    _noop("the post has no permalink"),
    _noop("the permalink uses :id and the post has no `id` (Hexo made a random one)"),
    _noop("the permalink uses :%(name)s, which the post does not have"),
)
REASON_PHRASES = LIBRARY_REASONS + OWN_REASONS

SYNTAX_ERROR = _noop("syntax error")

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def _pattern(template: str) -> re.Pattern[str]:
    """The English template as a regular expression: each %(name)s a lazy group of its own, %% a %."""
    parts, last = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        name = match.group(1)
        if name is None:
            parts.append("%")
        elif name in ("field", "exception"):  # a front-matter key, an exception's class: one word
            parts.append(rf"(?P<{name}>[\w.-]+)")
        else:
            parts.append(rf"(?P<{name}>.+?)")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts), re.DOTALL)


Patterns = tuple[tuple[re.Pattern[str], str], ...]


@cache
def _compiled(templates: tuple[str, ...]) -> Patterns:
    return tuple((_pattern(t), t) for t in templates)


def _translated(text: str, templates: tuple[str, ...]) -> str | None:
    for pattern, template in _compiled(templates):
        match = pattern.fullmatch(text)
        if match:
            values = {name: _value(name, value) for name, value in match.groupdict().items()}
            return gettext(template) % values
    return None


def _with_original(chinese: str, original: str) -> str:
    return gettext("%(text)s (%(original)s)") % {"text": chinese, "original": original}


def _value(name: str, value: str) -> str:
    """A value inside a line: another library's known words in the current language, the original kept."""
    if name == "problem":
        phrase = _translated(value, SYNTAX_PHRASES)
        if phrase is None:
            # Unknown wording (a newer PyYAML's) still says what is wrong in the reader's language.
            phrase = gettext(SYNTAX_ERROR)
            if phrase == SYNTAX_ERROR:
                return value  # a language with no translation: the line as written
        return value if phrase == value else _with_original(phrase, value)
    if name == "failure":
        found = _translated(value, RUN_FAILURES)
        if found is not None:
            return found
    if name in ("reason", "detail", "why", "failure"):
        for pattern, template in _compiled(REASON_PHRASES):
            match = pattern.fullmatch(value)
            if match:
                phrase = gettext(template) % match.groupdict()
                return phrase if template in OWN_REASONS or phrase == value else _with_original(phrase, value)
        beginning = next((b for b in REASON_BEGINNINGS if value.startswith(b)), None)
        if beginning is not None and gettext(beginning) != beginning:
            return _with_original(gettext(beginning), value)
    return value


def _problem(text: str) -> str | None:
    """One problem in the current language; None when it is not one the importer words."""
    found = _translated(text, FILE_PROBLEMS)
    if found is not None:
        return found
    parts = text.split("; ")
    translated = [_translated(part, FIELD_PROBLEMS) for part in parts]
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


def translated_reason(reason: str) -> str:
    """A run's `failure_reason` in the current language; a reason of unknown wording as it was."""
    found = _translated(reason, RUN_FAILURES) if reason else None
    return reason if found is None else found


def translated_lines(lines: list[str]) -> list[str]:
    return [translated_line(line) for line in lines]

"""`make messages` keeps every translation: the catalogues it regenerates from the code hold
every msgid of the committed ones, each translated, and the committed .mo files are compiled
from the committed .po files.

The Makefile's own makemessages commands (read with `make -n`) run in a copy of the project, so
over a copy of the locale folder; the tree's is never written. A msgid this finds dropped is one makemessages cannot see in the code: mark it where it
is defined (gettext_noop for a table of phrases or another package's words); one left
untranslated is a new string: translate it in the .po, then run `make messages`.
"""

from __future__ import annotations

import ast
import gettext
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import PROJECT

LOCALE = PROJECT / "locale"
CATALOGUES = LOCALE / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")

UNUSED = "a msgid in no code (tests/newsportal/test_messages.py)"
Key = tuple[str | None, str]  # (msgctxt, msgid; a plural's msgid_plural after a NUL)


def read_po(path: Path) -> dict[Key, tuple[list[str], bool]]:
    """The entries of a .po file: (msgctxt, msgid) -> (msgstrs, fuzzy); obsolete ones left out."""
    entries: dict[Key, tuple[list[str], bool]] = {}
    fields: dict[str, str] = {}
    fuzzy = False
    field = ""

    def flush() -> None:
        nonlocal fields, fuzzy
        if fields.get("msgid"):  # the header's msgid is ""
            msgid = fields["msgid"] + ("\x00" + fields["msgid_plural"] if "msgid_plural" in fields else "")
            entries[(fields.get("msgctxt"), msgid)] = (
                [value for name, value in fields.items() if name.startswith("msgstr")], fuzzy)
        fields, fuzzy = {}, False

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
        elif line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in (flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue  # comments, locations, previous msgids (#|), obsolete entries (#~)
        elif line.startswith('"'):
            fields[field] += ast.literal_eval(line)
        else:
            field, value = line.split(" ", 1)
            if field in ("msgctxt", "msgid") and any(name.startswith("msgstr") for name in fields):
                flush()  # the next entry, with no blank line between
            fields[field] = ast.literal_eval(value)
    flush()
    return entries


def makemessages_commands() -> list[list[str]]:
    """The arguments after `manage.py` of each makemessages command `make messages` runs."""
    # -o install: never set up the developer's venv, node modules or .env from here.
    planned = subprocess.run(["make", "-n", "-o", "install", "messages"], cwd=PROJECT, capture_output=True,
                             text=True, timeout=60, check=True).stdout
    commands = []
    for line in planned.splitlines():
        words = shlex.split(line)
        if "manage.py" in words and "makemessages" in words:
            commands.append(words[words.index("manage.py") + 1:])
    return commands


def described(keys: list[Key]) -> str:
    return "\n".join(f"  {context + ' | ' if context else ''}{msgid.split(chr(0))[0]!r}" for context, msgid in keys)


def project_copy(to: Path) -> Path:
    """The project's files (committed, and new ones not yet added) without its venv or data."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROJECT,
                            capture_output=True, text=True, timeout=60, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if (PROJECT / name).is_file():  # not a file deleted and not yet committed
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, to / name)
    return to


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """The catalogues of a copy of the project after the Makefile's makemessages commands ran in it.

    In a copy, since makemessages writes to the `locale` folder beside the code it reads, whatever
    LOCALE_PATHS says."""
    copy = project_copy(tmp_path_factory.mktemp("messages"))
    catalogues = copy / CATALOGUES.relative_to(PROJECT)
    for domain in DOMAINS:  # a msgid in no code, which a run over the domain drops (--no-obsolete)
        with open(catalogues / f"{domain}.po", "a", encoding="utf-8") as po:
            po.write(f'\nmsgid "{UNUSED}"\nmsgstr "{UNUSED}"\n')
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", NEWSPORTAL_ENV_FILE="")
    for command in makemessages_commands():
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=copy, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    return catalogues


@pytest.mark.slow  # runs make, manage.py and xgettext
@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (apt-get install gettext; .ci/run does)")
@pytest.mark.parametrize("domain", DOMAINS)
def test_make_messages_drops_no_msgid_and_leaves_none_untranslated(regenerated, domain):
    committed = read_po(CATALOGUES / f"{domain}.po")
    after = read_po(regenerated / f"{domain}.po")
    assert (None, UNUSED) not in after, f"`make messages` does not regenerate {domain}.po"
    dropped = [key for key in committed if key not in after]
    assert not dropped, (
        f"`make messages` would drop these msgids of {domain}.po (makemessages does not find them in the "
        f"code: mark them where they are defined, e.g. with gettext_noop; or delete them if unused):\n"
        + described(dropped))
    untranslated = [key for key, (msgstrs, fuzzy) in after.items() if fuzzy or not all(msgstrs)]
    assert not untranslated, (
        f"untranslated (or fuzzy) in {domain}.po after `make messages`: translate them, then run it:\n"
        + described(untranslated))
    result = subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(regenerated / f"{domain}.po")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_mo_is_compiled_from_the_committed_po(domain):
    """What Django reads is the .mo: a .po edited by hand and not compiled translates nothing."""
    with open(CATALOGUES / f"{domain}.mo", "rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    for (context, msgid), (msgstrs, fuzzy) in read_po(CATALOGUES / f"{domain}.po").items():
        if fuzzy or not all(msgstrs):
            continue  # msgfmt leaves these out; the test above fails on them
        singular, _, plural = msgid.partition("\x00")
        if plural:
            found = [mo.npgettext(context, singular, plural, 1) if context else mo.ngettext(singular, plural, 1)]
        else:
            found = [mo.pgettext(context, singular) if context else mo.gettext(singular)]
        assert found == msgstrs[:1], f"{singular!r} is not in {domain}.mo as in the .po: run `make messages`"

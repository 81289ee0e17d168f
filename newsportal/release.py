"""Which release this process runs: the name the page cache's keys carry.

A cached page holds what the code, templates, translations and static file names of
its release rendered. When a new release starts beside the old one (both sharing one
Redis), its pages must not be served by the old processes, nor the old pages by the
new ones; so the default cache's KEY_PREFIX ends with the release (settings.py,
"Releases"). Operators may name it (NEWSPORTAL_RELEASE: a git commit, a release
directory's name); by default it is computed here from what the release ships, by
content only, so every server of one release computes the same name and a new
checkout, a reinstall or a restart of the same code keeps the cache.

No Django here: settings.py calls it before Django is set up.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# What shapes a rendered page: our packages' code and data, the templates, the
# translations, and the dependencies' pins.
SOURCE_DIRS = ("newsportal", "articles", "api", "newsroom", "search", "importing", "editorial",
               "templates", "locale")
SOURCE_SUFFIXES = frozenset({".py", ".html", ".txt", ".xml", ".json", ".mo", ".po"})
PIN_FILES = ("pyproject.toml", "requirements")
# collectstatic's manifest: every static file's hashed name, so a changed CSS or JS file changes it.
STATIC_MANIFEST = "staticfiles.json"


def _files(base_dir: Path) -> list[Path]:
    files = []
    for name in (*SOURCE_DIRS, *PIN_FILES):
        root = base_dir / name
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(path for path in root.rglob("*")
                         if path.is_file() and path.suffix in SOURCE_SUFFIXES
                         and "__pycache__" not in path.parts)
    return sorted(files)


def computed_release(base_dir: Path, static_root: Path) -> str:
    """A short name for the release in `base_dir` with its static files in `static_root`.

    The same files give the same name wherever they are installed (paths are taken
    relative to `base_dir`); any changed file, template, translation, pin or static
    file gives another. About 20 ms for the ~200 files, once per process.
    """
    digest = hashlib.sha256()
    for path in _files(base_dir):
        digest.update(path.relative_to(base_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    manifest = static_root / STATIC_MANIFEST
    if manifest.is_file():
        digest.update(b"static\0" + manifest.read_bytes())
    return digest.hexdigest()[:12]

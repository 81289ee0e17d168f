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
import os
from pathlib import Path

# What shapes a rendered page: our packages' code and data, the templates, the
# translations, and the dependencies' pins.
SOURCE_DIRS = ("newsportal", "articles", "api", "newsroom", "search", "importing", "editorial",
               "templates", "locale")
SOURCE_SUFFIXES = frozenset({".py", ".html", ".txt", ".xml", ".json", ".mo", ".po"})
PIN_FILES = ("pyproject.toml", "requirements")
# collectstatic's manifest: every static file's hashed name, so a changed CSS or JS file changes it.
STATIC_MANIFEST = "staticfiles.json"


def _files(base_dir: Path) -> list[str]:
    """The shipped files' paths relative to `base_dir` ('/'-separated), sorted.

    os.walk (scandir: the directory entries say which are folders, no stat per file),
    never entering __pycache__: walking was most of the time when every compiled file
    was listed and stat()ed only to be dropped."""
    found = []
    for name in (*SOURCE_DIRS, *PIN_FILES):
        root = os.path.join(base_dir, name)
        if os.path.isfile(root):
            found.append(name)
            continue
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = [sub for sub in subfolders if sub != "__pycache__"]
            relative = os.path.relpath(folder, base_dir).replace(os.sep, "/")
            found.extend(f"{relative}/{file}" for file in names if os.path.splitext(file)[1] in SOURCE_SUFFIXES)
    return sorted(found)


def computed_release(base_dir: Path, static_root: Path) -> str:
    """A short name for the release in `base_dir` with its static files in `static_root`.

    The same files give the same name wherever they are installed (paths are taken
    relative to `base_dir`); any changed file, template, translation, pin or static
    file gives another. Read at every process start (settings.py): about 3 ms for the
    ~230 files, 1.3 MB (docs/BENCHMARKS.md, "Start-up: the release name").
    """
    digest = hashlib.sha256()
    for relative in _files(base_dir):
        digest.update(relative.encode() + b"\0")
        with open(os.path.join(base_dir, relative), "rb") as file:
            digest.update(file.read())
        digest.update(b"\0")
    manifest = static_root / STATIC_MANIFEST
    if manifest.is_file():
        digest.update(b"static\0" + manifest.read_bytes())
    return digest.hexdigest()[:12]

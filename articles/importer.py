"""The import pipeline: file → parse → sanitize → load.

`import_paths` is what the `import_articles` command (and, later, the admin's
upload page) runs. Each file is its own unit: a file that fails is reported
with its path and the problem, and every other file still imports.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .load import ArticleLoader
from .parse import DEFAULT_MAX_BYTES, ImportFileError, content_hash, parse_bytes, read_source
from .sanitize import sanitize_body

SUFFIXES = frozenset({".md", ".markdown", ".txt"})


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, failed {self.failed}"
        )


def find_source_files(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """Post files under `paths` (files, or directories walked recursively), sorted.

    Returns the files and an error line for each path that does not exist.
    A file named explicitly is taken whatever its suffix.
    """
    found: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(_walk(path)))
        else:
            missing.append(f"{path}: no such file or directory")
    return found, missing


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if Path(name).suffix.lower() in SUFFIXES and not name.startswith("."):
                yield Path(dirpath, name)


def import_files(
    files: Iterable[Path],
    *,
    tz: dt.tzinfo,
    max_bytes: int = DEFAULT_MAX_BYTES,
    dry_run: bool = False,
    batch_size: int = 500,
    on_file: Callable[[], None] | None = None,
) -> ImportReport:
    """Import `files`, streaming: only one batch of articles is held in memory."""
    report = ImportReport()
    loader = ArticleLoader(batch_size=batch_size, dry_run=dry_run)
    known = loader.known_files()
    tz_name = getattr(tz, "key", str(tz))
    for path in files:
        source = os.path.abspath(path)
        try:
            data = read_source(path, max_bytes)
            digest = content_hash(data, tz_name)
            if known.get(source) == digest:
                # Skipped unread: re-importing an archive costs little more than hashing it.
                report.unchanged += 1
            else:
                parsed = parse_bytes(data, path=source, tz=tz, digest=digest)
                loader.add(parsed, sanitize_body(parsed.body))
                known[source] = digest
        except ImportFileError as exc:
            report.errors.append(str(exc))
        if on_file:
            on_file()
    result = loader.finish()
    report.created, report.updated = result.created, result.updated
    report.unchanged += result.unchanged
    report.errors.extend(f"{path}: {message}" for path, message in result.failed)
    return report

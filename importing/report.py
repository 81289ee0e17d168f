"""What an import did: the one result type of every import, command line or upload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from articles.models import ImportRun

DRY_RUN_PREFIX = "Dry run (nothing written): would have "


@dataclass
class ImportReport:
    """The counts and error lines of one import, and what the entry point adds around them.

    The pipeline (importing.pipeline.import_files) fills in the counts,
    errors and warnings; importing.service.run_import adds the recorded `run`, the archive
    files that were not posts (`ignored`, uploads only) and the suggested tags
    it added. A dry run's counts are those its rolled-back load produced: what
    a real run over the same files would.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_local_edits: int = 0
    errors: list[str] = field(default_factory=list)
    # Files imported with something guessed (a post without a date dated by its
    # file's modification time): one line each, naming the file.
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    run: ImportRun | None = None
    ignored: list[str] = field(default_factory=list)
    suggested_tags_added: int | None = None  # None: not asked for (or a dry run)
    written_ids: list[int] = field(default_factory=list)  # the articles created or updated

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def summary(self) -> str:
        summary = f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, failed {self.failed}"
        if self.kept_local_edits:
            summary += f", kept local edits {self.kept_local_edits}"
        return summary

    def outcome_line(self) -> str:
        """The summary as the command prints it: a dry run says it wrote nothing."""
        return f"{DRY_RUN_PREFIX}{self.summary()}" if self.dry_run else self.summary()

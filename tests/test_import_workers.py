"""The import's worker processes: they parse and sanitise beside the database writer and give way to it."""

from __future__ import annotations

from pathlib import Path

from articles.importer import WORKER_NICENESS
from tests.faults_support import (  # noqa: F401  (fixtures)
    _migrated_template, generate_corpus, manage, scratch_db,
)


def _stat(pid: int) -> list[str]:
    # Fields after the command name, which may hold spaces: state is [0], ppid [1], nice [16].
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # ended meanwhile
    return found


def test_workers_run_at_a_lower_priority_than_the_writer(scratch_db, tmp_path):
    generate_corpus(tmp_path / "archive", 2000, seed=31)
    process = manage(scratch_db, "import_articles", "--workers", "2", tmp_path / "archive")
    writer = int(_stat(process.pid)[16])
    lowered: set[int] = set()  # workers seen once their initializer has run
    try:
        while process.poll() is None and len(lowered) < 2:
            for child in _children(process.pid):
                try:
                    if int(_stat(child)[16]) == writer + WORKER_NICENESS:
                        lowered.add(child)
                except (FileNotFoundError, IndexError):
                    continue
    finally:
        stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert "failed 0" in stdout
    assert len(lowered) == 2, "the import ended before both workers were seen at the lower priority"

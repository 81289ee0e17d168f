"""How long SQLite FTS5 takes to index prepared search documents, apart from Django.

    .venv/bin/python bench/bench_fts_insert.py [--count 20000]

Generates a corpus (generate_corpus logic), prepares each article's search
document once (untimed), then times inserting all of them in batches of 500
into a fresh WAL-mode file database for three table layouts: the one the
project uses (content stored, detail=full), contentless, and detail=column.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.servers import SECRET_KEY  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsportal.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", SECRET_KEY)

import django  # noqa: E402

django.setup()

from bench import corpus
from importing import parse
from articles import sanitize  # noqa: E402
from importing.pipeline import find_source_files  # noqa: E402
from search import tokens  # noqa: E402

LAYOUTS = {
    "content (used)": "CREATE VIRTUAL TABLE s USING fts5(title, body, tokenize='ascii')",
    "contentless": "CREATE VIRTUAL TABLE s USING fts5(title, body, tokenize='ascii', content='')",
    "detail=column": "CREATE VIRTUAL TABLE s USING fts5(title, body, tokenize='ascii', detail=column)",
}


def prepared_documents(count: int, folder: Path) -> list[tokens.Document]:
    corpus.write_corpus(folder / "corpus", count=count, seed=1)
    files, _ = find_source_files([folder / "corpus"])
    tz = parse.get_timezone("Asia/Shanghai")
    documents = []
    for path in files:
        article = parse.parse_bytes(parse.read_source(path), path=str(path), tz=tz)
        documents.append(tokens.document_of_html(article.title, sanitize.sanitize_body(article.body)))
    return documents


def time_layout(ddl: str, documents: list[tokens.Document], db_path: Path) -> tuple[float, int]:
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(ddl)
    start = time.perf_counter()
    for first in range(0, len(documents), 500):
        rows = [(first + i + 1, title, body) for i, (title, body) in enumerate(documents[first:first + 500])]
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO s(rowid, title, body) VALUES (?, ?, ?)", rows)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return elapsed, db_path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        documents = prepared_documents(args.count, folder)
        for i, (name, ddl) in enumerate(LAYOUTS.items()):
            elapsed, size = time_layout(ddl, documents, folder / f"fts{i}.sqlite3")
            print(f"{name:16} {elapsed:6.1f} s  {1000 * elapsed / len(documents):.2f} ms/doc  {size / 1e6:5.0f} MB")


if __name__ == "__main__":
    main()

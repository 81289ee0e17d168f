"""The synthetic corpus, kept for the benchmarks' imports: it lives in importing.corpus.

`make demo` (importing.demo) fills the site from the same generator, so there
is one generator: this module only re-exports it.
"""

from importing.corpus import (  # noqa: F401
    COMPANIES,
    FIRST_YEAR,
    LAST_YEAR,
    REPORTERS,
    SOURCES,
    TAGS,
    CorpusError,
    CorpusSummary,
    Phrasebook,
    PlannedFile,
    Story,
    build_phrasebook,
    duplicate_count,
    iter_corpus,
    plan_corpus,
    render_story,
    revise_files,
    write_corpus,
)

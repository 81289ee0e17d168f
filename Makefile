# newsportal: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run demo serve migrate import-seeds test test-fast test-hexo test-sqlite test-postgres lint-imports bench corpus messages clean help lock

help:
	@echo "make run            set everything up and serve on http://$(HOST):$(PORT), with a task worker beside it"
	@echo "make demo           the same on a generated archive of 3,000 articles (channels, wire, headline slots, 热门)"
	@echo "make test           check the import contracts, then run the test suite (SQLite)"
	@echo "make test-fast      the same without the tests marked slow (processes, browsers, faults): a quick check"
	@echo "make test-hexo      install Hexo 8 in tests/hexo (npm ci), run the tests that build with it and the conformance suite"
	@echo "make lint-imports   check only the import contracts between the apps (pyproject.toml)"
	@echo "make test-postgres  run the test suite on a throwaway PostgreSQL cluster"
	@echo "make bench          run the import and page benchmarks (see docs/BENCHMARKS.md)"
	@echo "make lock           write requirements/production.txt, the hash-pinned production install, from pyproject.toml"
	@echo "make messages       update locale/zh_Hans/.../django.po and djangojs.po from the code and compile them (needs gettext)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test]"
	touch $@

# A developer's local settings: DEBUG on and a secret key made once for this
# checkout. Never committed (.gitignore); production sets real variables.
.env:
	@$(PYTHON) -c "import secrets; print('DJANGO_DEBUG=1'); print('DJANGO_SECRET_KEY=' + secrets.token_urlsafe(50))" > $@
	@echo "wrote .env (DJANGO_DEBUG=1 and a random DJANGO_SECRET_KEY)"

# axe-core, which the accessibility tests inject into pages (package.json,
# pinned by package-lock.json). Without npm those tests skip, and say so.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund && touch $@; \
	else echo "npm not found: the accessibility tests will skip (apt-get install npm)"; fi

install: $(VENV)/.installed node_modules/.installed .env

migrate: install
	$(MANAGE) migrate --noinput

import-seeds: migrate
	$(MANAGE) import_articles seeds/

# The task worker runs beside the development server and stops with it: the
# backend's worker (NEWSPORTAL_TASK_BACKEND, from the environment or .env):
# db_worker for db (the default), RQ's worker for rq, none for immediate.
# Without --reload: restart `make run` after changing a task's code.
# `make run` and `make demo` serve alike (SERVE_WITH_WORKER).
define SERVE_WITH_WORKER
@$(MANAGE) ensure_admin
@backend=$$($(MANAGE) shell -v 0 -c "from django.conf import settings; print(settings.NEWSPORTAL_TASK_BACKEND)"); \
case "$$backend" in \
  db) $(MANAGE) db_worker --no-reload & worker=$$! ;; \
  rq) $(MANAGE) rqworker --with-scheduler & worker=$$! ;; \
  *) worker= ;; \
esac; \
trap '[ -z "$$worker" ] || { kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; }' EXIT; \
trap 'exit 130' INT TERM; \
echo "task worker ($$backend backend): $${worker:-none}"; \
$(MANAGE) runserver $(HOST):$(PORT)
endef

run: import-seeds
	$(SERVE_WITH_WORKER)

# A generated archive to try the site with (importing.demo): DEMO_ARGS go to
# `manage.py make_demo` (e.g. DEMO_ARGS="--count 10000 --seed 7"); running it
# again changes nothing. Then it serves as `make run` does.
demo: migrate
	$(MANAGE) make_demo $(DEMO_ARGS)
	$(SERVE_WITH_WORKER)

# The dependency rule between the apps (docs/ARCHITECTURE.md; contracts in
# pyproject.toml): a wrong-way import fails `make test`, and so CI.
lint-imports: install
	$(VENV)/bin/lint-imports

test: lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

# While working: everything but the tests marked `slow` (other processes,
# browsers, the HTML checker, faults, load). `make test` and CI run them all.
test-fast: lint-imports
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Real Hexo 8 with hexo-renderer-marked (tests/hexo/package.json, pinned by its
# package-lock.json): the tests marked `hexo` build an exported site with it, and
# the conformance suite (tests/hexo/test_conformance.py) reads the same posts
# with Hexo and with newsportal and compares them (docs/HEXO.md); its summaries
# go to NEWSPORTAL_CONFORMANCE_DIR when set.
# `make test` skips them where Node.js (20.19 or later, for Hexo 8) or
# tests/hexo/node_modules is missing; this target installs Hexo (so it needs
# npm) and runs them, failing where they cannot run. CI runs it.
tests/hexo/node_modules/.installed: tests/hexo/package.json tests/hexo/package-lock.json
	cd tests/hexo && npm ci --no-audit --no-fund
	touch $@

# NEWSPORTAL_REQUIRE_HEXO: a test that cannot run Hexo fails here instead of skipping.
test-hexo: install tests/hexo/node_modules/.installed
	NEWSPORTAL_REQUIRE_HEXO=1 $(PY) -m pytest -m hexo $(PYTEST_ARGS)

test-postgres: install
	bash tests/with_postgres.sh $(PY) -m pytest $(PYTEST_ARGS)

# BENCH_ARGS go to the import benchmark, PAGES_BENCH_ARGS to the page benchmark
# (e.g. PAGES_BENCH_ARGS=--postgres for the PostgreSQL figures beside SQLite's).
bench: install
	$(PY) bench/bench_import.py $(BENCH_ARGS)
	$(PY) bench/bench_pages.py $(PAGES_BENCH_ARGS)

# The production install's lock file (docs/DEPLOY.md, "Installing"): every runtime
# dependency of pyproject.toml (no test tools), pinned with its hashes, for Python 3.11
# and 3.12 on any platform. Pins already in the file are kept while they still satisfy
# pyproject.toml; LOCK_ARGS=--upgrade moves every one to the newest allowed.
# tests/newsportal/test_lock_file.py checks that the committed file is in step.
LOCK ?= requirements/production.txt
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" --output-file $(LOCK) $(LOCK_ARGS)

# The Chinese translation: django.po (the Python code's and templates' strings)
# and djangojs.po (static/js's, through Django's JavaScript catalogue) are
# updated from the strings marked in the code; then both are compiled. Every
# msgid must be marked where it is defined (a phrase table or another package's
# words with gettext_noop): --no-obsolete drops what makemessages cannot find.
# New strings come in untranslated: translate them in the .po and run it again.
# Both files are committed, as Django does, so installing and CI need no gettext
# tools. tests/newsportal/test_messages.py runs these makemessages commands in a
# copy of the project and fails on a msgid dropped or left untranslated.
MESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench --ignore=seeds \
	--ignore=staticfiles --ignore=media --ignore=var --ignore=build
MAKEMESSAGES := makemessages --locale=zh_Hans --add-location=file --no-obsolete $(MESSAGES_IGNORE)
messages: install
	$(MANAGE) $(MAKEMESSAGES) --domain=django
	$(MANAGE) $(MAKEMESSAGES) --domain=djangojs
	$(MANAGE) compilemessages --locale=zh_Hans $(MESSAGES_IGNORE)

clean:
	rm -rf $(VENV) .pytest_cache .import_linter_cache staticfiles node_modules tests/hexo/node_modules

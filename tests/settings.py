"""Test settings: production settings with a throwaway secret key.

DATABASE_URL still comes from the environment, so the same suite runs on
SQLite (the default) and on PostgreSQL (`make test-postgres`).
"""

import os
import tempfile

# Production settings, whatever a developer's .env says (make install writes
# DJANGO_DEBUG=1 there for runserver): the security tests check production mode.
os.environ["DJANGO_DEBUG"] = "0"
# Long enough for newsportal.checks (a server started by a test refuses a weak key).
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789-abcdefghij")
# The test client and the live server speak plain http; tests that check the
# https behaviour (HSTS, redirects) ask for secure requests themselves.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from newsportal.settings import *  # noqa: E402,F403

# Uploads waiting for their task in the temporary folder, not in the project's var/.
# (A worker process started by a test is given its test's folder in the environment.)
NEWSPORTAL_IMPORT_SPOOL_DIR = os.environ.get("NEWSPORTAL_IMPORT_SPOOL_DIR") or os.path.join(
    tempfile.gettempdir(), f"newsportal-tests-spool-{os.getpid()}")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Serve static files from the apps' folders, without a collectstatic step.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# The API's per-address limit would throttle the suite (every request comes from
# 127.0.0.1); tests of throttling set a rate with override_settings.
NEWSPORTAL_API_ANON_RATE = None
# The throttle's counters in the tests' own local-memory cache (the same store as
# the default, so emptying the cache empties them), not in files that another test
# run on this machine shares; tests/integration/test_deploy.py checks the production choice.
CACHES["throttle"] = dict(CACHES["default"])  # noqa: F405
# The most-read counters likewise (articles.hot): emptied with the default cache before each test.
CACHES["hot"] = dict(CACHES["default"])  # noqa: F405

# On SQLite the tests' database is a file, never Django's default in-memory one.
# The live server (the browser tests) would otherwise hand the test thread's one
# connection to every request thread, and a single sqlite3 connection used by
# two threads can deadlock the whole process: one thread waits for the GIL
# inside SQLite (a Python SQL function such as Django's date truncation, run by
# the admin's date hierarchy) while the other holds the GIL and waits for that
# connection's mutex. No Playwright timeout can fire then; a CI run hung so.
# With a file each thread opens its own connection, as in production (WAL).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not DATABASES["default"]["TEST"]["NAME"]:  # noqa: F405
    DATABASES["default"]["TEST"]["NAME"] = os.path.join(  # noqa: F405
        tempfile.gettempdir(), f"newsportal-tests-{os.getpid()}.sqlite3")

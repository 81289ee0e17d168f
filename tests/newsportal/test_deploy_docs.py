"""docs/DEPLOY.md lists every environment variable the settings read, in its one table."""

from __future__ import annotations

import re

from tests.factories import PROJECT

SETTINGS = PROJECT / "newsportal" / "settings.py"
DEPLOY = PROJECT / "docs" / "DEPLOY.md"


def variables_read_by_settings() -> set[str]:
    """Every name settings.py passes to os.environ / env_bool / env_list, and DATABASE_URL
    (read by dj_database_url.config)."""
    text = SETTINGS.read_text()
    names = set(re.findall(r"""(?:environ\.get|env_bool|env_list|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""", text))
    return names | {"DATABASE_URL"}


def the_settings_table() -> str:
    text = DEPLOY.read_text()
    section = text[text.index("\n## Environment variables"):]
    return section[:section.index("\n## ", 1)]


def test_the_settings_are_found():
    names = variables_read_by_settings()
    assert {"DJANGO_SECRET_KEY", "DJANGO_STATIC_ROOT", "NEWSPORTAL_TRUSTED_PROXIES", "CACHE_URL"} <= names
    assert len(names) > 40


def test_every_setting_is_in_the_deploy_table():
    table_rows = [line for line in the_settings_table().splitlines() if line.startswith("| `")]
    listed = {name for row in table_rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}
    missing = variables_read_by_settings() - listed
    assert not missing, f"docs/DEPLOY.md's Environment variables table lacks {sorted(missing)}"


def test_deploy_md_never_asks_to_edit_python_settings_for_these():
    text = DEPLOY.read_text()
    assert 'SECURE_PROXY_SSL_HEADER = (' not in text
    assert "crontab" not in text.replace("a crontab line did neither", "")

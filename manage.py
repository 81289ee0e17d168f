#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def load_developer_env() -> None:
    """Read the developer's `.env` (written by `make install`) into the environment.

    Only here, in the command-line tool that `make run` and developers use: the
    WSGI and ASGI applications (newsportal/wsgi.py, asgi.py) never read it, so a
    server can never take DJANGO_DEBUG=1 from a checkout's `.env`. Real
    environment variables win over the file. NEWSPORTAL_ENV_FILE names another
    file, or none when empty (a server's cron job, configured by its environment).
    """
    env_file = os.environ.get("NEWSPORTAL_ENV_FILE", str(Path(__file__).resolve().parent / ".env"))
    if env_file:
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)


def main() -> None:
    load_developer_env()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsportal.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

"""`manage.py ensure_admin`: make the first superuser, once, with a random password."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Create the superuser USERNAME (default 'admin') with a random password, printed "
        "once, if no superuser exists yet. Never sets a fixed password; does nothing later."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        url = options["url"]
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                f"Admin: {url} (log in with your superuser; forgot the password? "
                f"run: .venv/bin/python manage.py changepassword {options['username']})"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(options["username"], email="", password=password)
        self.stdout.write(self.style.SUCCESS(
            f"Created superuser '{options['username']}' with password: {password}\n"
            f"Log in at {url} — this password is shown only now; change it with "
            f"`.venv/bin/python manage.py changepassword {options['username']}`."
        ))

"""WSGI entry point (gunicorn newsportal.wsgi).

Settings come from the environment only: no `.env` is read (manage.py alone reads
a developer's), so a server never runs with a checkout's DJANGO_DEBUG=1.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsportal.settings")

application = get_wsgi_application()

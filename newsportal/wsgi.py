"""WSGI entry point (gunicorn newsportal.wsgi).

Settings come from the environment only: no `.env` is read (manage.py alone reads
a developer's), so a server never runs with a checkout's DJANGO_DEBUG=1.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsportal.settings")

application = get_wsgi_application()

# A production server with unsafe settings (a weak key, any Host, no static manifest,
# DEBUG under gunicorn) stops here, before serving anything: newsportal.checks.
from newsportal.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()

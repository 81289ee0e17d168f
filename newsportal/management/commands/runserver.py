"""`manage.py runserver`, refusing DEBUG on an address other machines can reach (#20).

With DEBUG on, any error shows Django's debug page: the settings (database host, cache,
paths), the code around the failing line and the request. On 127.0.0.1 only this machine
sees it; bound to 0.0.0.0, [::] or a network address, anyone on the network does. So the
development server refuses that pairing, with a message that says what to do, unless
NEWSPORTAL_RUNSERVER_ALLOW_PUBLIC_DEBUG=1 says it is meant (a demo in a closed lab).
Loopback binds (the default, `make run`) and DEBUG off are served as before.

Everything else is the runserver this command replaces: whitenoise's (no static handler:
whitenoise's middleware serves static files, as in production), itself
django.contrib.staticfiles' (--nostatic, --insecure). For this command to be the one
`manage.py runserver` finds, newsportal comes before whitenoise.runserver_nostatic in
INSTALLED_APPS (settings.py).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from whitenoise.runserver_nostatic.management.commands.runserver import Command as StaticRunserverCommand

ESCAPE_VARIABLE = "NEWSPORTAL_RUNSERVER_ALLOW_PUBLIC_DEBUG"


def is_loopback_only(host: str) -> bool:
    """Whether every address `host` (an address, "0", or a name) stands for is a loopback one.
    A name that does not resolve cannot be bound either: the server reports that itself."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return True
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
        if not address.is_loopback:
            return False
    return True


def public_debug_refusal(shown_address: str) -> str:
    return (
        f"Refusing to serve with DEBUG on at {shown_address}, an address other machines can reach: "
        "Django's debug pages show this site's settings, its code and every request's details to "
        "whoever makes an error happen. Bind to loopback instead (`manage.py runserver` alone or "
        "`make run` serve on 127.0.0.1:8000; `runserver 127.0.0.1:8080` for another port), or turn "
        "DEBUG off (DJANGO_DEBUG=0, with DJANGO_ALLOWED_HOSTS set). If other machines really must "
        f"see a debug server, say so with {ESCAPE_VARIABLE}=1."
    )


class Command(StaticRunserverCommand):
    def run(self, **options: Any) -> None:
        # handle() has parsed the address into self.addr; the reloader has not started yet.
        if (settings.DEBUG and not getattr(settings, ESCAPE_VARIABLE, False)
                and not is_loopback_only(self.addr)):
            shown = f"[{self.addr}]" if self._raw_ipv6 else "0.0.0.0" if self.addr == "0" else self.addr
            raise CommandError(public_debug_refusal(f"{shown}:{self.port}"))
        super().run(**options)

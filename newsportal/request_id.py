"""A request id on every request: in each log line it causes (newsportal.logs) and in the
`X-Request-ID` response header, so an operator can find a reader's error in the logs.

nginx makes one (`proxy_set_header X-Request-ID $request_id;`, docs/DEPLOY.md) and logs it
in its access log; the app takes it only from a trusted proxy (articles.client_ip), and
only if it looks like an id (letters, digits, `-_.:`, at most 128), so a client cannot
write into the logs. Otherwise the app makes one. The first middleware.
"""

from __future__ import annotations

import re
import uuid
from typing import Callable

from django.http import HttpRequest, HttpResponse

from articles.client_ip import from_trusted_proxy
from newsportal.logs import request_id

HEADER = "X-Request-ID"
_USABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def incoming_id(request: HttpRequest) -> str:
    """The proxy's id for this request, or a new one."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if given and _USABLE.fullmatch(given) and from_trusted_proxy(request):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = incoming_id(request)
        token = request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = request.request_id
        return response

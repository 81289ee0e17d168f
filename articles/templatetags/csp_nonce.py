"""Form media rendered with the request's CSP nonce.

Widgets built on django-js-asset (django-prose-editor among them) render an
inline `<script type="importmap">`, which the Content-Security-Policy blocks
unless it carries the nonce django-csp puts in the header. Plain Django media
is only `<script src>` tags and is returned unchanged.
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def media_with_csp_nonce(context, media):
    request = context.get("request")
    nonce = getattr(request, "csp_nonce", None)
    with_nonce = getattr(media, "with_nonce", None)
    if nonce is None or with_nonce is None:
        return media
    return with_nonce(nonce)

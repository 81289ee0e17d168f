"""Template helpers for structured data."""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# The characters that could end or confuse a <script> data block.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.filter
def json_ld(data: dict) -> str:
    """`data` as a <script type="application/ld+json"> block, safe inside HTML."""
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))


@register.filter
def xml_text(value: str) -> str:
    """Text without the characters XML 1.0 cannot hold (for the XML templates)."""
    from articles.feeds import xml_text as strip_non_xml

    return strip_non_xml(str(value))

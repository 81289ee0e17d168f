"""What a browser would find script-capable in a page, parsed the HTML5 way (html5lib).

`problems(html)` lists every construct that could run script or send the
reader elsewhere: <script> (except our own static files and JSON data
blocks), on* handlers, javascript:/vbscript:/data: URLs in any URL attribute,
frames, objects, <base>, <meta http-equiv>, forms that post off-site, any SVG
or MathML, and style attributes or elements. URLs are judged after removing
what browsers ignore in a scheme (white space, control and invisible
characters) and after NFKC, so look-alike schemes count too.
"""

from __future__ import annotations

import re
import unicodedata
from xml.etree import ElementTree

import html5lib

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background", "lowsrc", "dynsrc",
                  "codebase", "cite", "srcset", "xlink:href", "to", "values", "from", "by", "ping", "manifest"}
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal", "style",
                  "noscript", "template", "isindex", "bgsound"}
FOREIGN = ("{http://www.w3.org/2000/svg}", "{http://www.w3.org/1998/Math/MathML}")
FOREIGN_ACTIVE = {"script", "foreignObject", "animate", "set", "animateMotion", "animateTransform", "discard",
                  "handler", "listener", "style", "iframe", "maction", "annotation-xml"}
DANGEROUS_URL = re.compile(r"^(?:javascript|vbscript|livescript|mocha|data):", re.IGNORECASE)
CSS_DANGER = re.compile(r"expression|javascript|vbscript|behavior|-moz-binding|url\(|@import", re.IGNORECASE)
OUR_SCRIPTS = ("/static/", "/admin/jsi18n/")
DATA_BLOCK_TYPES = {"application/ld+json", "application/json"}


def parse(html: str) -> ElementTree.Element:
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def _visible_scheme_text(value: str) -> str:
    value = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in value if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Zs"))


def _local(name: str) -> str:
    # html5lib names foreign attributes "{namespace}local"; xlink:href → "xlink:href".
    if name.startswith("{http://www.w3.org/1999/xlink}"):
        return "xlink:" + name.split("}", 1)[1]
    return name.split("}", 1)[-1].lower()


def element_problems(element: ElementTree.Element) -> list[str]:
    found = []
    tag = element.tag if isinstance(element.tag, str) else ""
    name = tag.lower()
    attrs = {_local(k): v for k, v in element.attrib.items()}
    if tag.startswith(FOREIGN):
        # The admin's own icons are <svg><use href="/static/…#id">; anything
        # that can run, animate a link or embed a document is not.
        local = tag.split("}")[1]
        name = local.lower()
        refs = [attrs[a] for a in ("href", "xlink:href") if a in attrs]
        if local in FOREIGN_ACTIVE or any(not r.startswith(("/static/", "#")) for r in refs):
            found.append(f"<{local}> (SVG/MathML)")
    if name == "script":
        src, kind = attrs.get("src", ""), attrs.get("type", "").lower()
        # The editor widget's import map is ours: templates/admin/change_form.html
        # gives it the request's CSP nonce, which content can never carry.
        ours = src.startswith(OUR_SCRIPTS) or (not src and kind in DATA_BLOCK_TYPES) \
            or (not src and kind == "importmap" and attrs.get("nonce"))
        if not ours:
            found.append(f"<script src={src!r} type={kind!r}>")
    if name in FORBIDDEN_TAGS:
        found.append(f"<{name}>")
    if name == "meta" and "http-equiv" in attrs:
        found.append(f"<meta http-equiv={attrs['http-equiv']!r}>")
    if name == "link" and attrs.get("rel", "").lower() in {"import", "stylesheet"} \
            and not attrs.get("href", "").startswith("/static/"):
        found.append(f"<link rel={attrs['rel']!r} href={attrs.get('href')!r}>")
    if name == "form":
        action = attrs.get("action", "")
        if action and (not action.startswith("/") or action.startswith("//")):
            found.append(f"<form action={action!r}>")
    for attr, value in attrs.items():
        if attr.startswith("on"):
            found.append(f"<{name} {attr}>")
        elif attr in ("srcdoc", "formaction"):
            found.append(f"<{name} {attr}={value[:40]!r}>")
        elif attr == "style":
            found.append(f"<{name} style={value[:40]!r}>")
        elif attr in URL_ATTRIBUTES and DANGEROUS_URL.match(_visible_scheme_text(value)):
            found.append(f"<{name} {attr}={value[:40]!r}>")
    return found


def problems(html: str | ElementTree.Element) -> list[str]:
    """Every script-capable construct in `html` (a page or a fragment, as text or parsed)."""
    tree = parse(html) if isinstance(html, str) else html
    found = []
    for element in tree.iter():
        found.extend(element_problems(element))
    return found


def text_of(element: ElementTree.Element) -> str:
    return "".join(element.itertext())


def find_all(html_or_tree, tag: str, cls: str | None = None) -> list[ElementTree.Element]:
    tree = parse(html_or_tree) if isinstance(html_or_tree, str) else html_or_tree
    return [e for e in tree.iter(tag) if cls is None or cls in e.attrib.get("class", "").split()]

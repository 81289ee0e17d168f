"""The XSS corpus: tests/data/xss_vectors.txt plus combinatorial variants.

The file holds hand-written vectors, one family per section. The variants
cross every way of hiding a dangerous URL scheme (entities, white space,
control and invisible characters, case) with every element and attribute
that loads or navigates to a URL.
"""

from __future__ import annotations

import functools
from pathlib import Path

VECTORS_FILE = Path(__file__).parent / "data" / "xss_vectors.txt"


def _decode(line: str) -> str:
    # The file is ASCII; Python escapes stand for the characters they name.
    return line.encode("ascii").decode("unicode_escape")


@functools.cache
def file_vectors() -> tuple[str, ...]:
    vectors = []
    for line in VECTORS_FILE.read_text("ascii").splitlines():
        if line.strip() and not (line == "#" or line.startswith("# ")):
            vectors.append(_decode(line))
    return tuple(vectors)


def _entities(text: str, style: str) -> str:
    forms = {
        "dec": lambda c: f"&#{ord(c)};",
        "hex": lambda c: f"&#x{ord(c):x};",
        "HEX": lambda c: f"&#X{ord(c):X}",
        "padded": lambda c: f"&#{ord(c):07d}",
    }
    return "".join(forms[style](c) for c in text)


def scheme_spellings(scheme: str) -> list[str]:
    """`scheme` ("javascript") with its colon, written every way a parser may still read."""
    half = len(scheme) // 2
    head, tail = scheme[:half], scheme[half:]
    spellings = [
        scheme + ":",
        scheme.upper() + ":",
        "".join(c.upper() if i % 2 else c for i, c in enumerate(scheme)) + ":",
        " " + scheme + ":",
        "\t" + scheme + ":",
        "\x01" + scheme + ":",
        "\x0f" + scheme + ":",
        "&#14;" + scheme + ":",
        head + "\t" + tail + ":",
        head + "\n" + tail + ":",
        head + "\r" + tail + ":",
        head + "&#x09;" + tail + ":",
        head + "&#10;" + tail + ":",
        head + "&Tab;" + tail + ":",
        head + "&NewLine;" + tail + ":",
        scheme + "&colon;",
        scheme + "&#58;",
        scheme + "&#x3a",
        head + "\u200b" + tail + ":",
        head + "\u00ad" + tail + ":",
        "\ufeff" + scheme + ":",
        head + "&#8203;" + tail + ":",
        "".join(chr(0xFF00 + ord(c) - 0x20) for c in scheme) + ":",
    ]
    spellings += [_entities(scheme + ":", style) for style in ("dec", "hex", "HEX", "padded")]
    return spellings


# Every place a URL is loaded or followed; {u} is the URL.
URL_SINKS = (
    '<a href="{u}">x</a>',
    "<a href={u}>x</a>",
    '<img src="{u}">',
    '<iframe src="{u}"></iframe>',
    '<form action="{u}"><input type=submit></form>',
    '<form><button formaction="{u}">x</button></form>',
    '<object data="{u}"></object>',
    '<embed src="{u}">',
    '<svg><a xlink:href="{u}"><text>x</text></a></svg>',
    '<math href="{u}">x</math>',
    '<area href="{u}">',
    '<base href="{u}">',
    '<link rel=stylesheet href="{u}">',
    '<meta http-equiv="refresh" content="0;url={u}">',
    '<video poster="{u}"></video>',
    '<div style="background:url({u})">x</div>',
)

PAYLOADS = {"javascript": "alert(1)", "vbscript": "msgbox(1)", "data": "text/html,<script>alert(1)</script>"}


@functools.cache
def generated_vectors() -> tuple[str, ...]:
    vectors = []
    for scheme, payload in PAYLOADS.items():
        spellings = scheme_spellings(scheme)
        sinks = URL_SINKS if scheme == "javascript" else URL_SINKS[:4]
        for i, sink in enumerate(sinks):
            # Every third spelling per sink: each spelling meets several
            # sinks without the full cross product.
            for spelling in spellings[i % 3::3]:
                vectors.append(sink.format(u=spelling + payload))
    return tuple(vectors)


@functools.cache
def all_vectors() -> tuple[str, ...]:
    return tuple(dict.fromkeys(file_vectors() + generated_vectors()))

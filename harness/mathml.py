"""MathML read back from a report: rebuilt from an allowlist of presentation elements and
attributes, with every text and attribute value escaped, so a report.json that was edited by
hand (or by an attacker) can put formulas on the page but never markup of its own."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import escape
from html.entities import html5

ELEMENTS = frozenset(
    "math mrow mi mn mo ms mtext mspace mfrac msqrt mroot msup msub msubsup mover munder munderover "
    "mtable mtr mtd mfenced mstyle mpadded mphantom menclose semantics".split()
)
ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence separator separators open close accent accentunder form lspace rspace "
    "linethickness columnalign rowalign notation".split()
)
MAX_CHARS = 200_000  # a catalog formula is a few kB; anything far larger is not one
XML_ENTITIES = frozenset(("lt", "gt", "amp", "quot", "apos"))


class UnsafeMathML(ValueError):
    """The text is not MathML this page draws: the element, attribute or construct is named."""


def _build(node: ET.Element) -> str:
    tag = node.tag
    if tag not in ELEMENTS:
        raise UnsafeMathML(f"element <{tag}> is not drawn")
    attrs = ""
    for name, value in node.attrib.items():
        if name not in ATTRIBUTES:
            raise UnsafeMathML(f"attribute {name!r} on <{tag}> is not drawn")
        attrs += f' {name}="{escape(value, quote=True)}"'
    inner = escape(node.text or "", quote=False)
    for child in node:
        inner += _build(child) + escape(child.tail or "", quote=False)
    return f"<{tag}{attrs}>{inner}</{tag}>"


def clean(text: str) -> str:
    """The same formula rebuilt from safe parts; raises UnsafeMathML for anything else."""
    if len(text) > MAX_CHARS:
        raise UnsafeMathML(f"{len(text)} characters is not a formula")
    if "<!" in text or "<?" in text:
        raise UnsafeMathML("declarations, entities and processing instructions are not drawn")
    # SymPy writes HTML's named entities (&InvisibleTimes;, &dd;) that XML does not define: as characters
    # they are plain text, escaped again on the way out. XML's own five stay entities, never markup.
    text = re.sub(
        r"&([A-Za-z][A-Za-z0-9]*);",
        lambda m: m.group(0) if m.group(1) in XML_ENTITIES else html5.get(f"{m.group(1)};", m.group(0)),
        text,
    )
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise UnsafeMathML(f"not well-formed: {exc}") from None
    if root.tag != "math":
        raise UnsafeMathML(f"a formula starts with <math>, not <{root.tag}>")
    try:
        return _build(root)
    except RecursionError:
        raise UnsafeMathML("nested too deeply to be a formula") from None

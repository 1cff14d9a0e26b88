r"""A small, safe Markdown renderer for runbooks. Pure (no Django, no third-party code).

Everything is HTML-escaped first; only this subset becomes markup: ATX headings (``#`` … ``######``),
paragraphs, unordered (``-``, ``*``) and ordered (``1.``) lists, fenced code blocks (```), inline code,
``**bold**``, ``*italic*`` / ``_italic_`` and links ``[text](https://…)`` whose target is http(s).
Raw HTML stays text, and a link to any other scheme (``javascript:``, ``data:``) stays text, so a
runbook can never inject script or markup into a page.

Example:
    >>> print(render_markdown("# Drift on *income*\n\n- see [runs](https://x.example/?a=1&b=2)"))
    <h1>Drift on <em>income</em></h1>
    <ul>
    <li>see <a href="https://x.example/?a=1&amp;b=2" rel="nofollow noopener noreferrer">runs</a></li>
    </ul>
    >>> render_markdown("Run `make retrain` <script>alert(1)</script> [x](javascript:alert)")
    '<p>Run <code>make retrain</code> &lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert)</p>'
"""

from __future__ import annotations

import html
import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^\s*```")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^()\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_UNDERSCORE = re.compile(r"(?<![_\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![_\w])")
_SAFE_SCHEME = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


def _link(match: re.Match[str]) -> str:
    text, target = match.group(1), match.group(2)
    if not _SAFE_SCHEME.match(html.unescape(target)):
        return match.group(0)  # not http(s): left as the (already escaped) text it was
    return f'<a href="{target}" rel="nofollow noopener noreferrer">{text}</a>'


def _format(escaped: str) -> str:
    """Links, bold and italics on text that is already escaped."""
    out = _LINK.sub(_link, escaped)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    return _UNDERSCORE.sub(r"<em>\1</em>", out)


def render_inline(text: str) -> str:
    """One line of text: code spans verbatim (escaped), the rest escaped then formatted."""
    parts, last = [], 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(_format(html.escape(text[last : match.start()])))
        parts.append(f"<code>{html.escape(match.group(2).strip())}</code>")
        last = match.end()
    parts.append(_format(html.escape(text[last:])))
    return "".join(parts)


def _list_kind(line: str) -> tuple[str, str] | None:
    for tag, pattern in (("ul", _BULLET), ("ol", _NUMBERED)):
        found = pattern.match(line)
        if found:
            return tag, found.group(1)
    return None


def render_markdown(text: str) -> str:
    """The safe HTML of a runbook's Markdown (see the module docstring for the subset)."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append("<p>" + "<br>\n".join(render_inline(p) for p in paragraph) + "</p>")
            paragraph.clear()
        if items:
            body = "\n".join(f"<li>{render_inline(i)}</li>" for i in items)
            blocks.append(f"<{list_tag}>\n{body}\n</{list_tag}>")
            items.clear()
            list_tag = ""

    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            flush()
            code: list[str] = []
            i += 1
            while i < len(lines) and not _FENCE.match(lines[i]):
                code.append(lines[i])
                i += 1
            blocks.append("<pre><code>" + html.escape("\n".join(code)) + "</code></pre>")
            i += 1  # the closing fence (or the end of the text)
            continue
        heading = _HEADING.match(line)
        listed = _list_kind(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{render_inline(heading.group(2))}</h{level}>")
        elif listed:
            if paragraph or (list_tag and list_tag != listed[0]):
                flush()
            list_tag = listed[0]
            items.append(listed[1])
        elif items:
            items[-1] += " " + line.strip()  # a wrapped list item
        else:
            paragraph.append(line.strip())
        i += 1
    flush()
    return "\n".join(blocks)

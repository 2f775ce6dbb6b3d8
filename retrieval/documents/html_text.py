"""Visible text of an HTML page, with headings and tables kept as structure.

Output is Markdown-like (``# heading``, ``| a | b |`` rows, blank lines
between blocks) so the chunker treats every format alike. Text a browser
would not show (``display:none``, ``hidden``, zero-size or transparent text,
comments) is returned apart: it is not evidence a person saw, but it is
exactly where injected instructions hide, so it goes to screening.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

SKIP = {"script", "style", "template", "noscript", "head", "svg", "iframe", "object"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "nav",
    "aside",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "form",
    "fieldset",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "address",
}
HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])"
    r"|color\s*:\s*(?:#fff\b|#ffffff\b|white\b|transparent\b)|(?:left|top|text-indent)\s*:\s*-\d{3,}",
    re.IGNORECASE,
)


@dataclass
class HtmlText:
    title: str
    text: str
    hidden: list[str] = field(default_factory=list)


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden: list[str] = []
        self.title = ""
        self.stack: list[tuple[str, bool, bool]] = []  # tag, hidden, skipped
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.in_title = False

    @property
    def is_hidden(self) -> bool:
        return any(h for _, h, _ in self.stack)

    @property
    def is_skipped(self) -> bool:
        return any(s for _, _, s in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title":
            self.in_title = True
        hidden = (
            "hidden" in a
            or a.get("aria-hidden", "").lower() == "true"
            or bool(HIDDEN_STYLE.search(a.get("style", "")))
        )
        if tag not in VOID:
            self.stack.append((tag, hidden, tag in SKIP))
        if self.is_skipped:
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._block("#" * int(tag[1]) + " ")
        elif tag in BLOCK:
            self._block()
        elif tag == "br":
            self._emit("\n")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self._block("| " + " | ".join(self.row) + " |", table_row=True)
            self.row = None
        elif re.fullmatch(r"h[1-6]", tag) or tag in BLOCK or tag == "table":
            self._block()
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.is_skipped:
            return
        if self.is_hidden:
            if data.strip():
                self.hidden.append(data.strip())
            return
        if self.cell is not None:
            self.cell.append(data)
        else:
            self._emit(re.sub(r"\s+", " ", data))

    def handle_comment(self, data: str) -> None:
        if len(data.split()) >= 3:
            self.hidden.append(data.strip())

    def _emit(self, text: str) -> None:
        if self.out and self.out[-1].endswith("\n") and text.startswith(" "):
            text = text.lstrip(" ")
        if text:
            self.out.append(text)

    def _block(self, start: str = "", table_row: bool = False) -> None:
        tail = "".join(self.out[-3:])
        if not (table_row and tail.endswith("|\n")) and self.out and not tail.endswith("\n\n"):
            self.out.append("\n" if tail.endswith("\n") else "\n\n")
        if start:
            self.out.append(start)
            if table_row:
                self.out.append("\n")


def html_to_text(markup: str) -> HtmlText:
    parser = _Extractor()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    title = " ".join(parser.title.split())
    if not title:
        heading = re.search(r"^#+ (.+)$", text, re.MULTILINE)
        title = heading.group(1).strip() if heading else ""
    return HtmlText(title[:200], text, parser.hidden)

"""The HTML page: inline stylesheet, header, sections and footer.

Every text is escaped here (:func:`html.escape`); SVG fragments come from
:mod:`energyopt.report.charts` and :mod:`energyopt.report.sankey` already
escaped.  The page has no script and references no file or URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from energyopt.report.charts import FONT_FAMILIES
from energyopt.report.strings import tr

__all__ = ["Section", "page_html", "source_line", "table_html"]

_FONTS = ", ".join(f"'{name}'" for name in FONT_FAMILIES) + ", sans-serif"

_CSS = f"""
body {{ font-family: {_FONTS}; margin: 0 auto; max-width: 1100px; padding: 1.5em;
  color: #222; line-height: 1.4; }}
h1 {{ margin-bottom: 0.2em; }}
h2 {{ border-bottom: 2px solid #4e79a7; padding-bottom: 0.2em; margin-top: 2em; }}
h3 {{ margin-bottom: 0.3em; }}
table {{ border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; }}
th {{ background: #f0f3f7; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.better {{ color: #1a7f37; background: #e9f7ec; }}
td.worse {{ color: #b42318; background: #fdecea; }}
.meta td {{ border: none; padding: 0.1em 1em 0.1em 0; }}
.source {{ color: #555; font-size: 0.85em; margin: 0.2em 0 0.8em; }}
.note {{ color: #7a5b00; background: #fff8e1; padding: 0.4em 0.7em; border-left: 3px solid
  #f2b600; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr));
  gap: 0.8em; }}
svg {{ max-width: 100%; height: auto; }}
svg.sankey text {{ font-size: 11px; fill: #222; paint-order: stroke; stroke: #fff;
  stroke-width: 3px; stroke-linejoin: round; }}
svg.sankey path.band:hover {{ stroke-opacity: 0.75; }}
nav ol {{ columns: 2; }}
footer {{ margin-top: 3em; color: #777; font-size: 0.85em; }}
"""


@dataclass
class Section:
    """One section of the report.

    Attributes
    ----------
    key : str
        Anchor id (``kpis``, ``flows`` ...).
    title : str
        Heading.
    body : list of str
        HTML fragments in order.
    """

    key: str
    title: str
    body: list[str] = field(default_factory=list)

    def note(self, text: str, lang: str) -> None:
        """Append a highlighted note (plain text)."""
        self.body.append(f'<p class="note"><b>{escape(tr("note", lang))}:</b> {escape(text)}</p>')

    def text(self, text: str) -> None:
        """Append a paragraph (plain text)."""
        self.body.append(f"<p>{escape(text)}</p>")


def source_line(files: Sequence[str], lang: str) -> str:
    """Return the 'data source' line of a section.

    Parameters
    ----------
    files : sequence of str
        Files (and how they are used) the section reads.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    joined = "; ".join(files)
    return f'<p class="source">{escape(tr("data_source", lang))}: {escape(joined)}</p>'


def table_html(
    header: Sequence[str],
    rows: Sequence[Sequence[tuple[str, str]]],
    *,
    css_class: str = "",
) -> str:
    """Return a table; each cell is ``(text, css class)`` with plain text.

    Parameters
    ----------
    header : sequence of str
        Column headings.
    rows : sequence of sequence of (str, str)
        Cells: text and class (``num``, ``num better`` ...).
    css_class : str
        Class of the table.
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{escape(cls)}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"
            for text, cls in row
        )
        + "</tr>"
        for row in rows
    )
    attr = f' class="{escape(css_class)}"' if css_class else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page_html(
    *,
    lang: str,
    title: str,
    meta: Sequence[tuple[str, str]],
    sections: Sequence[Section],
    footer: str,
) -> str:
    """Return the whole report page.

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"zh"`` (the ``lang`` attribute: ``zh-CN`` for Chinese).
    title : str
        Page title.
    meta : sequence of (str, str)
        Label and value rows under the title (plant, period ...).
    sections : sequence of Section
        The sections in order.
    footer : str
        Footer text.
    """
    html_lang = "zh-CN" if lang == "zh" else "en"
    meta_rows = "".join(
        f"<tr><td><b>{escape(label)}</b></td><td>{escape(value)}</td></tr>" for label, value in meta
    )
    toc = "".join(f'<li><a href="#{escape(s.key)}">{escape(s.title)}</a></li>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html_lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<table class="meta">{meta_rows}</table>',
        f"<nav><h3>{escape(tr('contents', lang))}</h3><ol>{toc}</ol></nav>",
    ]
    for section in sections:
        parts.append(f'<section id="{escape(section.key)}">')
        parts.append(f"<h2>{escape(section.title)}</h2>")
        parts.extend(section.body)
        parts.append("</section>")
    parts += [f"<footer>{escape(footer)}</footer>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"

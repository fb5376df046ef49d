"""Small, dependency-free building blocks for self-contained HTML reports with embedded plots."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; } .muted { color: #777; font-size: .85rem; }
img { max-width: 100%; border: 1px solid #eee; margin: .5rem 0; }
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(value))


def fmt(value: Any) -> str:
    """Numbers rounded for reading; None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An HTML table."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def image(path: Path, alt: str) -> str:
    """An <img> with the PNG embedded, so the report is one portable file."""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def page(title: str, sections: Sequence[tuple[str, str]], subtitle: str = "") -> str:
    """A whole HTML page from (heading, html) sections."""
    parts = [f"<h1>{esc(title)}</h1>"]
    if subtitle:
        parts.append(f'<p class="muted">{esc(subtitle)}</p>')
    parts += [f"<h2>{esc(h)}</h2>\n{body}" for h, body in sections]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")


def pyplot():  # noqa: ANN201 - the pyplot module
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> Path:
    """Save (atomically: a killed run leaves no half image) and close a figure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # a killed save's is reused next time
    fig.savefig(tmp, dpi=110)
    pyplot().close(fig)
    os.replace(tmp, path)
    return path

"""The SLA as files people take away: Markdown and PDF, both made from the document dict.

Both read only the document (see agreements.document), so a published version exports from
its frozen snapshot and reads the same forever, and these functions need no database. The
words around the managers' text are in the active language (the request's).
"""

from pathlib import Path

from django.utils.text import slugify
from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEJAVU_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
# The core PDF fonts only know latin-1; these keep the SLA's arrows and comparisons readable.
LATIN1_REPLACEMENTS = {
    "→": "->",
    "≥": ">=",
    "≤": "<=",
    "—": "-",
    "–": "-",
    "…": "...",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "·": "-",
    "÷": "/",
    "€": "EUR",
    "•": "-",
}


def filename(version, extension: str) -> str:
    name = slugify(version.agreement.name) or "agreement"
    label = f"v{version.number}" if version.number else "draft"
    return f"{name}-sla-{label}.{extension}"


def _side(part: dict, agreement: dict) -> str:
    side = str(part.get("side") or "shared")
    if side == "marketing":
        return _("the marketing side: %(team)s, %(manager)s") % {
            "team": agreement["marketing_team"],
            "manager": agreement["marketing_manager"],
        }
    if side == "sales":
        return _("the sales side: %(team)s, %(manager)s") % {
            "team": agreement["sales_team"],
            "manager": agreement["sales_manager"],
        }
    return _("both sides together: %(marketing)s and %(sales)s") % {
        "marketing": agreement["marketing_team"],
        "sales": agreement["sales_team"],
    }


def _ordered_parts(document: dict) -> list[dict]:
    # Unnumbered parts (the calendar) support the seven components, so they come last.
    return sorted(document["parts"], key=lambda p: (p["number"] is None, p["number"] or 0))


def _heading(part: dict) -> str:
    return f"{part['number']}. {part['title']}" if part["number"] is not None else part["title"]


def _version_line(version: dict) -> str:
    effective = version.get("effective_local") or (version.get("effective_at") or "")[:10]
    when = _("effective %(when)s") % {"when": effective} if effective else _("not yet in effect")
    return f"{version['label']} · {version['status']} · {when}"


def _parties(agreement: dict) -> list[tuple[str, str]]:
    return [
        (
            title,
            _("%(team)s, managed by %(manager)s")
            % {"team": agreement[side + "_team"], "manager": agreement[side + "_manager"]},
        )
        for side, title in (("marketing", _("Marketing")), ("sales", _("Sales")))
    ]


def _title(agreement: dict) -> str:
    return _("%(name)s: service-level agreement") % {"name": agreement["name"]}


def _intro(agreement: dict) -> str:
    return _(
        "What %(marketing)s (marketing) promises to deliver to %(sales)s (sales), and what "
        "sales promises to do with it."
    ) % {"marketing": agreement["marketing_team"], "sales": agreement["sales_team"]}


# Markdown --------------------------------------------------------------------------------


def _md_cell(value) -> str:
    text = str(value if value is not None else "").strip().replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _md_table(columns: list[str], items: list[dict]) -> list[str]:
    lines = [
        "| " + " | ".join(_md_cell(c) for c in columns) + " |",
        "|" + "|".join(" --- " for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(v) for v in item["values"]) + " |" for item in items]
    return lines


def _promise_sides(promises) -> list[tuple[str, tuple[str, ...]]]:
    if not promises:
        return []
    return promises.for_sides(marketing=True, sales=True)


def _md_promises(promises) -> list[str]:
    sides = _promise_sides(promises)
    if not sides:
        return []
    heading = _("What we promise each other")
    out = [f"## {heading}", ""]
    for title, sentences in sides:
        out += [f"**{title}**", ""] + [f"- {_md_cell(sentence)}" for sentence in sentences] + [""]
    return out


def _md_value(value) -> str:
    """A settings value in a bullet: a multi-line text keeps its own "- " lines as a nested
    list instead of running together."""
    lines = [line.strip() for line in str(value).replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    if len(lines) <= 1:
        return _md_cell(value)
    nested = [
        f"  - {_md_cell(line[2:])}" if line[:2] in ("- ", "* ") else f"  {_md_cell(line)}"
        for line in lines[1:]
    ]
    return "\n".join([_md_cell(lines[0]), *nested])


def document_markdown(document: dict, *, promises=None, decisions=None) -> str:
    agreement, version = document["agreement"], document["version"]
    version_label = _("Version:")
    out = [
        f"# {_title(agreement)}",
        "",
        f"**{version_label}** {_version_line(version)}",
        "",
    ]
    if version.get("change_note"):
        note_label = _("Change note:")
        out += [f"**{note_label}** {_md_cell(version['change_note'])}", ""]
    out += [f"- **{side}:** {who}" for side, who in _parties(agreement)]
    out += ["", _intro(agreement), ""]
    out += _md_promises(promises)
    for part in _ordered_parts(document):
        drafted = _("Drafted by %(side)s.") % {"side": _side(part, agreement)}
        out += [f"## {_heading(part)}", "", f"_{drafted}_", ""]
        if part.get("summary"):
            out += [part["summary"], ""]
        for block in part["settings"]:
            fields = [(label, value) for label, value in block["fields"] if value not in ("", None)]
            if not fields:
                continue
            out += [f"### {block['title']}", ""]
            out += [f"- **{label}:** {_md_value(value)}" for label, value in fields] + [""]
        for rowset in part["rows"]:
            out += [f"### {rowset['title']}", ""]
            if rowset["items"]:
                out += _md_table(rowset["columns"], rowset["items"]) + [""]
            else:
                none_yet = _("None yet.")
                out += [f"_{none_yet}_", ""]
    if decisions is not None:
        appendix = _("Appendix: decisions")
        out += [f"## {appendix}", ""]
        for item in decisions or [{"title": _("No threads or suggestions."), "lines": []}]:
            heading = " · ".join(filter(None, [item.get("part"), item.get("status")]))
            out += [f"### {_md_cell(item['title'])}", ""] + (
                [f"_{heading}_", ""] if heading else []
            )
            out += [f"- {_md_cell(line)}" for line in item["lines"]] + [""]
    return "\n".join(out).rstrip() + "\n"


# PDF -------------------------------------------------------------------------------------


class SlaPdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.unicode = (DEJAVU_DIR / DEJAVU_FILES[""]).exists()
        if self.unicode:
            for style, name in DEJAVU_FILES.items():
                # A machine may ship the regular face without the bold or oblique one.
                path = DEJAVU_DIR / name
                regular = DEJAVU_DIR / DEJAVU_FILES[""]
                self.add_font("DejaVu", style, str(path if path.exists() else regular))
        self.family = "DejaVu" if self.unicode else "helvetica"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)

    def t(self, value) -> str:
        text = str(value if value is not None else "").replace("\r\n", "\n").replace("\r", "\n")
        if self.unicode:
            return text
        for char, plain in LATIN1_REPLACEMENTS.items():
            text = text.replace(char, plain)
        return text.encode("latin-1", "replace").decode("latin-1")

    def style(self, size: float, emphasis: str = ""):
        self.set_font(self.family, emphasis, size)

    def footer(self):
        self.set_y(-13)
        self.style(8)
        self.set_text_color(110)
        self.cell(self.epw / 2, 5, self.t(self.footer_text), align="L")
        page = _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"}
        self.cell(self.epw / 2, 5, self.t(page), align="R")
        self.set_text_color(0)

    def line_of(self, text: str, size: float, emphasis: str = "", gap: float = 1.5):
        self.style(size, emphasis)
        self.multi_cell(0, size * 0.5, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def _pdf_settings(pdf: SlaPdf, block: dict, title_size: float = 11):
    fields = [(label, value) for label, value in block["fields"] if value not in ("", None)]
    if not fields:
        return
    pdf.line_of(block["title"], title_size, "B")
    for label, value in fields:
        pdf.style(9, "B")
        pdf.write(4.5, pdf.t(f"{label}: "))
        pdf.style(9)
        pdf.write(4.5, pdf.t(value))
        pdf.ln(5.5)
    pdf.ln(2)


def _column_widths(pdf: SlaPdf, columns: list[str], items: list[dict]) -> list[float]:
    # A browser's auto table layout, roughly: each column gets at least its longest word (capped,
    # so one long URL cannot take the page) and the room left goes to the columns with the most
    # text, so dates and points never wrap mid-number while a rationale gets room to wrap.
    pdf.style(8, "B")
    cap, padding = pdf.epw / 3, 3
    minimum, preferred = [], []
    for index, column in enumerate(columns):
        texts = [pdf.t(column)] + [pdf.t(item["values"][index]) for item in items]
        words = [w for text in texts for w in text.split()] or [""]
        lines = [line for text in texts for line in text.split("\n")]
        minimum.append(min(max(pdf.get_string_width(w) for w in words), cap) + padding)
        preferred.append(max(minimum[-1], max(pdf.get_string_width(ln) for ln in lines) + padding))
    if sum(preferred) <= pdf.epw or sum(minimum) >= pdf.epw:
        base = preferred if sum(preferred) <= pdf.epw else minimum
        return [pdf.epw * w / sum(base) for w in base]
    spare, wanted = pdf.epw - sum(minimum), sum(preferred) - sum(minimum)
    return [
        low + spare * (high - low) / wanted for low, high in zip(minimum, preferred, strict=True)
    ]


def _row_fits(pdf: SlaPdf, widths_mm: list[float], values: list, line_height: float) -> bool:
    # fpdf2 cannot split a table row over two pages and raises instead; measure first.
    tallest = max(
        len(pdf.multi_cell(w - 2, line_height, pdf.t(v), dry_run=True, output="LINES"))
        for w, v in zip(widths_mm, values, strict=True)
    )
    return tallest * line_height + 4 < (pdf.eph - 20) * 0.8


def pdf_rowset(pdf: SlaPdf, rowset: dict):
    if pdf.will_page_break(20):
        pdf.add_page()
    pdf.line_of(rowset["title"], 11, "B")
    columns, items = rowset["columns"], rowset["items"]
    if not items or not columns:
        pdf.line_of(_("None yet."), 9, "I", gap=3)
        return
    widths_mm = _column_widths(pdf, columns, items)
    pdf.style(8)
    line_height = 3.8
    headings = FontFace(emphasis="BOLD", fill_color=(232, 236, 241))
    if all(_row_fits(pdf, widths_mm, item["values"], line_height) for item in items):
        with pdf.table(
            col_widths=widths_mm,
            width=pdf.epw,
            text_align="LEFT",
            padding=1,
            line_height=line_height,
            headings_style=headings,
        ) as table:
            heading = table.row()
            for column in columns:
                heading.cell(pdf.t(column))
            for item in items:
                row = table.row()
                for value in item["values"]:
                    row.cell(pdf.t(value))
        pdf.ln(4)
        return
    # A cell too long for one page: list each row as label: value lines, which wrap freely.
    for number, item in enumerate(items, start=1):
        fields = list(zip(columns, item["values"], strict=True))
        _pdf_settings(pdf, {"title": f"{rowset['title']} #{number}", "fields": fields}, 9.5)


def _pdf_promises(pdf: SlaPdf, promises) -> None:
    sides = _promise_sides(promises)
    if not sides:
        return
    pdf.line_of(_("What we promise each other"), 15, "B", gap=1)
    for title, sentences in sides:
        pdf.line_of(title, 11, "B", gap=1)
        for sentence in sentences:
            pdf.line_of(f"• {sentence}", 10, gap=1)
        pdf.ln(2)
    pdf.ln(3)


def _pdf_decisions(pdf: SlaPdf, decisions: list[dict]) -> None:
    """The appendix: the threads and suggestions that led to the version."""
    pdf.add_page()
    pdf.line_of(_("Appendix: decisions"), 15, "B", gap=2)
    pdf.line_of(
        _("The threads and suggested changes on this version while it was a draft."),
        9,
        "I",
        gap=3,
    )
    if not decisions:
        pdf.line_of(_("No threads or suggestions."), 10)
    for item in decisions:
        if pdf.will_page_break(25):
            pdf.add_page()
        pdf.line_of(item["title"], 11, "B", gap=0.5)
        pdf.line_of(f"{item['part']} · {item['status']}", 8.5, "I", gap=1)
        for line in item["lines"]:
            pdf.line_of(f"• {line}", 9, gap=0.5)
        pdf.ln(2)


def document_pdf(document: dict, *, promises=None, decisions=None) -> bytes:
    agreement, version = document["agreement"], document["version"]
    pdf = SlaPdf(f"{agreement['name']}, {version['label']}")
    pdf.set_title(pdf.t(f"{_title(agreement)} {version['label']}"))
    pdf.add_page()
    pdf.line_of(_title(agreement), 20, "B", gap=3)
    pdf.line_of(_version_line(version), 11)
    if version.get("change_note"):
        note_label = _("Change note:")
        pdf.line_of(f"{note_label} {version['change_note']}", 10, "I")
    pdf.ln(2)
    for side, who in _parties(agreement):
        pdf.line_of(f"{side}: {who}", 10)
    pdf.ln(2)
    pdf.line_of(_intro(agreement), 10, "I", gap=6)
    _pdf_promises(pdf, promises)
    for part in _ordered_parts(document):
        if pdf.will_page_break(40):  # keep a part's heading with its first lines
            pdf.add_page()
        pdf.line_of(_heading(part), 15, "B", gap=1)
        pdf.line_of(_("Drafted by %(side)s.") % {"side": _side(part, agreement)}, 9, "I")
        if part.get("summary"):
            pdf.line_of(part["summary"], 10, gap=3)
        for block in part["settings"]:
            _pdf_settings(pdf, block)
        for rowset in part["rows"]:
            pdf_rowset(pdf, rowset)
        pdf.ln(3)
    if decisions is not None:
        _pdf_decisions(pdf, decisions)
    return bytes(pdf.output())

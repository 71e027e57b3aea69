"""CSV files in and out: reading an upload (the leads/events import and the visitor counts) and
writing the files people download (the review's tables)."""

import csv
import io

from django import forms


class CsvRefused(Exception):
    """The file as a whole cannot be read: empty, too big, not UTF-8 CSV, no rows."""


def size_label(size: int) -> str:
    return f"{size // 2**20} MB" if size >= 2**20 else f"{size // 1024} KB"


def csv_text(data: bytes, *, max_bytes: int) -> str:
    """The upload as text, or CsvRefused saying what is wrong with it."""
    if not data.strip():
        raise CsvRefused("The file is empty.")
    if len(data) > max_bytes:
        raise CsvRefused(f"The file is over {size_label(max_bytes)}; split it into parts.")
    if b"\x00" in data:
        raise CsvRefused("This is not a CSV file (it holds binary data).")
    try:
        # utf-8-sig drops the byte-order mark Excel puts in front of "CSV UTF-8" files.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvRefused(
            "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (comma delimited)”."
        ) from error


def read_csv_upload(upload, *, max_bytes: int) -> str:
    """For a form's clean_<file>: the upload's text, or a ValidationError naming the problem."""
    if not upload.name.lower().endswith(".csv"):
        raise forms.ValidationError("Upload a .csv file (in Excel: Save as › CSV UTF-8).")
    if upload.size > max_bytes:
        raise forms.ValidationError(
            f"The file is over {size_label(max_bytes)}; split it into parts."
        )
    try:
        return csv_text(upload.read(), max_bytes=max_bytes)
    except CsvRefused as refused:
        raise forms.ValidationError(str(refused)) from refused


# Writing CSV files -------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value):
    """A cell a spreadsheet reads as data: text that would start a formula gets a leading
    apostrophe; numbers stay numbers, so a negative change is still a number."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_write(rows) -> str:
    """Rows as CSV text with a byte-order mark, so Excel reads it as UTF-8 and not Latin-1.

    Every CSV the app hands out goes through here, so no cell of it can run as a formula.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_safe_cell(cell) for cell in row])
    return out.getvalue()

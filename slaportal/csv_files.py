"""Reading an uploaded CSV file: shared by the leads/events import and the visitor counts."""

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

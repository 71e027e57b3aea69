"""One normal form for the SLA's text, so that equal text compares equal.

Browsers send text areas with CRLF line endings; what is stored and what the diff compares
uses LF, no trailing spaces at line ends, and no blank edges.
"""


def normalise_text(value: str) -> str:
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def normalised(value):
    """normalise_text for strings (also inside lists); anything else as it is."""
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, list | tuple):
        return [normalised(item) for item in value]
    return value

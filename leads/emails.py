"""One e-mail normalisation: what makes two addresses the same person.

Every write and every lookup of a lead by e-mail goes through email_normalise, and the
database's unique constraint is on its result (Lead.email_normalised), so Python and the
database can never disagree about who is a duplicate. (They did when the constraint was
LOWER(email): PostgreSQL lower-cases with the database's locale, Python with Unicode's
rules, and the two differ on İ, ß and every character outside ASCII under the C locale.)

- The local part is case-folded (Unicode full case folding, ß → ss), with NFKC around it
  so compatibility forms (ﬁ, full-width letters) fold too. RFC 5321 lets a server treat
  the local part as case-sensitive; none of the mail providers our leads use does, and one
  person typing their address twice must not become two leads.
- The domain is IDNA-encoded with the `idna` package (IDNA 2008 with the UTS #46 mapping,
  non-transitional, as browsers and mail servers resolve names today) and stored as
  punycode ASCII: bücher.de, BÜCHER.DE and xn--bcher-kva.de are one domain. ASCII is the
  form DNS itself uses, so it is the one stored form every spelling maps to; Python's own
  "idna" codec is IDNA 2003, which maps ß to ss and so names a different domain than the
  one faß.de registers today.
- U+0130 "İ", the Turkish capital of i, becomes a plain "i" first. Unicode's default
  mapping turns it into "i" plus a combining dot (U+0307), which in a domain is a
  different, look-alike name nobody registers: u@İSTANBUL.com is u@istanbul.com.

The address as the lead typed it stays in Lead.email, for display and for sending.
"""

import functools
import re
import unicodedata

import idna

TURKISH_CAPITAL_I = "\u0130"
# A host name of letters, digits and inner hyphens (RFC 1123), each label at most 63
# characters: IDNA encodes it as itself, lower-cased. Labels with "--" in the third and
# fourth place (A-labels such as xn--…, and names IDNA refuses) are left to the idna package.
_LDH_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LDH_HOST = re.compile(rf"(?:{_LDH_LABEL}\.)*{_LDH_LABEL}")


class InvalidEmail(ValueError):
    """Not an address email_normalise can put in one form."""


# Pure and called for every event of a batch (twice): most addresses repeat.
@functools.lru_cache(maxsize=16384)
def email_normalise(email: str) -> str:
    """The canonical form of an e-mail address: folded local part @ punycode domain."""
    # Strip after NFKC and after folding: both can turn a character into a space plus a
    # combining mark (e.g. "¨" → " ̈"), and a second pass would strip that space.
    local, at, domain = unicodedata.normalize("NFKC", email).strip().rpartition("@")
    local = _fold(local).strip()
    if not at or not local or not domain.strip():
        raise InvalidEmail(f"{email!r} is not an e-mail address.")
    return f"{local}@{_domain(domain.strip())}"


def _fold(text: str) -> str:
    text = text.replace(TURKISH_CAPITAL_I, "i")
    # Folding and NFKC can each undo the other's fixed point on rare characters; repeat until
    # stable so that normalising twice gives the same address (a few rounds at most).
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", text.casefold())
        if folded == text:
            break
        text = folded
    return text


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    if domain.isascii():
        # The common case without the idna package's per-character tables (a millisecond
        # per domain, the most of validating a batch of new e-mails): the same answer,
        # held to it by a property test.
        lowered = domain.lower()
        if (
            len(lowered) <= 253
            and _LDH_HOST.fullmatch(lowered)
            and not any(label[2:4] == "--" for label in lowered.split("."))
        ):
            return lowered
    domain = domain.replace(TURKISH_CAPITAL_I, "i")
    try:
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as error:
        raise InvalidEmail(f"{domain!r} is not a domain name: {error}") from error

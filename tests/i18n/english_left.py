"""What stayed English on a page rendered in Portuguese.

A page is rendered twice with the same data, with Accept-Language "en" and "pt-br". Text a
person sees (text nodes, and the attributes read aloud or shown: aria-label, title,
placeholder, alt, data-label, button values) that reads the same in both renderings is a
string nobody translated, unless it is

- data people wrote (the SLA's text, names, reasons): every string stored in the database is
  cut out of the text before it is judged, so "Owner: Ana" is judged on "Owner:" alone;
- a word Brazilian teams say in English (MQL, SQL, lead, SLA, e-mail...) or a proper name:
  KEPT_WORDS below;
- numbers, e-mail addresses, URLs, time zones.

`english_left(client, url)` lists the offending texts of one page.
"""

import json
import re
from html.parser import HTMLParser

from django.apps import apps
from django.db import models

# Said as they are by a Brazilian sales and marketing team, or names.
KEPT_WORDS = {
    word.lower()
    for word in """
    SLA SLAs MQL MQLs SQL SQLs KPI KPIs CRM CRMs API APIs CSV PDF JSON URL URLs UTC HTTP HTTPS
    lead leads e-mail e-mails email emails webhook webhooks Markdown HubSpot Slack Teams
    Microsoft Google LinkedIn Salesforce Pipedrive RD Station Zapier SMART OpenAPI Swagger
    ID IDs OK Portal English Português Brasil Brasileiro ISO HMAC SMTP TLS MFA UTM CEO CTO
    CFO CMO VP B2B SaaS ROI www com br https http Bearer Token Chromium htmx md pdf csv status
    total online chat SMS Euro
    """.split()
}
# Portuguese words spelt as English ones ("Data" is a date; "Menu" is a menu).
KEPT_WORDS |= {"data", "menu"}
ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "data-label")
SKIPPED_TAGS = {"script", "style", "textarea", "code", "pre", "svg"}
NOISE = re.compile(
    r"\S+@\S+|https?://\S+|/\S*|\b[\w-]+\.[a-z]{2,4}\b|\([A-Za-z_]+/[A-Za-z_/+-]+\)|"
    r"[A-Za-z]+/[A-Za-z_/+-]+|\d[\d.,:h%/-]*"
)
WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’-]*")


class _Texts(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        for name in ATTRIBUTES:
            if attributes.get(name):
                self.texts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.texts.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return [t for t in (" ".join(text.split()) for text in parser.texts) if t]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)  # an attribute's or a property's own name
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def data_strings() -> set[str]:
    """Every string stored in the project's tables (people's own words, names, addresses)."""
    found: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "admin", "contenttypes", "axes"}:
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for value in row:
                if isinstance(value, str) and value[:1] in "[{":
                    try:
                        value = json.loads(value)
                    except ValueError:
                        pass
                for text in _strings(value):
                    # Shown whole, or line by line (criteria, notes).
                    for part in [text, *text.splitlines()]:
                        part = " ".join(part.split())
                        if len(part) >= 2:
                            found.add(part)
    return found


def english_words(text: str, data: list[str]) -> list[str]:
    """The words of `text` that are neither data, nor kept in English, nor noise. Data is cut
    before noise and noise before data (a zone name must be whole to be seen, and so must a
    goal's "US$ 1M"); the text is English only if both leave English words."""
    return min(_words(_cut(NOISE.sub(" ", text), data)), _words(_cut(text, data)), key=len)


def _cut(text: str, data: list[str]) -> str:
    for value in data:
        if value in text:  # whole words only: a name "Le" must not cut "Google" to "Goog"
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    return NOISE.sub(" ", text)


def _words(text: str) -> list[str]:
    return [
        word
        for word in WORD.findall(text)
        if len(word) > 1 and word.lower().strip("'’-") not in KEPT_WORDS
    ]


def english_left(client, url: str, data: set[str] | None = None) -> list[str]:
    """The texts of `url` that read the same in English and in Portuguese, data aside."""
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    portuguese = client.get(url, HTTP_ACCEPT_LANGUAGE="pt-br")
    assert english.status_code == portuguese.status_code == 200, url
    english_texts = set(visible_texts(english.content.decode()))
    texts = visible_texts(portuguese.content.decode())
    page = "\n".join(texts)
    data_all = data if data is not None else data_strings()
    shown = sorted(
        (value for value in data_all if value in page),
        key=len,
        reverse=True,
    )
    left = []
    for text in dict.fromkeys(texts):
        if text in english_texts and english_words(text, shown):
            # A piece of something people wrote, shown in parts (a criterion's first word).
            if not any(text in value for value in data_all):
                left.append(text)
    return left

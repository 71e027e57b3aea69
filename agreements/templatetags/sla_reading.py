"""`{% load sla_reading %}`: `{{ value|sla_text }}` prints a long SLA text with its "- " lines
as a real bulleted list (SQL criteria are written that way), and other lines as paragraphs."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def sla_text(value) -> str:
    text = str(value or "").replace("\r\n", "\n")
    if "\n" not in text:
        return text
    blocks, bullets = [], []

    def close_list():
        if bullets:
            items = format_html_join("", "<li>{}</li>", ((item,) for item in bullets))
            blocks.append(format_html('<ul class="mb-1">{}</ul>', items))
            bullets.clear()

    for line in (line.strip() for line in text.split("\n")):
        if not line:
            continue
        if line[:2] in ("- ", "* ", "• "):
            bullets.append(line[2:].strip())
        else:
            close_list()
            blocks.append(format_html('<p class="mb-1">{}</p>', line))
    close_list()
    return mark_safe("".join(blocks))

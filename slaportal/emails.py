"""Every e-mail the product sends: a plain-text part and an HTML part from one template."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext


def email_build(
    *,
    subject: str,
    body: str,
    to: list[str],
    headers: dict[str, str] | None = None,
    unsubscribe_url: str = "",
) -> EmailMultiAlternatives:
    """The message, with the HTML part rendered from the same text (escaped, links made links).

    `unsubscribe_url` adds the List-Unsubscribe headers (RFC 2369, one-click per RFC 8058) and
    a link at the foot of both parts.
    """
    headers = dict(headers or {})
    text = body
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text = f"{body}\n\n--\n{gettext('Unsubscribe')}: {unsubscribe_url}"
    message = EmailMultiAlternatives(subject=subject, body=text, to=to, headers=headers)
    html = render_to_string(
        "emails/message.html",
        {"subject": subject, "body": body, "unsubscribe_url": unsubscribe_url},
    )
    message.attach_alternative(html, "text/html")
    return message

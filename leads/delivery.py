"""Pluggable delivery of nurture content (settings.NURTURE_DELIVERY_BACKEND).

A production backend would call the marketing automation tool; the console backend logs.
"""

import logging

from django.utils import translation
from django.utils.translation import gettext

from slaportal.language import workspace_default

logger = logging.getLogger("leads.nurture")


class ConsoleDelivery:
    def deliver(self, *, lead, step) -> None:
        logger.info(
            "Nurture: send %r by %s to %s (%s)",
            step.offer,
            step.channel,
            lead.email,
            step.journey_stage,
        )


class MemoryDelivery:
    """Keeps what would have been sent in memory; tests read `sent`."""

    sent: list[tuple[str, str]] = []

    def deliver(self, *, lead, step) -> None:
        MemoryDelivery.sent.append((lead.email, step.offer))


class EmailDelivery:
    """Sends the e-mail steps to the lead through Django's e-mail backend (EMAIL_URL), each
    with a one-click List-Unsubscribe link; steps on other channels are logged."""

    def deliver(self, *, lead, step) -> None:
        from agreements.models import Channel
        from slaportal.emails import email_build

        from .services.consent import unsubscribe_url

        if step.channel != Channel.EMAIL:
            ConsoleDelivery().deliver(lead=lead, step=step)
            return
        # A lead chose no language here: the workspace's is the team's and its market's.
        with translation.override(workspace_default()):
            greeting = gettext("Hello %(name)s,") % {"name": lead.first_name or lead.email}
            email_build(
                subject=step.offer,
                body=f"{greeting}\n\n{step.offer}",
                to=[lead.email],
                unsubscribe_url=unsubscribe_url(lead),
            ).send(fail_silently=False)

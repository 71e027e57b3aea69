"""Pluggable delivery of nurture content (settings.NURTURE_DELIVERY_BACKEND).

A production backend would call the marketing automation tool; the console backend logs.
"""

import logging

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

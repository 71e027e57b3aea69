"""Writes of the monthly review: the meeting's notes and its action items."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from agreements.models import Agreement

from .models import ActionItem, ReviewMeeting
from .periods import Month


def review_notes_save(
    *, agreement: Agreement, month: Month, notes: str, by, now=None
) -> ReviewMeeting:
    """The month's notes, replaced as a whole: one record per agreement and month."""
    meeting, _ = ReviewMeeting.objects.update_or_create(
        agreement=agreement,
        month=month.first_day,
        defaults={"notes": notes.strip(), "updated_by": by, "updated_at": now or timezone.now()},
    )
    return meeting


def action_item_create(
    *, agreement: Agreement, month: Month, text: str, owner, due_date: date, by
) -> ActionItem:
    text = text.strip()
    if not text:
        raise ValueError(gettext("An action item needs a text."))
    return ActionItem.objects.create(
        agreement=agreement,
        month=month.first_day,
        text=text,
        owner=owner,
        due_date=due_date,
        created_by=by,
    )


def action_item_done(*, item: ActionItem, by, done: bool = True, now=None) -> ActionItem:
    """Tick an item off, or reopen it; an open item keeps carrying over to later reviews."""
    with transaction.atomic():
        item = ActionItem.objects.select_for_update().get(pk=item.pk)
        if done and item.done_at is None:
            item.done_at = now or timezone.now()
        elif not done:
            item.done_at = None
        item.save(update_fields=["done_at"])
    return item

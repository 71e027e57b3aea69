from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Lead, Notification


def notify(
    *, user, key: str, message: str, lead: Lead | None = None, email: bool = False, now=None
) -> bool:
    """Tell a user once about one event; returns False when they had already been told."""
    try:
        with transaction.atomic():
            Notification.objects.create(
                user=user, key=key, message=message, lead=lead, created_at=now or timezone.now()
            )
    except IntegrityError:
        return False
    if email and user.email:
        url = f"{settings.SITE_URL}{lead.get_absolute_url()}" if lead else settings.SITE_URL
        transaction.on_commit(
            lambda: send_mail(
                subject=f"[SLA Portal] {message}",
                message=f"{message}\n\n{url}",
                from_email=None,
                recipient_list=[user.email],
                fail_silently=True,
            )
        )
    return True


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())

"""Submitting a draft tells the manager(s) who must approve it, in the app and by e-mail, once."""

from django.core import mail

from agreements import services
from leads.models import Notification
from slaportal.outbox import outbox_deliver


def test_submitting_a_draft_notifies_the_other_approving_manager_once(
    draft, marketing_manager, sales_manager
):
    services.version_submit(version=draft, by=marketing_manager, change_note="First version")
    outbox_deliver()
    outbox_deliver()  # a second run delivers nothing again

    notice = Notification.objects.get()
    assert notice.user == sales_manager
    assert notice.message.startswith("Marina")
    assert notice.message.endswith("submitted a draft of “Acme SLA” for your approval.")
    assert not Notification.objects.filter(user=marketing_manager).exists()
    assert [message.to for message in mail.outbox] == [[sales_manager.email]]
    assert "for your approval" in mail.outbox[0].subject


def test_a_submission_by_someone_else_notifies_both_managers(
    draft, marketing_manager, sales_manager, django_user_model
):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    services.version_submit(version=draft, by=admin, change_note="First version")
    outbox_deliver()
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        "marina",
        "sergio",
    }


def test_the_submit_page_leaves_a_notice_for_the_approver(
    client_for, draft, marketing_manager, sales_manager
):
    services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    outbox_deliver()
    page = client_for(sales_manager).get("/leads/notifications/").content.decode()
    assert "submitted a draft of “Acme SLA” for your approval" in page

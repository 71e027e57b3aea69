"""The conversation on a draft: who may read and write it, mentions, blocking threads,
suggested changes, and the history each published version keeps."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from agreements import models as m
from agreements import services as agreement_services
from agreements.exports import document_markdown
from discussions import services
from discussions.models import Comment, Invite, Suggestion, Thread
from discussions.presence import presence_beat
from discussions.text import mentioned_usernames, render_light
from leads.models import Notification
from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_deliver

pytestmark = pytest.mark.django_db
TARGET = "s:policy-response_target_hours"


def opened(draft, by, title="Fridays?", text="Can sales call within 2 hours on Fridays?", **kw):
    return services.thread_open(version=draft, part="handoff", by=by, title=title, text=text, **kw)


def amendment(published, by):
    return agreement_services.amendment_start(agreement=published.agreement, by=by)


def publish(version, marketing_manager, sales_manager):
    agreement_services.version_submit(version=version, by=marketing_manager, change_note="v")
    agreement_services.version_approve(version=version, by=marketing_manager, side="marketing")
    agreement_services.version_approve(version=version, by=sales_manager, side="sales")
    version.refresh_from_db()


# Permissions -------------------------------------------------------------------------------


def test_both_managers_comment_on_a_draft(draft, marketing_manager, sales_manager):
    thread = opened(draft, marketing_manager)
    services.comment_add(thread=thread, by=sales_manager, text="Yes, until 16:00.")
    assert [c.author for c in thread.comments.all()] == [marketing_manager, sales_manager]


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "no_role_user"])
def test_reps_viewers_and_people_without_a_role_may_not_comment_on_a_draft(
    role, request, draft, marketing_manager, client_for
):
    thread = opened(draft, marketing_manager)
    person = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.comment_add(thread=thread, by=person, text="Me too")
    with pytest.raises(PermissionDenied):
        opened(draft, person)
    response = client_for(person).post(
        reverse("discussions:comment_create", args=[thread.pk]), {"text": "Me too"}
    )
    assert response.status_code in (302, 403)
    assert Comment.objects.count() == 1 and Thread.objects.count() == 1


@pytest.mark.parametrize("role", ["sales_rep", "viewer"])
def test_reps_and_viewers_do_not_read_a_draft_conversation_unless_invited(
    role, request, draft, marketing_manager, client_for
):
    opened(draft, marketing_manager, title="Secret haggling")
    person = request.getfixturevalue(role)
    client = client_for(person)
    decisions = reverse("discussions:decisions", args=[draft.pk])
    assert client.get(decisions).status_code == 403
    assert "Secret haggling" not in client.get(draft.get_absolute_url()).content.decode()

    services.invite_add(version=draft, user=person, by=marketing_manager)
    assert "Secret haggling" in client.get(draft.get_absolute_url()).content.decode()
    thread = Thread.objects.get()
    services.comment_add(thread=thread, by=person, text="From the floor: Fridays are quiet.")
    assert thread.comments.count() == 2


@pytest.mark.parametrize("role", ["sales_rep", "viewer"])
def test_reps_and_viewers_read_the_threads_of_a_published_version_but_not_comment(
    role, request, draft, marketing_manager, sales_manager, client_for
):
    thread = opened(draft, marketing_manager, title="Why four hours")
    publish(draft, marketing_manager, sales_manager)
    person = request.getfixturevalue(role)
    client = client_for(person)
    assert "Why four hours" in client.get(draft.get_absolute_url()).content.decode()
    page = client.get(reverse("discussions:decisions", args=[draft.pk]))
    assert page.status_code == 200 and "Why four hours" in page.content.decode()
    with pytest.raises(PermissionDenied):
        services.comment_add(thread=thread, by=person, text="late")


def test_nobody_comments_on_a_published_version(published, marketing_manager):
    with pytest.raises(PermissionDenied):
        opened(published, marketing_manager)


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "no_role_user"])
def test_only_managers_invite(role, request, draft, sales_rep):
    person = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.invite_add(version=draft, user=sales_rep, by=person)
    assert not Invite.objects.exists()


def test_a_manager_needs_no_invitation_and_a_rep_marks_nothing_blocking(
    draft, marketing_manager, sales_manager, sales_rep
):
    with pytest.raises(ValidationError):
        services.invite_add(version=draft, user=sales_manager, by=marketing_manager)
    services.invite_add(version=draft, user=sales_rep, by=marketing_manager)
    with pytest.raises(PermissionDenied):
        opened(draft, sales_rep, blocking=True)
    assert not Thread.objects.exists()


def test_an_invited_rep_resolves_only_their_own_thread(
    draft, marketing_manager, sales_manager, sales_rep
):
    services.invite_add(version=draft, user=sales_rep, by=marketing_manager)
    theirs, managers = opened(draft, sales_rep), opened(draft, sales_manager, title="Other")
    services.thread_resolve(thread=theirs, by=sales_rep)
    with pytest.raises(PermissionDenied):
        services.thread_resolve(thread=managers, by=sales_rep)
    managers.refresh_from_db()
    assert managers.status == Thread.Status.OPEN


# Mentions ----------------------------------------------------------------------------------


def test_a_mention_is_told_once_in_app_and_by_email_however_often_delivered(
    draft, marketing_manager, sales_manager
):
    opened(draft, marketing_manager, text="@sergio can you live with 2h? cc @sergio.")
    outbox_deliver()
    outbox_deliver()
    services.comment_add(thread=Thread.objects.get(), by=marketing_manager, text="ping **@sergio**")
    outbox_deliver()
    outbox_deliver()
    notices = Notification.objects.filter(user=sales_manager, key__startswith="mention:")
    assert notices.count() == 2  # one per comment that mentions him, never two for one
    first = notices.order_by("created_at", "id").first()
    assert first.message.startswith("Marina") and "mentioned you on “Fridays?”" in first.message
    assert [message.to for message in mail.outbox] == [[sales_manager.email]] * 2
    assert f"/sla/{draft.agreement_id}/versions/{draft.pk}/#thread-" in mail.outbox[0].body
    assert OutboxMessage.objects.filter(status="sent").count() == 4


def test_the_author_and_people_who_cannot_read_the_draft_are_not_told(
    draft, marketing_manager, sales_rep
):
    thread = opened(draft, marketing_manager, text="@marina note to self; @rita will see later")
    outbox_deliver()
    assert not Notification.objects.exists()
    comment = thread.comments.get()
    assert list(comment.mentions.all()) == [marketing_manager]  # rita cannot read the draft


def test_mentions_and_marks_render_safely():
    html = render_light(
        "<script>alert(1)</script> **bold** *it* `**raw**` @sergio @ghost",
        known={"sergio"},
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>**raw**</code>" in html
    assert '<span class="mention">@sergio</span>' in html and "@ghost" in html
    assert mentioned_usernames("hi @a.b, @c. and mail x@y.com @a.b") == ["a.b", "c"]


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"text": "   "},
        {"title": ""},
        {"text": "x" * 4001},
        {"part": "nope"},
        {"rowset": "territory", "row_key": "6c1f4f0e-8a3c-4b7a-9d0e-000000000000"},
    ],
)
def test_bad_thread_input_is_refused_and_nothing_stored(changes, draft, marketing_manager):
    arguments = {"part": "handoff", "title": "Fridays", "text": "2h?", **changes}
    with pytest.raises(ValidationError):
        services.thread_open(version=draft, by=marketing_manager, **arguments)
    assert not Thread.objects.exists() and not Comment.objects.exists()


def test_a_refused_thread_through_the_page_says_why_and_stores_nothing(
    draft, marketing_manager, client_for
):
    response = client_for(marketing_manager).post(
        reverse("discussions:thread_create", args=[draft.pk]),
        {"part": "handoff", "title": "", "text": "x"},
        follow=True,
    )
    assert "Nothing was stored" in response.content.decode()
    assert not Thread.objects.exists()


# Blocking threads --------------------------------------------------------------------------


def test_an_open_blocking_thread_refuses_submission_naming_it(
    draft, marketing_manager, sales_manager, client_for
):
    thread = opened(draft, sales_manager, title="Friday coverage", blocking=True)
    with pytest.raises(ValidationError) as refused:
        agreement_services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    assert "Friday coverage" in " ".join(refused.value.messages)
    draft.refresh_from_db()
    assert draft.status == m.AgreementVersion.Status.DRAFT

    page = client_for(marketing_manager).post(
        reverse("agreements:submit", args=[draft.agreement_id, draft.pk]),
        {"change_note": "v1"},
    )
    assert "Resolve the blocking threads first" in page.content.decode()

    services.thread_resolve(thread=thread, by=marketing_manager)
    agreement_services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    draft.refresh_from_db()
    assert draft.status == m.AgreementVersion.Status.SUBMITTED


def test_a_resolved_thread_can_be_reopened_and_blocks_again(draft, marketing_manager):
    thread = opened(draft, marketing_manager, blocking=True)
    services.thread_resolve(thread=thread, by=marketing_manager)
    services.thread_reopen(thread=thread, by=marketing_manager)
    with pytest.raises(ValidationError):
        agreement_services.version_submit(version=draft, by=marketing_manager, change_note="v")


# Suggestions -------------------------------------------------------------------------------


def suggest(draft, by, value="2", reason="Marketing sees demo requests go cold by lunch."):
    return services.suggestion_make(
        version=draft, part="handoff", target=TARGET, value=value, reason=reason, by=by
    )


def test_a_suggestion_accepted_is_the_owners_edit_linked_in_the_history(
    draft, marketing_manager, sales_manager
):
    suggestion = suggest(draft, marketing_manager)
    assert m.HandoffPolicy.objects.get(version=draft).response_target_hours == 4
    assert suggestion.thread.comments.count() == 1
    services.comment_add(thread=suggestion.thread, by=sales_manager, text="2h works, agreed.")
    services.suggestion_accept(suggestion=suggestion, by=sales_manager)

    assert m.HandoffPolicy.objects.get(version=draft).response_target_hours == 2
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.ACCEPTED
    assert suggestion.thread.status == Thread.Status.RESOLVED
    edit = draft.events.filter(kind="edited", part="handoff").get()
    assert edit.by == sales_manager and f"suggestion #{suggestion.pk}" in edit.note
    draft.refresh_from_db()
    assert draft.revision_of("handoff") == 1


def test_a_suggestion_on_a_row_changes_that_row(draft, sales_manager, marketing_manager):
    step = m.CadenceStep.objects.create(version=draft, channel="phone", offset=1)
    suggestion = services.suggestion_make(
        version=draft,
        part="cadence",
        target=f"r:attempt:{step.pk}:channel",
        value="Email",
        reason="",
        by=marketing_manager,
    )
    services.suggestion_accept(suggestion=suggestion, by=sales_manager)
    step.refresh_from_db()
    assert step.channel == "email" and step.row_key == suggestion.row_key


def test_a_declined_suggestion_keeps_its_reason_and_changes_nothing(
    draft, marketing_manager, sales_manager
):
    suggestion = suggest(draft, marketing_manager)
    with pytest.raises(ValidationError):
        services.suggestion_decline(suggestion=suggestion, by=sales_manager, reason=" ")
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.OPEN
    services.suggestion_decline(
        suggestion=suggestion, by=sales_manager, reason="Not with two reps on leave."
    )
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.DECLINED
    assert m.HandoffPolicy.objects.get(version=draft).response_target_hours == 4
    with pytest.raises(ValidationError):
        services.suggestion_accept(suggestion=suggestion, by=sales_manager)


@pytest.mark.parametrize(
    ("value", "target"),
    [("0.1", TARGET), ("abc", TARGET), ("4.00", TARGET), ("2", "s:policy-nope"), ("2", "r:x:1:y")],
)
def test_a_bad_suggestion_is_refused_and_nothing_stored(value, target, draft, marketing_manager):
    with pytest.raises(ValidationError):
        services.suggestion_make(
            version=draft,
            part="handoff",
            target=target,
            value=value,
            reason="",
            by=marketing_manager,
        )
    assert not Suggestion.objects.exists() and not Thread.objects.exists()


def test_managers_suggest_on_the_other_sides_part_not_their_own(
    draft, marketing_manager, sales_manager
):
    with pytest.raises(PermissionDenied):
        suggest(draft, sales_manager)  # sergio drafts the handoff: he edits it
    with pytest.raises(PermissionDenied):
        services.suggestion_make(
            version=draft,
            part="goals",
            target="s:plan-months",
            value="6",
            reason="",
            by=marketing_manager,
        )  # a shared part: she edits it


def test_while_submitted_any_manager_suggests_and_the_other_decides(
    draft, marketing_manager, sales_manager
):
    agreement_services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    draft.refresh_from_db()
    suggestion = services.suggestion_make(
        version=draft,
        part="goals",
        target="s:plan-months",
        value="6",
        reason="",
        by=sales_manager,
    )
    with pytest.raises(PermissionDenied):
        services.suggestion_accept(suggestion=suggestion, by=sales_manager)  # not your own
    services.suggestion_accept(suggestion=suggestion, by=marketing_manager)
    assert m.FunnelPlan.objects.get(version=draft).months == 6


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "marketing_manager"])
def test_only_the_parts_owner_decides(role, request, draft, marketing_manager, sales_rep):
    suggestion = suggest(draft, marketing_manager)
    person = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.suggestion_accept(suggestion=suggestion, by=person)
    with pytest.raises(PermissionDenied):
        services.suggestion_decline(suggestion=suggestion, by=person, reason="no")


@pytest.mark.parametrize("role", ["sales_rep", "viewer"])
def test_reps_and_viewers_do_not_suggest_even_when_invited(
    role, request, draft, marketing_manager, client_for
):
    person = request.getfixturevalue(role)
    services.invite_add(version=draft, user=person, by=marketing_manager)
    with pytest.raises(PermissionDenied):
        suggest(draft, person)
    response = client_for(person).post(
        reverse("discussions:suggestion_create", args=[draft.pk]),
        {"part": "handoff", "target": TARGET, "value": "2"},
    )
    assert response.status_code == 403
    assert not Suggestion.objects.exists()


# History and pages -------------------------------------------------------------------------


def test_the_published_versions_history_shows_the_conversation_and_the_pdf_appendix(
    published, marketing_manager, sales_manager, viewer, client_for
):
    draft = amendment(published, marketing_manager)
    suggestion = suggest(draft, marketing_manager)
    services.comment_add(thread=suggestion.thread, by=sales_manager, text="Agreed: **2h**.")
    services.suggestion_accept(suggestion=suggestion, by=sales_manager)
    publish(draft, marketing_manager, sales_manager)

    client = client_for(viewer)
    history = client.get(reverse("agreements:history", args=[draft.agreement_id])).content
    assert reverse("discussions:decisions", args=[draft.pk]).encode() in history
    page = client.get(reverse("discussions:decisions", args=[draft.pk])).content.decode()
    assert "First-touch target" in page and "Agreed: **2h**." in page and "Accepted" in page
    pdf = client.get(reverse("discussions:decisions_pdf", args=[draft.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from discussions.selectors import version_decisions

    markdown = document_markdown(draft.snapshot, decisions=version_decisions(version=draft))
    assert "## Appendix: decisions" in markdown and "Agreed: **2h**." in markdown


def test_the_draft_page_shows_open_threads_per_part_in_a_fixed_number_of_queries(
    draft, marketing_manager, sales_manager, client_for, django_assert_max_num_queries
):
    for index in range(6):
        thread = opened(draft, marketing_manager, title=f"Handoff question {index}")
        services.comment_add(thread=thread, by=sales_manager, text=f"@marina answer {index}")
    services.thread_open(
        version=draft, part="kpis", by=sales_manager, title="KPI question", text="?"
    )
    client = client_for(sales_manager)
    client.get(draft.get_absolute_url())
    # The page reads the whole document; the conversation adds a fixed number, not one per
    # thread (the same count with one thread as with seven).
    with django_assert_max_num_queries(72):
        page = client.get(draft.get_absolute_url()).content.decode()
    assert "Handoff question 5" in page and "KPI question" in page
    assert page.index("Handoff question 0") < page.index("KPI question")
    assert "6 open threads" in page


def test_presence_shows_who_else_has_the_draft_open(draft, marketing_manager, sales_manager):
    presence_beat(version_pk=draft.pk, user=marketing_manager)
    others = presence_beat(version_pk=draft.pk, user=sales_manager, part="handoff")
    assert [o["name"] for o in others] == ["Marina " + marketing_manager.last_name]


def test_the_presence_heartbeat_is_for_readers_of_the_draft(
    draft, marketing_manager, sales_rep, client_for
):
    url = reverse("discussions:presence", args=[draft.pk])
    assert client_for(sales_rep).post(url).status_code == 403
    client_for(marketing_manager).post(url)
    services.invite_add(version=draft, user=sales_rep, by=marketing_manager)
    assert "Marina" in client_for(sales_rep).post(url).content.decode()


def test_the_reviews_proposal_opens_a_thread_on_the_part_it_concerns(
    published, sales_manager, client_for
):
    from kpis.periods import Month

    month = (
        Month.containing(published.effective_at.date()) if hasattr(Month, "containing") else None
    )
    url = reverse("kpis:propose", args=[str(month) if month else "2026-10"])
    response = client_for(sales_manager).post(
        url, {"part": "handoff", "note": "Raise the first-touch target to 6 hours"}
    )
    assert response.status_code == 302
    thread = Thread.objects.get()
    assert thread.part == "handoff" and thread.created_by == sales_manager
    assert thread.comments.get().text == "Raise the first-touch target to 6 hours"
    assert response["Location"].endswith(f"#thread-{thread.pk}")


def test_a_thread_on_one_row_names_the_row(draft, sales_manager, marketing_manager):
    step = m.CadenceStep.objects.create(version=draft, channel="phone", offset=2)
    thread = services.thread_open(
        version=draft,
        part="cadence",
        rowset="attempt",
        row_key=step.row_key,
        title="A second call on day 2?",
        text="@marina is day 2 too soon?",
        by=sales_manager,
    )
    assert thread.row_key == step.row_key and thread.row_label.startswith("Attempts: Phone")


def test_a_long_suggestion_title_is_cut_to_fit(draft, marketing_manager):
    suggestion = services.suggestion_make(
        version=draft,
        part="handoff",
        target=TARGET,
        value="2",
        reason="",
        by=marketing_manager,
    )
    assert len(suggestion.thread.title) <= 200

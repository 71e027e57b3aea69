"""Agreement scopes: the pure core, the set-based resolution held to it, the overlap refusal
on submission, the editor's preview, its permissions and its refusals of bad input."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agreements import models as m
from agreements import services
from agreements.scopes import (
    ScopeRuleSpec,
    ScopeSpec,
    governing_agreement,
    scope_rule_matches,
    scopes_may_overlap,
)
from agreements.selectors import scopes_in_force, version_scope
from leads.models import Lead
from leads.services.scopes import leads_resolve, scope_preview


def rule(attribute, operator, value="", custom=""):
    return ScopeRuleSpec(
        attribute=attribute, operator=operator, value=value, custom_attribute=custom
    )


def scope(agreement_id, *rules, priority=0, default=False):
    return ScopeSpec(
        agreement_id=agreement_id,
        version_id=None,
        priority=priority,
        is_default=default,
        rules=rules,
    )


# The pure core -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,attributes,expected",
    [
        (rule("country", "in", "BR, PT"), {"country": " br "}, True),
        (rule("country", "in", "BR, PT"), {"country": "US"}, False),
        (rule("country", "not_in", "BR"), {"country": ""}, True),
        (rule("country", "not_in", "BR"), {"country": "br"}, False),
        (rule("company_size", "at_least", "1000"), {"company_size": 1000}, True),
        (rule("company_size", "at_least", "1000"), {"company_size": 999}, False),
        (rule("company_size", "at_least", "1000"), {"company_size": None}, False),
        (rule("company_size", "lt", "1000"), {"company_size": 999}, True),
        (rule("source", "equals", "Webinar"), {"source": "webinar"}, True),
        (rule("industry", "contains", "soft"), {"industry": "Software"}, True),
        (rule("custom", "is_set", custom="plan"), {"plan": "pro"}, True),
        (rule("custom", "is_set", custom="plan"), {}, False),
    ],
)
def test_a_scope_rule_matches_as_written(spec, attributes, expected):
    assert scope_rule_matches(spec, attributes) is expected


def test_the_highest_priority_matching_scope_governs_and_the_default_takes_the_rest():
    enterprise = scope(2, rule("company_size", "at_least", "1000"), priority=10)
    brazil = scope(3, rule("country", "equals", "BR"), priority=5)
    smb = scope(1, rule("company_size", "lt", "1000"), default=True)
    scopes = [smb, brazil, enterprise]
    assert governing_agreement(scopes, {"company_size": 5000, "country": "BR"}) == 2
    assert governing_agreement(scopes, {"company_size": 50, "country": "BR"}) == 3
    assert governing_agreement(scopes, {"company_size": 50, "country": "US"}) == 1
    # No scope matches a lead of unknown size outside Brazil: the default takes it.
    assert governing_agreement(scopes, {"country": "US"}) == 1
    assert governing_agreement([enterprise, brazil], {"country": "US"}) is None


@pytest.mark.parametrize(
    "first,second,overlap",
    [
        ([rule("country", "in", "BR")], [rule("country", "in", "US,CA")], False),
        ([rule("country", "in", "BR,PT")], [rule("country", "equals", "pt")], True),
        ([rule("company_size", "at_least", "1000")], [rule("company_size", "lt", "1000")], False),
        ([rule("company_size", "at_least", "500")], [rule("company_size", "lt", "1000")], True),
        ([rule("country", "in", "BR")], [rule("country", "not_in", "BR")], False),
        ([rule("country", "in", "BR")], [rule("company_size", "lt", "1000")], True),
        ([rule("industry", "contains", "soft")], [rule("industry", "contains", "ware")], True),
        ([], [rule("country", "in", "BR")], True),  # no rules: every lead
        (
            [rule("custom", "in", "gold", custom="tier")],
            [rule("custom", "in", "silver", custom="Tier")],
            False,
        ),
    ],
)
def test_overlap_is_decided_on_the_rules(first, second, overlap):
    assert scopes_may_overlap(scope(1, *first), scope(2, *second)) is overlap
    assert scopes_may_overlap(scope(2, *second), scope(1, *first)) is overlap


# Agreements through the services --------------------------------------------------------------


def publish(draft, marketing_manager, sales_manager, *, priority=0, default=False, rules=()):
    m.ScopeSettings.objects.filter(version=draft).update(priority=priority, is_default=default)
    for position, (attribute, operator, value) in enumerate(rules):
        m.ScopeRule.objects.create(
            version=draft, position=position, attribute=attribute, operator=operator, value=value
        )
    services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    services.version_approve(version=draft, by=marketing_manager, side="marketing")
    services.version_approve(version=draft, by=sales_manager, side="sales")
    draft.refresh_from_db()
    return draft


def new_agreement(name, marketing_manager, sales_manager):
    agreement = services.agreement_create(
        name=name,
        marketing_manager=marketing_manager,
        sales_manager=sales_manager,
        by=sales_manager,
    )
    return agreement, agreement.versions.get()


@pytest.fixture
def smb(agreement, draft, marketing_manager, sales_manager):
    return publish(
        draft,
        marketing_manager,
        sales_manager,
        default=True,
        rules=[("company_size", "lt", "1000")],
    )


@pytest.fixture
def enterprise(smb, marketing_manager, sales_manager):
    _, version = new_agreement("Enterprise", marketing_manager, sales_manager)
    return publish(
        version,
        marketing_manager,
        sales_manager,
        priority=10,
        rules=[("company_size", "at_least", "1000")],
    )


NOW = timezone.now()


def make_leads(*rows):
    return [
        Lead.objects.create(
            email=f"l{index}@example.com",
            email_normalised=f"l{index}@example.com",
            created_at=NOW,
            updated_at=NOW,
            lead_at=NOW,
            **row,
        )
        for index, row in enumerate(rows)
    ]


LEADS = [
    {"company_size": 5000, "country": "BR"},
    {"company_size": 20, "country": "BR"},
    {"company_size": None, "country": "US"},
    {"company_size": 1000, "country": "", "attributes": {"tier": "Gold"}},
    {"company_size": 999, "country": "PT", "source": "Webinar"},
]


def test_set_based_resolution_gives_the_pure_cores_answer(
    enterprise, smb, marketing_manager, sales_manager
):
    _, brazil = new_agreement("Brazil", marketing_manager, sales_manager)
    publish(
        brazil,
        marketing_manager,
        sales_manager,
        priority=5,
        rules=[("country", "in", "br, pt"), ("source", "not_in", "webinar")],
    )
    leads = make_leads(*LEADS)
    leads_resolve()
    scopes = scopes_in_force()
    assert len(scopes) == 3
    for lead in leads:
        lead.refresh_from_db()
        attributes = {
            **lead.attributes,
            **{key: getattr(lead, key) for key in ("company_size", "country", "source")},
        }
        assert lead.agreement_id == governing_agreement(scopes, attributes), attributes
    by_agreement = {lead.company_size: lead.agreement_id for lead in leads}
    assert by_agreement[5000] == enterprise.agreement_id
    assert by_agreement[20] == brazil.agreement_id
    assert by_agreement[None] == smb.agreement_id  # the default
    assert by_agreement[999] == smb.agreement_id  # a webinar lead in PT: not Brazil's


def test_resolution_writes_only_leads_whose_agreement_changes(enterprise, smb):
    make_leads(*LEADS)
    assert leads_resolve() == len(LEADS)
    assert leads_resolve() == 0
    Lead.objects.filter(company_size=20).update(company_size=2000)
    assert leads_resolve() == 1


def test_a_lead_no_scope_covers_without_a_default_has_no_agreement(
    agreement, draft, marketing_manager, sales_manager
):
    publish(draft, marketing_manager, sales_manager, rules=[("country", "equals", "BR")])
    brazilian, other = make_leads({"country": "BR"}, {"country": "US"})
    leads_resolve()
    brazilian.refresh_from_db()
    other.refresh_from_db()
    assert brazilian.agreement_id == agreement.pk and other.agreement_id is None


def test_submission_is_refused_when_two_published_scopes_of_equal_priority_overlap(
    smb, marketing_manager, sales_manager
):
    make_leads({"company_size": 10})
    _, draft = new_agreement("Partners", marketing_manager, sales_manager)
    m.ScopeRule.objects.create(version=draft, attribute="company_size", operator="lt", value="50")
    with pytest.raises(ValidationError) as refused:
        services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    message = " ".join(refused.value.messages)
    assert "overlaps “Acme SLA”" in message and "(1 current leads do)" in message
    draft.refresh_from_db()
    assert draft.status == m.AgreementVersion.Status.DRAFT and draft.submitted_at is None
    # A higher priority, or rules that exclude each other, may be submitted.
    m.ScopeSettings.objects.filter(version=draft).update(priority=1)
    services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    draft.refresh_from_db()
    assert draft.status == m.AgreementVersion.Status.SUBMITTED


def test_disjoint_scopes_of_equal_priority_may_both_be_published(
    smb, marketing_manager, sales_manager
):
    _, draft = new_agreement("Big", marketing_manager, sales_manager)
    publish(draft, marketing_manager, sales_manager, rules=[("company_size", "at_least", "1000")])
    assert draft.status == m.AgreementVersion.Status.PUBLISHED


def test_a_second_default_is_refused(smb, marketing_manager, sales_manager):
    _, draft = new_agreement("Other", marketing_manager, sales_manager)
    m.ScopeSettings.objects.filter(version=draft).update(priority=3, is_default=True)
    with pytest.raises(ValidationError) as refused:
        services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    assert "already the default agreement" in " ".join(refused.value.messages)


def test_the_preview_counts_what_the_scope_would_govern_and_what_nobody_covers(
    agreement, draft, marketing_manager, sales_manager
):
    publish(draft, marketing_manager, sales_manager, rules=[("country", "equals", "BR")])
    make_leads(
        {"country": "BR", "company_size": 5000},
        {"country": "US", "company_size": 2000},
        {"country": "US", "company_size": 10},
        {"country": "PT"},
    )
    _, big = new_agreement("Big", marketing_manager, sales_manager)
    m.ScopeSettings.objects.filter(version=big).update(priority=10)
    m.ScopeRule.objects.create(
        version=big, attribute="company_size", operator="at_least", value="1000"
    )
    assert scope_preview(scope=version_scope(version=big)) == {
        "total": 4,
        "covered": 2,
        "uncovered": 2,
    }


# The editor ----------------------------------------------------------------------------------


def scope_post(revision, rules=(), **settings):
    data = {
        "revision": str(revision),
        "scope-priority": str(settings.get("priority", 0)),
        "scoperule-TOTAL_FORMS": str(len(rules)),
        "scoperule-INITIAL_FORMS": "0",
        "scoperule-MIN_NUM_FORMS": "0",
        "scoperule-MAX_NUM_FORMS": "1000",
    }
    if settings.get("is_default"):
        data["scope-is_default"] = "on"
    for index, row in enumerate(rules):
        for key, value in row.items():
            data[f"scoperule-{index}-{key}"] = value
    return data


def test_a_manager_saves_a_scope_and_sees_the_preview(
    agreement, draft, marketing_manager, client_for
):
    make_leads({"company_size": 5000}, {"company_size": 10}, {"company_size": None})
    client = client_for(marketing_manager)
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "scope"])
    size = {"attribute": "company_size", "operator": "at_least", "value": "1000"}
    response = client.post(url, scope_post(0, [size], priority=10))
    assert response.status_code == 302
    assert version_scope(version=draft).rules == (rule("company_size", "at_least", "1000"),)
    page = client.get(url).content.decode()
    assert "This scope covers <strong>1</strong> of 3 current leads." in page
    assert "2 leads are covered by no agreement." in page
    # The live preview: the rules as typed, nothing saved.
    preview = reverse("agreements:scope_preview", args=[agreement.pk, draft.pk])
    loose = {"attribute": "company_size", "operator": "lt", "value": "100"}
    response = client.post(preview, scope_post(1, [loose], is_default=True), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert "covers <strong>3</strong> of 3 current leads." in text
    assert "0 leads are covered by no agreement." in text
    assert m.ScopeRule.objects.get(version=draft).operator == "at_least"


@pytest.mark.parametrize(
    "row,error",
    [
        (
            {"attribute": "company_size", "operator": "at_least", "value": "lots"},
            "&#x27;at least&#x27; and &#x27;less than&#x27; need a number.",
        ),
        (
            {"attribute": "custom", "operator": "equals", "value": "gold"},
            "Name the custom attribute this rule reads.",
        ),
        (
            {"attribute": "country", "operator": "in", "value": ""},
            "This operator needs a value to compare with.",
        ),
        ({"attribute": "planet", "operator": "in", "value": "mars"}, "Select a valid choice."),
    ],
)
def test_bad_scope_input_is_refused_with_a_message_and_nothing_stored(
    row, error, agreement, draft, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "scope"])
    response = client_for(marketing_manager).post(url, scope_post(0, [row], priority=4))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not m.ScopeRule.objects.filter(version=draft).exists()
    assert m.ScopeSettings.objects.get(version=draft).priority == 0


@pytest.mark.parametrize("role", ["sales_rep", "viewer"])
def test_reps_and_viewers_cannot_edit_or_preview_a_scope(
    role, agreement, draft, sales_rep, viewer, client_for
):
    user = {"sales_rep": sales_rep, "viewer": viewer}[role]
    client = client_for(user)
    edit = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "scope"])
    preview = reverse("agreements:scope_preview", args=[agreement.pk, draft.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, scope_post(0, priority=9)).status_code == 403
    assert client.post(preview, scope_post(0)).status_code == 403
    assert m.ScopeSettings.objects.get(version=draft).priority == 0


def test_the_submit_page_shows_the_overlap_refusal(smb, marketing_manager, client_for):
    other, draft = new_agreement("Partners", marketing_manager, smb.agreement.sales_manager)
    response = client_for(marketing_manager).post(
        reverse("agreements:submit", args=[other.pk, draft.pk]), {"change_note": "v1"}
    )
    assert response.status_code == 200
    assert "The scope overlaps “Acme SLA”" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == m.AgreementVersion.Status.DRAFT

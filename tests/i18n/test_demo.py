"""The demo in Brazilian Portuguese: `manage.py load_demo --language pt-br` (issue 13)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from agreements import demo as agreements_demo
from agreements import demo_pt as agreements_pt
from agreements import models as m
from agreements.scoring import FitRuleSpec, fit_rule_matches
from agreements.selectors import open_draft
from leads import demo as leads_demo
from leads.models import Handoff, Lead
from slaportal.models import Workspace
from slaportal.workspace import workspace

pytestmark = pytest.mark.django_db

NAME = agreements_pt.AGREEMENT_NAME
ENTERPRISE_NAME = agreements_pt.ENTERPRISE_NAME


def load_demo(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The Portuguese demo loaded twice, once for the module (replaying 90 days takes time),
    in a transaction rolled back after the module so other modules start from an empty
    database."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo("--language", "pt-br"), load_demo("--language", "pt_BR")
        transaction.set_rollback(True)


@pytest.fixture
def v1(loaded):
    return m.Agreement.objects.get(name=NAME).versions.get(number=1)


def test_the_agreements_are_altamiras_in_portuguese(loaded, v1):
    first, second = loaded
    assert f"Loaded “{NAME}”" in first and "already loaded" in second
    assert sorted(m.Agreement.objects.values_list("name", flat=True)) == sorted(
        [NAME, ENTERPRISE_NAME]
    )
    agreement = v1.agreement
    assert (agreement.marketing_team, agreement.sales_team) == (
        "Marketing Altamira",
        "Vendas Altamira",
    )
    assert v1.change_note == "Primeira versão do SLA, saída do workshop de kick-off."
    assert "3 horas úteis" in open_draft(agreement=agreement).change_note
    enterprise = m.Agreement.objects.get(name=ENTERPRISE_NAME).versions.get(number=1)
    assert m.ScopeSettings.objects.get(version=enterprise).priority == 10
    assert m.HandoffPolicy.objects.get(version=enterprise).named_owner.username == "rafael"


def test_the_goals_are_in_reais_and_the_workspace_is_brazilian(v1):
    revenue = m.Goal.objects.get(version=v1, metric=m.Metric.NEW_REVENUE)
    assert (revenue.name, revenue.unit, revenue.target) == (
        "R$ 5 milhões em nova receita no ano",
        "R$",
        5_000_000,
    )
    plan = m.FunnelPlan.objects.get(version=v1)
    assert (plan.revenue_target, plan.average_deal_size) == (5_000_000, 100_000)
    settings = workspace()
    assert (settings.default_language, settings.currency) == ("pt-br", "BRL")
    won = Lead.objects.filter(deal_value__isnull=False)
    assert won.exists() and not won.filter(deal_value__lt=60_000).exists()


def test_definitions_rules_and_reasons_are_written_in_portuguese(v1):
    terms = set(m.Term.objects.filter(version=v1).values_list("term", flat=True))
    assert {"Contato", "Lead", "MQL", "SQL", "Oportunidade", "Cliente"} == terms
    labels = dict(m.Stage.objects.filter(version=v1).values_list("slug", "label"))
    assert labels["opportunity"] == "Oportunidade" and labels["closed_won"] == "Ganho"
    assert m.FitRule.objects.filter(version=v1, value="diretor").exists()
    reasons = dict(m.ReturnReason.objects.filter(version=v1).values_list("code", "label"))
    assert reasons["no_response"] == "Sem resposta depois da cadência completa"
    tracks = m.NurtureTrack.objects.filter(version=v1)
    assert {track.name for track in tracks} == {
        "Educação (ainda não está pronto para comprar)",
        "Reengajamento (devolvidos por vendas)",
    }
    assert m.NurtureStep.objects.filter(version=v1, offer="E-book: o guia de receita B2B").exists()
    assert m.DispositionCode.objects.get(version=v1, code="no_answer").label == "Não atendeu"
    holidays = set(m.Holiday.objects.filter(version=v1).values_list("name", flat=True))
    assert "Tiradentes" in holidays


def test_the_leads_are_brazilian_where_they_are_in_brazil(loaded):
    leads = Lead.objects.filter(email__endswith=leads_demo.DEMO_EMAIL_SUFFIX)
    assert leads.count() == leads_demo.DEMO_LEADS
    portuguese = leads_demo.PORTUGUESE
    titles = {title for group in portuguese.titles.values() for title in group}
    for title in list(titles):
        word, _, rest = title.partition(" ")
        titles.add(f"{portuguese.feminine_words.get(word, word)} {rest}".strip())
    assert set(leads.values_list("title", flat=True)) <= titles
    women = leads.filter(first_name__in=portuguese.feminine_names)
    assert women.filter(title__startswith="Diretora ").exists()
    assert not women.filter(title__startswith="Diretor ").exists()
    assert set(leads.values_list("source", flat=True)) == {
        "site",
        "webinar",
        "busca paga",
        "indicação",
        "evento",
    }
    brazilian = leads.filter(country="BR")
    assert brazilian.exists() and not brazilian.exclude(company__endswith=" Ltda").exists()
    for lead in brazilian.exclude(phone=""):
        assert lead.phone.startswith("+55 ") and lead.attributes["cidade"]
    notes = set(
        Handoff.objects.exclude(return_note="").values_list("return_note", flat=True).distinct()
    )
    # The reps' notes; the cadence job's own notes are the product's words, not the demo's.
    assert notes & set(leads_demo.PORTUGUESE.notes.values())
    assert not notes & set(leads_demo.ENGLISH.notes.values())


def test_the_sla_page_shows_the_portuguese_demo_to_a_rep(loaded, v1, client_for):
    rita = get_user_model().objects.get(username="rita")
    url = reverse("agreements:detail", args=[v1.agreement.pk])
    page = client_for(rita).get(url, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert '<html lang="pt-br">' in page
    for text in (
        NAME,
        "R$ 5 milhões em nova receita no ano",
        "Lead Qualificado de Marketing",
        "Sem resposta depois da cadência completa",
        "Educação (ainda não está pronto para comprar)",
        "E-book: o guia de receita B2B",
    ):
        assert text in page, text


def test_the_queue_shows_a_reps_brazilian_leads(loaded, client_for):
    rita = get_user_model().objects.get(username="rita")
    # The workspace default is Portuguese now: no Accept-Language needed.
    page = client_for(rita).get(reverse("leads:queue")).content.decode()
    assert '<html lang="pt-br">' in page
    open_handoffs = Handoff.objects.filter(
        rep=rita, accepted_at__isnull=True, returned_at__isnull=True
    ).select_related("lead")
    assert open_handoffs.exists()
    for handoff in open_handoffs:
        assert handoff.lead.company in page


def test_loading_the_english_demo_over_it_leaves_it_as_is(loaded):
    before = m.Agreement.objects.count()
    output = load_demo("--language", "en")
    assert "already loaded in Brazilian Portuguese" in output
    assert m.Agreement.objects.count() == before
    assert workspace().default_language == "pt-br"


def test_an_unknown_language_is_refused_and_nothing_is_stored():
    counts = (
        get_user_model().objects.count(),
        m.Agreement.objects.count(),
        Lead.objects.count(),
        Workspace.objects.count(),
    )
    with pytest.raises(CommandError, match="No demo in the language “xx”: choose one of en, pt-br"):
        load_demo("--language", "xx")
    assert counts == (
        get_user_model().objects.count(),
        m.Agreement.objects.count(),
        Lead.objects.count(),
        Workspace.objects.count(),
    )


# The tables: the demo's random choices pick by position, so the Portuguese tables must match
# the English ones in length and in what the fit rules see, or the two demos would diverge.


def test_the_portuguese_lead_tables_match_the_english_ones():
    english, portuguese = leads_demo.ENGLISH, leads_demo.PORTUGUESE
    for name in ("pages", "content", "webinars", "campaigns", "utm_campaigns", "events_attended"):
        assert len(getattr(english, name)) == len(getattr(portuguese, name)), name
    assert portuguese.newsletter in portuguese.campaigns
    assert set(portuguese.sources) == set(leads_demo.SOURCES)
    assert set(portuguese.notes) == set(english.notes)
    for industry, (_, ends) in leads_demo.INDUSTRIES.items():
        words = portuguese.company_ends[industry].split()
        assert len(words) == len(ends.split()) == len(set(words)), industry
    for seniority, titles in english.titles.items():
        assert len(portuguese.titles[seniority]) == len(titles), seniority


def test_the_portuguese_titles_score_as_the_english_ones_do():
    def points(content, title):
        rules = [
            FitRuleSpec(attribute=a, operator=o, value=v, points=p)
            for a, o, v, p in content.fit_rules
            if a == "title"
        ]
        return sum(rule.points for rule in rules if fit_rule_matches(rule, {"title": title}))

    english, portuguese = agreements_demo.ENGLISH, agreements_demo.PORTUGUESE
    women = leads_demo.PORTUGUESE.feminine_words
    for seniority, titles in leads_demo.ENGLISH.titles.items():
        for en_title, pt_title in zip(titles, leads_demo.PORTUGUESE.titles[seniority], strict=True):
            assert points(english, en_title) == points(portuguese, pt_title), pt_title
            word, _, rest = pt_title.partition(" ")
            feminine = f"{women.get(word, word)} {rest}".strip()
            assert points(english, en_title) == points(portuguese, feminine), feminine
    other = {(a, o, v, p) for a, o, v, p in english.fit_rules if a != "title"}
    assert other == {(a, o, v, p) for a, o, v, p in portuguese.fit_rules if a != "title"}


def test_the_portuguese_agreement_tables_match_the_english_ones():
    english, portuguese = agreements_demo.ENGLISH, agreements_demo.PORTUGUESE
    assert [g["metric"] for g in english.goals] == [g["metric"] for g in portuguese.goals]
    assert list(english.return_reasons) == list(portuguese.return_reasons)
    assert list(english.dispositions) == list(portuguese.dispositions)
    assert [s[0] for s in english.pipeline_stages] == [s[0] for s in portuguese.pipeline_stages]
    assert set(english.lifecycle) == set(portuguese.lifecycle)
    assert [len(t["steps"]) for t in english.nurture_tracks] == [
        len(t["steps"]) for t in portuguese.nurture_tracks
    ]
    assert set(portuguese.user_descriptions) == {u.username for u in agreements_demo.DEMO_USERS}

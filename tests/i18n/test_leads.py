"""Leads, people and form captures in Brazilian Portuguese (issue 13).

Pages render in the language the browser asks for, with Brazilian dates and times; notices and
their e-mails are written in the language of the person who reads them, whoever caused them;
a bad CSV is refused in Portuguese with nothing stored.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from agreements.models import Channel, NurtureStep
from captures.models import FormCapture
from captures.services import capture_create
from leads.delivery import EmailDelivery
from leads.models import ImportJob, Lead, Notification
from leads.services.consent import lead_erase, unsubscribe_url
from leads.services.handoffs import breaches_flag
from leads.services.imports import import_run
from people.models import Preferences
from people.services import user_invite
from slaportal.outbox import outbox_deliver
from slaportal.roles import Role
from slaportal.workspace import workspace_update
from tests.leads import conftest as lead_fixtures

# The lead engine's fixtures (a published SLA on a frozen Monday, leads handed to reps).
clock, sla, hand_off, handoff = (
    lead_fixtures.clock,
    lead_fixtures.sla,
    lead_fixtures.hand_off,
    lead_fixtures.handoff,
)

PT = {"HTTP_ACCEPT_LANGUAGE": "pt-br"}


def page(client, url: str) -> str:
    response = client.get(url, **PT)
    assert response.status_code == 200, url
    return response.content.decode()


def speaks_portuguese(user) -> None:
    Preferences.objects.update_or_create(user=user, defaults={"language": "pt-br"})


def test_the_lead_list_and_page_are_in_portuguese_with_brazilian_dates(
    handoff, client_for, marketing_manager
):
    listing = page(client_for(marketing_manager), "/leads/")
    for label in ("Qualquer estágio", "Perfil / interesse", "Repassado a vendas", "1 lead."):
        assert label in listing
    # Monday 2 March 2026, 09:00 in the SLA calendar's zone.
    assert "02/03/2026 09h00" in listing
    assert "Any stage" not in listing and "Fit / interest" not in listing

    detail = page(client_for(marketing_manager), f"/leads/{handoff.lead_id}/")
    for label in (
        "Porte da empresa",
        "Pontuação",
        "Dados pessoais",
        "Histórico",
        "Com vendas agora",
    ):
        assert label in detail
    assert "Nunca foi inscrito em um fluxo de nutrição." in detail
    assert ">Company size</dt>" not in detail and "Never enrolled" not in detail


def test_the_handoff_forms_are_in_portuguese(handoff, client_for, sales_rep):
    rep = client_for(sales_rep)
    attempt = page(rep, f"/leads/handoffs/{handoff.pk}/attempt/")
    assert "Registrar uma tentativa de contato" in attempt and "Salvar tentativa" in attempt
    assert "Escolha o resultado…" in attempt
    # The accept window closes 8 business hours after 09:00: at 17:00, written 17h00.
    reject = page(rep, f"/leads/handoffs/{handoff.pk}/reject/")
    assert "Rejeitar de volta ao marketing" in reject and "17h00" in reject
    assert "nutrição “Re-engagement”" in reject  # the SLA's own names stay as written


def test_a_refused_attempt_says_why_in_portuguese(handoff, client_for, sales_rep):
    response = client_for(sales_rep).post(
        f"/leads/handoffs/{handoff.pk}/attempt/", {"channel": "phone", "disposition": ""}, **PT
    )
    assert "Nada foi salvo: corrija os campos marcados abaixo." in response.content.decode()
    assert not handoff.attempts.exists()


def test_the_pause_page_refuses_a_past_moment_in_portuguese(handoff, client_for, sales_rep):
    rep = client_for(sales_rep)
    assert "Pausar o relógio de" in page(rep, f"/leads/handoffs/{handoff.pk}/pause/")
    response = rep.post(
        f"/leads/handoffs/{handoff.pk}/pause/",
        {"until": "2026-03-01T10:00", "reason": "Viajando"},
        **PT,
    )
    assert response.status_code == 400
    assert "Esse momento já passou" in response.content.decode()
    assert not handoff.pauses.exists()


def test_a_rep_who_reads_portuguese_is_told_of_a_new_lead_in_portuguese(
    sla, hand_off, sales_rep, sales_manager, client_for
):
    speaks_portuguese(sales_rep)
    sales_rep.email = "rita@example.com"
    sales_rep.save()
    mail.outbox.clear()

    handoff = hand_off()  # made by a job, outside any request

    notice = Notification.objects.get(user=sales_rep, key=f"handoff:{handoff.pk}")
    assert notice.message.startswith("Novo lead para você: ")
    assert "prazo do primeiro contato: seg 02/03/2026 13h00" in notice.message.lower()
    email = next(message for message in mail.outbox if message.to == ["rita@example.com"])
    assert email.subject.startswith("[SLA Portal] Novo lead para você")
    assert "Abra no SLA Portal:" in email.body
    # The page lists the notice as it was written, in any language the page is in.
    assert "Novo lead para você" in page(client_for(sales_rep), "/leads/notifications/")


def test_a_breach_is_told_to_each_person_in_their_own_language(
    handoff, clock, sales_rep, sales_manager
):
    speaks_portuguese(sales_rep)
    sales_rep.email, sales_manager.email = "rita@example.com", "sergio@example.com"
    sales_rep.save()
    sales_manager.save()
    mail.outbox.clear()
    clock.move_to(handoff.due_at + timedelta(minutes=5), tick=False)

    assert breaches_flag().breached == [handoff.pk]
    outbox_deliver()

    rep_notice = Notification.objects.get(user=sales_rep, key=f"breach:{handoff.pk}")
    assert rep_notice.message.startswith("SLA violado: ")
    assert "não foi contatado até" in rep_notice.message and "13h00" in rep_notice.message
    manager_notice = Notification.objects.get(user=sales_manager, key=f"breach:{handoff.pk}")
    assert manager_notice.message.startswith("SLA breached: ")
    to_rep = next(message for message in mail.outbox if message.to == ["rita@example.com"])
    assert to_rep.subject.startswith("[SLA Portal] SLA violado")
    to_manager = next(message for message in mail.outbox if message.to == ["sergio@example.com"])
    assert to_manager.subject.startswith("[SLA Portal] SLA breached")


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("leads.csv", text.encode(), content_type="text/csv")


def test_a_bad_csv_row_is_refused_in_portuguese_and_nothing_is_stored(
    client_for, marketing_manager
):
    manager = client_for(marketing_manager)
    start = page(manager, "/leads/import/")
    assert "Importar leads ou eventos de CSV" in start and "50.000 linhas" in start

    response = manager.post(
        "/leads/import/",
        {"kind": "leads", "file": csv_upload("email\nana@example.com,extra\n")},
        **PT,
    )

    content = response.content.decode()
    assert "1 problema: nada pode ser importado até o arquivo ser corrigido." in content
    assert "linha 2: 2 valores, mas o cabeçalho tem 1 coluna." in content
    assert 'name="token"' not in content
    assert not Lead.objects.exists() and not ImportJob.objects.exists()


def test_an_import_run_by_a_worker_reports_in_the_uploaders_language(marketing_manager):
    speaks_portuguese(marketing_manager)
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.LEADS,
        filename="leads.csv",
        content="email,bogus\nana@example.com,1\n",
        total_rows=1,
        created_by=marketing_manager,
    )

    import_run(import_id=job.pk)  # no request: a worker's language is English

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"].startswith("coluna desconhecida; este tipo de arquivo aceita")
    assert not Lead.objects.exists()


def test_a_good_import_is_summed_up_in_portuguese(client_for, marketing_manager):
    manager = client_for(marketing_manager)
    preview = manager.post(
        "/leads/import/",
        {"kind": "leads", "file": csv_upload("email,company_size\nana@example.com,1200\n")},
        **PT,
    )
    assert "Todas as linhas são válidas." in preview.content.decode()
    done = manager.post(
        "/leads/import/confirm/", {"token": preview.context["token"]}, follow=True, **PT
    )
    content = done.content.decode()
    assert "1 linha importada: 1 lead criado, 0 atualizados." in content
    assert "1 linha importada às" in content
    assert Lead.objects.get().company_size == 1200


def test_the_people_pages_are_in_portuguese(client_for, marketing_manager, sales_manager):
    people = page(client_for(marketing_manager), "/people/")
    for label in ("Gerente de marketing", "Gerente de vendas", "Convidar alguém", "sem limite"):
        assert label in people
    absences = page(client_for(sales_manager), "/people/absences/")
    assert "Registrar uma ausência" in absences and "Reatribuí-los pelo método" in absences
    unassigned = page(client_for(sales_manager), "/people/unassigned/")
    assert "Nenhum lead em espera: todo repasse tem um vendedor." in unassigned


def test_an_invitation_is_written_in_the_workspaces_language(marketing_manager):
    workspace_update(default_language="pt-br", currency="BRL")
    mail.outbox.clear()

    user_invite(
        email="nova@example.com", first_name="Nova", role=Role.SALES_REP, by=marketing_manager
    )
    outbox_deliver()

    invitation = mail.outbox[-1]
    assert invitation.subject.endswith("convidou você")
    assert "como Vendedor" in invitation.body and "Escolha sua senha aqui" in invitation.body


def test_form_captures_are_in_portuguese(client_for, marketing_manager):
    capture = capture_create(
        by=marketing_manager,
        name="Formulário do site",
        event_type=FormCapture.Event.DEMO_REQUEST,
        email_field="email",
    )
    manager = client_for(marketing_manager)
    listing = page(manager, "/captures/")
    assert "Capturas de formulário" in listing and "Ativa" in listing
    detail = page(manager, f"/captures/{capture.pk}/")
    assert "URL secreta" in detail and "Nada foi enviado ainda." in detail
    form = page(manager, f"/captures/{capture.pk}/edit/")
    assert "Campo de porte da empresa" in form


@pytest.mark.django_db
def test_the_unsubscribe_page_is_in_portuguese(handoff, client):
    url = unsubscribe_url(handoff.lead).removeprefix("http://testserver")
    assert "Parar de receber nossos e-mails de marketing?" in page(client, url)
    done = client.post(url, **PT).content.decode()
    assert "Você não vai mais receber e-mails de marketing nossos." in done


def test_the_what_if_counts_in_portuguese(sla, hand_off, client_for, marketing_manager):
    hand_off()
    what_if = page(client_for(marketing_manager), f"/leads/what-if/{sla.pk}/")
    assert "de 1 lead seria MQL" in what_if


def test_erasing_a_lead_rewrites_each_notice_in_its_readers_language(
    sla, hand_off, sales_rep, sales_manager, marketing_manager
):
    speaks_portuguese(sales_rep)
    handoff = hand_off()
    lead_erase(lead=handoff.lead, by=marketing_manager)

    notice = Notification.objects.get(user=sales_rep, key=f"handoff:{handoff.pk}")
    assert notice.message == f"Sobre o lead {handoff.lead_id} (dados pessoais apagados)"
    assert "Silva" not in notice.message


def test_a_nurture_email_to_a_lead_is_in_the_workspaces_language(sla):
    workspace_update(default_language="pt-br", currency="BRL")
    lead = Lead.objects.create(
        email="ana@example.com",
        first_name="Ana",
        created_at=sla.created_at,
        updated_at=sla.created_at,
    )
    step = NurtureStep.objects.filter(version=sla, channel=Channel.EMAIL).first()
    mail.outbox.clear()

    EmailDelivery().deliver(lead=lead, step=step)

    [message] = mail.outbox
    assert message.body.startswith("Olá, Ana,")
    assert "Cancelar inscrição: " in message.body

"""The app's pages as a walk: every route of the URL resolver is a PAGE (with a way to build a
real URL from the seeded demo workspace) or NOT_A_PAGE (with the reason). The axe-core walk
(tests/browser/test_axe.py) and the English-left check (tests/i18n/test_english_left.py) both
walk it, so a page added later is checked by both from the day it lands.
"""

import time
import uuid
from dataclasses import dataclass, field

from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

ROLES = {  # the demo workspace's people (agreements/demo.py), one per role
    "marketing manager": "marina",
    "sales manager": "sergio",
    "sales rep": "rita",
    "viewer": "vera",
}


@dataclass
class Samples:
    """Real objects of the seeded workspace, for the URLs' arguments."""

    agreement: int = 0
    in_force: int = 0
    draft: int = 0
    lead: int = 0
    handoff: int = 0
    month: str = ""
    import_job: uuid.UUID | None = None
    capture: int = 0
    endpoint: int = 0
    unsubscribe: str = ""
    user: int = 0
    password_reset: str = ""
    parts: list = field(default_factory=list)


def _version(s, v):
    return f"/sla/{s.agreement}/versions/{v}/"


# route -> the URLs to walk for it (a function of the samples). Routes with a part or a figure
# are walked for every value, since each renders its own forms or table.
PAGES = {
    "": lambda s: ["/"],
    "accounts/login/": lambda s: ["/accounts/login/"],
    "accounts/password/": lambda s: ["/accounts/password/"],
    "accounts/password/done/": lambda s: ["/accounts/password/done/"],
    "sla/": lambda s: ["/sla/"],
    "sla/new/": lambda s: ["/sla/new/"],
    "sla/<int:pk>/": lambda s: [f"/sla/{s.agreement}/"],
    "sla/<int:pk>/history/": lambda s: [f"/sla/{s.agreement}/history/"],
    "sla/<int:pk>/diff/": lambda s: [f"/sla/{s.agreement}/diff/"],
    "sla/<int:pk>/versions/<int:version_pk>/": lambda s: [
        _version(s, s.in_force),
        _version(s, s.draft),
    ],
    "sla/<int:pk>/versions/<int:version_pk>/parts/<slug:part_slug>/": lambda s: [
        _version(s, s.draft) + f"parts/{slug}/" for slug in s.parts
    ],
    "leads/import/": lambda s: ["/leads/import/"],
    "leads/import/<uuid:pk>/": lambda s: [f"/leads/import/{s.import_job}/"],
    "leads/": lambda s: ["/leads/"],
    "leads/queue/": lambda s: ["/leads/queue/"],
    "leads/team/": lambda s: ["/leads/team/"],
    "leads/notifications/": lambda s: ["/leads/notifications/"],
    "leads/<int:pk>/": lambda s: [f"/leads/{s.lead}/"],
    # Without htmx, a row's action opens as a page of its own (the no-script path).
    "leads/handoffs/<int:pk>/attempt/": lambda s: [f"/leads/handoffs/{s.handoff}/attempt/"],
    "leads/handoffs/<int:pk>/reject/": lambda s: [f"/leads/handoffs/{s.handoff}/reject/"],
    "leads/handoffs/<int:pk>/return/": lambda s: [f"/leads/handoffs/{s.handoff}/return/"],
    "leads/handoffs/<int:pk>/nurture/": lambda s: [f"/leads/handoffs/{s.handoff}/nurture/"],
    "review/visitors/": lambda s: ["/review/visitors/"],
    "review/": lambda s: ["/review/"],
    "review/<str:month>/": lambda s: [
        f"/review/{s.month}/",
        f"/review/{s.month}/?present=1",
        f"/review/{s.month}/?agreement={s.agreement}",
    ],
    "review/<str:month>/leads/<slug:figure>/": lambda s: [
        f"/review/{s.month}/leads/entered_mql/",
        f"/review/{s.month}/leads/breached/",
    ],
    "review/<str:month>/actions/": lambda s: [f"/review/{s.month}/actions/"],
    "captures/": lambda s: ["/captures/"],
    "captures/new/": lambda s: ["/captures/new/"],
    "captures/<int:pk>/": lambda s: [f"/captures/{s.capture}/"],
    "captures/<int:pk>/edit/": lambda s: [f"/captures/{s.capture}/edit/"],
    "unsubscribe/<str:token>/": lambda s: [f"/unsubscribe/{s.unsubscribe}/"],
    "integrations/": lambda s: ["/integrations/"],
    "integrations/endpoints/new/": lambda s: ["/integrations/endpoints/new/"],
    "integrations/endpoints/<int:pk>/": lambda s: [f"/integrations/endpoints/{s.endpoint}/"],
    "integrations/endpoints/<int:pk>/edit/": lambda s: [
        f"/integrations/endpoints/{s.endpoint}/edit/"
    ],
    "integrations/notifications/": lambda s: ["/integrations/notifications/"],
    "accounts/reset/<uidb64>/<token>/": lambda s: [s.password_reset],
    "accounts/reset/done/": lambda s: ["/accounts/reset/done/"],
    "people/": lambda s: ["/people/"],
    "people/<int:pk>/": lambda s: [f"/people/{s.user}/"],
    "people/absences/": lambda s: ["/people/absences/"],
    "people/unassigned/": lambda s: ["/people/unassigned/"],
    "leads/handoffs/<int:pk>/pause/": lambda s: [f"/leads/handoffs/{s.handoff}/pause/"],
    "sla/discussions/versions/<int:version_pk>/decisions/": lambda s: [
        f"/sla/discussions/versions/{s.in_force}/decisions/"
    ],
    # Swagger UI: walked too; see SWAGGER_UI_OWN below for what is left out and why.
    "api/docs/": lambda s: ["/api/docs/"],
    "people/me/": lambda s: ["/people/me/"],
    "people/workspace/": lambda s: ["/people/workspace/"],
}

POST_ONLY = "answers POST only (its result is a page walked above)"
DOWNLOAD = "a file download, not an HTML page"
FRAGMENT = "an htmx fragment, checked inside the page that swaps it in"
NOT_A_PAGE = {
    "i18n/setlang/": POST_ONLY,
    "jsi18n/": "the JavaScript strings' catalog (a script)",
    "healthz": "a JSON health check",
    "favicon.ico": "an icon",
    "accounts/logout/": POST_ONLY,
    "sla/<int:pk>/amend/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/submit/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/reopen/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/accept/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/approve/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/sla.md": DOWNLOAD,
    "sla/<int:pk>/versions/<int:version_pk>/sla.pdf": DOWNLOAD,
    "sla/<int:pk>/versions/<int:version_pk>/parts/<slug:part_slug>/rows/<slug:rowset_key>/new/": (
        FRAGMENT
    ),
    "sla/<int:pk>/versions/<int:version_pk>/funnel-preview/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/score-preview/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/holidays/": POST_ONLY,
    "leads/what-if/<int:version_pk>/": FRAGMENT,
    "leads/import/confirm/": POST_ONLY,
    "leads/import/template/<slug:kind>.csv": DOWNLOAD,
    "leads/notifications/read/": POST_ONLY,
    "leads/<int:pk>/hand-off/": POST_ONLY,
    "leads/<int:pk>/export/": DOWNLOAD,
    "leads/<int:pk>/erase/": POST_ONLY,
    "leads/handoffs/<int:pk>/": FRAGMENT,
    "leads/handoffs/<int:pk>/accept/": POST_ONLY,
    "leads/handoffs/<int:pk>/reassign/": POST_ONLY,
    "review/visitors/confirm/": POST_ONLY,
    "review/<str:month>/notes/": POST_ONLY,
    "review/<str:month>/actions/<int:pk>/done/": POST_ONLY,
    "review/<str:month>/propose/": POST_ONLY,
    "review/<str:month>/pack.pdf": DOWNLOAD,
    "review/<str:month>/<slug:table>.csv": DOWNLOAD,
    "captures/<int:pk>/toggle/": POST_ONLY,
    "captures/<int:pk>/rotate/": POST_ONLY,
    "hooks/forms/<str:token>/": "a form-post endpoint for other sites (POST only)",
    "integrations/endpoints/<int:pk>/rotate/": POST_ONLY,
    "integrations/endpoints/<int:pk>/toggle/": POST_ONLY,
    "integrations/endpoints/<int:pk>/delete/": POST_ONLY,
    "integrations/endpoints/<int:pk>/test/": POST_ONLY,
    "integrations/deliveries/<int:pk>/resend/": POST_ONLY,
    "integrations/chat/": POST_ONLY,
    "integrations/chat/<int:pk>/delete/": POST_ONLY,
    "api/schema/": "the OpenAPI document (YAML)",
    "people/invite/": POST_ONLY,
    "people/absences/<int:pk>/cancel/": POST_ONLY,
    "people/unassigned/assign/": POST_ONLY,
    "people/unassigned/<int:pk>/assign/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/scope-preview/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/threads/": POST_ONLY,
    "sla/discussions/threads/<int:thread_pk>/comments/": POST_ONLY,
    "sla/discussions/threads/<int:thread_pk>/status/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/suggestions/": POST_ONLY,
    "sla/discussions/suggestions/<int:pk>/decide/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/invites/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/presence/": "a heartbeat (POST only)",
    "sla/discussions/versions/<int:version_pk>/decisions.pdf": DOWNLOAD,
}
ANONYMOUS_PAGES = {
    "accounts/login/",
    "unsubscribe/<str:token>/",
    "accounts/reset/<uidb64>/<token>/",
    "accounts/reset/done/",
}


def _routes(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django's own admin, not ours
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route.lstrip("^").rstrip("$")


def _api(route: str) -> bool:
    return route.startswith("api/v1/")


def routes() -> list[str]:
    """Every route of the app that is not the API's or the admin's."""
    return [r for r in _routes(get_resolver().url_patterns) if not _api(r)]


def seed() -> Samples:
    """The demo workspace, shortened (fewer leads, fewer days) to keep the walk quick; every
    table, chart and form of the demo is still filled."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from agreements.demo import DEMO_AGREEMENT_NAME
    from agreements.models import Agreement, AgreementVersion
    from agreements.parts import PARTS
    from captures.services import capture_create
    from integrations.models import WebhookEndpoint
    from integrations.services import secret_new
    from leads.models import Handoff, ImportJob, Lead
    from leads.services.consent import unsubscribe_url

    t0 = time.monotonic()
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    print(f"seeded in {time.monotonic() - t0:.0f} s")
    agreement = Agreement.objects.get(name=DEMO_AGREEMENT_NAME)
    versions = AgreementVersion.objects.filter(agreement=agreement)
    marina = agreement.marketing_manager
    rita_open = Handoff.objects.filter(
        rep__username="rita", accepted_at__isnull=True, returned_at__isnull=True
    )
    handoff = rita_open.order_by("pk").first()
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.LEADS,
        filename="leads.csv",
        content="email\nx@example.com\n",
        status=ImportJob.Status.FAILED,
        total_rows=2,
        processed_rows=2,
        errors=[{"row": 2, "field": "email", "message": "Enter a valid e-mail address."}],
        created_by=marina,
        finished_at=timezone.now(),
    )
    capture = capture_create(by=marina, name="Website demo form")
    # Straight to the table: the service resolves the host, and the walk has no network.
    endpoint = WebhookEndpoint.objects.create(
        url="https://crm.example.com/hooks",
        description="CRM",
        event_types=[],
        secret=secret_new(),
        created_by=marina,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    lead = Lead.objects.filter(handoffs__isnull=False).order_by("pk").first()
    rita = handoff.rep
    uid = urlsafe_base64_encode(force_bytes(rita.pk))
    token = default_token_generator.make_token(rita)
    return Samples(
        agreement=agreement.pk,
        in_force=versions.filter(status="published").order_by("-number").first().pk,
        draft=versions.filter(status="draft").get().pk,
        lead=lead.pk,
        handoff=handoff.pk,
        month=timezone.localdate().strftime("%Y-%m"),
        import_job=job.pk,
        capture=capture.pk,
        endpoint=endpoint.pk,
        unsubscribe=unsubscribe_url(lead).rstrip("/").rsplit("/", 1)[-1],
        parts=[part.slug for part in PARTS],
        user=rita.pk,
        password_reset=f"/accounts/reset/{uid}/{token}/",
    )

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from agreements.models import AgreementVersion
from agreements.selectors import agreement_list, open_draft, version_in_force
from agreements.services import approval_side_for
from agreements.summary import version_promises
from leads.models import Handoff
from leads.selectors import handoffs_visible_to

from .roles import MANAGERS, Role, has_role


@login_required
@require_safe
def home(request):
    """Each role lands on what it acts on: managers on sign-off, everyone on the SLA in force."""
    cards = []
    # "What this means for you": the side of the SLA each role keeps (a viewer reads both).
    sides = {
        "marketing": has_role(request.user, Role.MARKETING_MANAGER, Role.VIEWER),
        "sales": has_role(request.user, Role.SALES_MANAGER, Role.SALES_REP, Role.VIEWER),
    }
    for agreement in agreement_list():
        draft = open_draft(agreement=agreement)
        side = approval_side_for(agreement=agreement, user=request.user)
        awaiting_me = bool(
            draft
            and draft.status == AgreementVersion.Status.SUBMITTED
            and side
            and not getattr(draft, f"{side}_approved_at")
        )
        in_force = version_in_force(agreement=agreement)
        cards.append(
            {
                "agreement": agreement,
                "in_force": in_force,
                "for_you": version_promises(in_force).for_sides(**sides) if in_force else [],
                "draft": draft,
                "awaiting_me": awaiting_me,
            }
        )
    return render(
        request,
        "home.html",
        {
            "cards": cards,
            "can_create": has_role(request.user, *MANAGERS),
            "pipeline": _pipeline_today(request.user),
        },
    )


def _pipeline_today(user) -> dict:
    """The handoffs with sales that this user may see, by SLA status, in one query."""
    active = handoffs_visible_to(user).filter(accepted_at__isnull=True, returned_at__isnull=True)
    return active.aggregate(
        total=Count("id"),
        breached=Count("id", filter=Q(status=Handoff.Status.BREACHED)),
        at_risk=Count("id", filter=Q(status=Handoff.Status.AT_RISK)),
        met=Count("id", filter=Q(status=Handoff.Status.MET)),
    )


@require_safe
def healthz(request):
    """For the container health check: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says (feed readers,
    bookmarks); send them to the static SVG. Temporary, so a new icon's hashed name is seen."""
    return redirect(static("favicon.svg"))

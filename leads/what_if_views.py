"""What-if on the qualification page: MQLs under a draft's rules against the version in force."""

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from agreements.models import AgreementVersion
from agreements.selectors import qualification_rules, version_in_force
from slaportal.roles import MANAGERS, role_required

from .models import Lead
from .scoring import mql_count


def _mqls_under(version, now) -> int:
    fit, interest, thresholds = qualification_rules(version=version)
    # Among the leads the agreement governs: another agreement's leads follow other rules.
    return mql_count(
        fit_rules=fit,
        interest_rules=interest,
        thresholds=thresholds,
        now=now,
        agreement_id=version.agreement_id,
    )


@role_required(*MANAGERS)
@require_safe
def mql_what_if(request, version_pk):
    version = get_object_or_404(AgreementVersion.objects.select_related("agreement"), pk=version_pk)
    now = timezone.now()
    in_force = version_in_force(agreement=version.agreement, at=now)
    return render(
        request,
        "leads/partials/what_if.html",
        {
            "version": version,
            "in_force": in_force,
            "leads": Lead.objects.filter(agreement_id=version.agreement_id).count(),
            "under_version": _mqls_under(version, now),
            "under_in_force": _mqls_under(in_force, now) if in_force else None,
        },
    )

"""Pages of the SLA: read, edit a draft part by part, sign off, history, diff, exports."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from slaportal.roles import MANAGERS, READERS, Role, has_role, role_required

from . import exports, forms, merge, services
from .document import diff_documents, version_document
from .exceptions import EditConflict, NotEditable
from .models import Agreement, AgreementVersion, Team
from .parts import PARTS, PARTS_BY_SLUG, Part, part_editable_by_side
from .reading import version_readable
from .scopes import ScopeRuleSpec, ScopeSpec
from .scoring import Activity, score_lead
from .selectors import (
    agreement_list,
    open_draft,
    published_versions,
    qualification_rules,
    version_consistency,
    version_in_force,
    version_scope,
)
from .summary import version_promises


def _version(agreement_pk: int, version_pk: int) -> AgreementVersion:
    return get_object_or_404(
        AgreementVersion.objects.select_related("agreement"),
        pk=version_pk,
        agreement_id=agreement_pk,
    )


def _part(slug: str) -> Part:
    try:
        return PARTS_BY_SLUG[slug]
    except KeyError:
        raise Http404(_("No such part of the SLA.")) from None


def _require_part_editor(user, part: Part) -> None:
    """Shared parts are drafted by either manager; a side's own part only by its manager."""
    allowed = [
        side
        for side, role in (
            (Team.MARKETING, Role.MARKETING_MANAGER),
            (Team.SALES, Role.SALES_MANAGER),
        )
        if has_role(user, role)
    ]
    if not any(part_editable_by_side(part, side) for side in allowed):
        if part.side == Team.MARKETING:
            refusal = _("%(part)s is drafted by the marketing manager.")
        else:
            refusal = _("%(part)s is drafted by the sales manager.")
        raise PermissionDenied(refusal % {"part": part.title})


def _editable_parts(user) -> set[str]:
    sides = [
        s
        for s, r in ((Team.MARKETING, Role.MARKETING_MANAGER), (Team.SALES, Role.SALES_MANAGER))
        if has_role(user, r)
    ]
    return {p.slug for p in PARTS if any(part_editable_by_side(p, s) for s in sides)}


@role_required(*READERS)
@require_safe
def agreement_index(request):
    agreements = list(agreement_list())
    if len(agreements) == 1:
        return redirect(agreements[0])
    return render(request, "agreements/agreement_list.html", {"agreements": agreements})


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def agreement_create(request):
    form = forms.AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        agreement = services.agreement_create(by=request.user, **form.cleaned_data)
        messages.success(
            request, _("Agreement created with a first draft. Fill in its seven parts.")
        )
        return redirect(agreement)
    return render(request, "agreements/agreement_form.html", {"form": form})


@role_required(*READERS)
@require_safe
def agreement_detail(request, pk):
    agreement = get_object_or_404(agreement_list(), pk=pk)
    in_force = version_in_force(agreement=agreement)
    draft = open_draft(agreement=agreement)
    shown = in_force or draft
    return render(
        request,
        "agreements/agreement_detail.html",
        {
            "agreement": agreement,
            "in_force": in_force,
            "draft": draft,
            "shown": shown,
            "document": version_readable(shown, version_document(shown)) if shown else None,
            "promises": version_promises(shown),
        },
    )


@role_required(*READERS)
@require_safe
def version_detail(request, pk, version_pk):
    return _render_version(request, _version(pk, version_pk))


def _render_version(request, version, submit_form=None):
    agreement = version.agreement
    approval_side = services.approval_side_for(agreement=agreement, user=request.user)
    if request.user.is_superuser and approval_side is None:
        approval_side = ""
    return render(
        request,
        "agreements/version_detail.html",
        {
            "agreement": agreement,
            "version": version,
            "in_force": version_in_force(agreement=agreement),
            "document": version_readable(version, version_document(version)),
            "promises": version_promises(version),
            "parts": PARTS,
            "editable_parts": _editable_parts(request.user) if version.is_editable else set(),
            "approval_side": approval_side,
            "submit_form": submit_form
            or forms.SubmitForm(initial={"change_note": version.change_note}),
            "events": version.events.select_related("by")[:30],
            "consistency": version_consistency(version=version) if version.is_editable else [],
        },
    )


def _part_forms(part: Part, version, data=None):
    settings_forms = [block.bound_form(version, data) for block in part.settings]
    formsets = [rowset.formset(version, data) for rowset in part.rowsets]
    return settings_forms, formsets


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def part_edit(request, pk, version_pk, part_slug):
    version = _version(pk, version_pk)
    part = _part(part_slug)
    _require_part_editor(request.user, part)
    if not version.is_editable:
        messages.info(
            request,
            _("%(version)s is published and cannot change; start an amendment.")
            % {"version": version},
        )
        return redirect(version)
    revision = version.revision_of(part.slug)
    conflict = None
    status = 200
    data = request.POST
    base_token = ""
    if request.method == "POST" and "resolve" in data:
        # The conflict chooser: the person's choices, turned back into editor data.
        try:
            data = merge.resolution_data(part=part, version=version, data=request.POST)
        except merge.ChoiceMissing as missing:
            conflict = merge.conflict_state(
                part=part, version=version, data=None, resolving=request.POST
            )
            conflict["missing"] = missing.args[0]
            messages.error(
                request, _("Nothing was saved: choose a side for each highlighted field.")
            )
            return _part_page(request, version, part, None, None, revision, conflict, status=400)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(
                "agreements:part_edit", pk=pk, version_pk=version.pk, part_slug=part.slug
            )
    if request.method == "POST":
        base_token = data.get("base", "")
        settings_forms, formsets = _part_forms(part, version, data)
        revision_form = forms.RevisionForm(data)
        if not revision_form.is_valid():
            # Without the revision the edit could silently overwrite someone else's save.
            status = 400
            messages.error(
                request,
                gettext("Nothing was saved: %(problem)s")
                % {"problem": " ".join(revision_form.errors["revision"])},
            )
        elif revision_form.cleaned_data["revision"] != version.revision_of(part.slug):
            # Stale before it is even validated (a row it edits may be gone): compare first.
            conflict = merge.conflict_state(part=part, version=version, data=data)
            conflict["error"] = services.part_conflict(version=version, part=part)
        elif all(form.is_valid() for form in [*settings_forms, *formsets]):
            expected = revision_form.cleaned_data["revision"]
            had_approvals = bool(version.marketing_approved_at or version.sales_approved_at)
            try:
                services.part_save(
                    version=version,
                    part=part,
                    settings_forms=settings_forms,
                    formsets=formsets,
                    expected_revision=expected,
                    by=request.user,
                )
            except EditConflict as error:
                # Nothing is saved: the person sees their edit beside the one that landed and
                # chooses, field by field (agreements.merge).
                version.refresh_from_db()
                revision = version.revision_of(part.slug)
                conflict = merge.conflict_state(part=part, version=version, data=data)
                conflict["error"] = error
            except NotEditable as error:
                messages.error(request, str(error))
                return redirect(version)
            else:
                messages.success(request, _("%(part)s saved.") % {"part": part.title})
                if had_approvals:
                    messages.warning(
                        request,
                        _(
                            "This change withdrew the approvals: both managers "
                            "must approve the draft again."
                        ),
                    )
                return redirect(
                    "agreements:part_edit", pk=pk, version_pk=version.pk, part_slug=part.slug
                )
        else:
            revision = revision_form.cleaned_data["revision"]
            messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    else:
        settings_forms, formsets = _part_forms(part, version)
        base_token = merge.values_sign(merge.part_values(part=part, version=version))
    return _part_page(
        request, version, part, settings_forms, formsets, revision, conflict, status, base_token
    )


def _part_page(
    request, version, part, settings_forms, formsets, revision, conflict, status=200, base=""
):
    if settings_forms is None:
        settings_forms, formsets = _part_forms(part, version)
    return render(
        request,
        "agreements/part_edit.html",
        {
            "agreement": version.agreement,
            "version": version,
            "part": part,
            "parts": PARTS,
            "editable_parts": _editable_parts(request.user),
            "settings_forms": settings_forms,
            "rowsets": list(zip(part.rowsets, formsets, strict=True)),
            "revision": revision,
            "base": base,
            "conflict": conflict,
            "preview_form": forms.ScorePreviewForm(version=version)
            if part.slug == "qualification"
            else None,
            "plan": _plan_from_form(settings_forms[0]) if part.slug == "goals" else None,
            **(
                _scope_preview_context(version, version_scope(version=version))
                if part.slug == "scope" and request.method == "GET"
                else {}
            ),
        },
        status=status,
    )


def _posted_revision(request) -> int:
    form = forms.RevisionForm(request.POST)
    if not form.is_valid():
        raise ValidationError(form.errors["revision"])
    return form.cleaned_data["revision"]


@role_required(*MANAGERS)
@require_safe
def row_new(request, pk, version_pk, part_slug, rowset_key):
    """htmx: one empty row for a part's formset, plus the bumped form count (out of band)."""
    version = _version(pk, version_pk)
    part = _part(part_slug)
    _require_part_editor(request.user, part)
    rowset = next((r for r in part.rowsets if r.key == rowset_key), None)
    if rowset is None:
        raise Http404(_("No such list in this part."))
    try:
        index = max(int(request.GET.get("index", "0")), 0)
    except ValueError:
        index = 0
    formset = rowset.formset_class()(
        queryset=rowset.model.objects.none(), prefix=rowset.key, form_kwargs={"version": version}
    )
    form = formset._construct_form(index, **formset.get_form_kwargs(index))
    form.empty_permitted = True
    return render(
        request,
        "agreements/partials/row_new.html",
        {
            "form": form,
            "rowset": rowset,
            "next_index": index + 1,
            "version": version,
            "agreement": version.agreement,
            "part": part,
        },
    )


def _plan_from_form(form):
    from .funnel import plan_funnel

    data = form.cleaned_data if form.is_bound and form.is_valid() else None
    source = data or {name: getattr(form.instance, name) for name in form._meta.fields}
    return plan_funnel(**source)


@role_required(*MANAGERS)
@require_POST
def funnel_preview(request, pk, version_pk):
    """htmx: recompute the reverse-funnel plan from the planner's current inputs, unsaved."""
    version = _version(pk, version_pk)
    block = PARTS_BY_SLUG["goals"].settings[0]
    form = block.form(
        request.POST, instance=block.model(version=version), prefix=block.key, version=version
    )
    plan = _plan_from_form(form) if form.is_valid() else None
    return render(
        request, "agreements/partials/funnel_plan.html", {"plan": plan, "plan_form": form}
    )


@role_required(*MANAGERS)
@require_POST
def score_preview(request, pk, version_pk):
    """htmx: score a sample lead with this version's rules and show which rules gave points."""
    version = _version(pk, version_pk)
    form = forms.ScorePreviewForm(request.POST, version=version)
    result = None
    if form.is_valid():
        now = timezone.now()
        attributes = {
            k: form.cleaned_data[k]
            for k in ("title", "company_size", "industry", "country", "source")
        }
        activities = [
            Activity(slug, now)
            for slug, name in form.event_fields
            for _ in range(form.cleaned_data.get(name) or 0)
        ]
        fit_rules, interest_rules, thresholds = qualification_rules(version=version)
        result = score_lead(
            attributes=attributes,
            activities=activities,
            fit_rules=fit_rules,
            interest_rules=interest_rules,
            thresholds=thresholds,
            now=now,
        )
    return render(
        request,
        "agreements/partials/score_preview.html",
        {"preview_form": form, "result": result, "version": version},
    )


def _scope_from_forms(version, settings_form, formset):
    """The draft's scope as posted (unsaved), or None while a field is invalid."""
    if not (settings_form.is_valid() and formset.is_valid()):
        return None
    rules = tuple(
        ScopeRuleSpec(
            attribute=form.cleaned_data["attribute"],
            operator=form.cleaned_data["operator"],
            value=form.cleaned_data.get("value") or "",
            custom_attribute=form.cleaned_data.get("custom_attribute") or "",
        )
        for form in formset.live_forms()
    )
    return ScopeSpec(
        agreement_id=version.agreement_id,
        version_id=version.pk,
        priority=settings_form.cleaned_data["priority"],
        is_default=settings_form.cleaned_data["is_default"],
        rules=rules,
        name=version.agreement.name,
    )


def _scope_preview_context(version, scope) -> dict:
    from leads.services.scopes import scope_overlaps, scope_preview

    if scope is None:
        return {"scope_counts": None}
    return {
        "scope_counts": scope_preview(scope=scope),
        "scope_overlaps": scope_overlaps(scope=scope),
    }


@role_required(*MANAGERS)
@require_POST
def scope_preview(request, pk, version_pk):
    """htmx: how many current leads the scope as typed would govern, unsaved."""
    version = _version(pk, version_pk)
    part = PARTS_BY_SLUG["scope"]
    _require_part_editor(request.user, part)
    settings_forms, formsets = _part_forms(part, version, request.POST)
    scope = _scope_from_forms(version, settings_forms[0], formsets[0])
    return render(
        request,
        "agreements/partials/scope_preview.html",
        {"version": version, **_scope_preview_context(version, scope)},
    )


@role_required(*MANAGERS)
@require_POST
def holidays_prefill(request, pk, version_pk):
    version = _version(pk, version_pk)
    part = PARTS_BY_SLUG["calendar"]
    _require_part_editor(request.user, part)
    country = (request.POST.get("country") or "").strip().upper()
    try:
        year = int(request.POST.get("year", ""))
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        messages.error(request, _("Year: enter a year between 2000 and 2100. Nothing was added."))
        return redirect("agreements:part_edit", pk=pk, version_pk=version.pk, part_slug="calendar")
    if not country:
        messages.error(request, _("Country: choose a country code (e.g. BR). Nothing was added."))
        return redirect("agreements:part_edit", pk=pk, version_pk=version.pk, part_slug="calendar")
    try:
        added = services.holidays_prefill(
            version=version,
            part=part,
            country=country,
            year=year,
            expected_revision=_posted_revision(request),
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join([*error.messages, _("Nothing was added.")]))
    except EditConflict as error:
        messages.error(
            request,
            _(
                "%(who)s changed the calendar meanwhile; review it and "
                "prefill again. Nothing was added."
            )
            % {"who": error.saved_by},
        )
    except NotEditable as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            ngettext(
                "Added %(count)s public holiday of %(country)s for %(year)s.",
                "Added %(count)s public holidays of %(country)s for %(year)s.",
                added,
            )
            % {"count": added, "country": country, "year": year},
        )
    return redirect("agreements:part_edit", pk=pk, version_pk=version.pk, part_slug="calendar")


@role_required(*MANAGERS)
@require_POST
def amendment_start(request, pk):
    agreement = get_object_or_404(Agreement, pk=pk)
    draft = services.amendment_start(
        agreement=agreement, by=request.user, note=request.POST.get("note", "").strip()
    )
    messages.success(
        request, _("Draft amendment open: edit any part, then submit it for approval.")
    )
    return redirect(draft)


@role_required(*MANAGERS)
@require_POST
def version_submit(request, pk, version_pk):
    version = _version(pk, version_pk)
    form = forms.SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not submitted: please correct the fields marked below."))
        return _render_version(request, version, submit_form=form)
    try:
        services.version_submit(version=version, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        for field, errors in error.message_dict.items() if hasattr(error, "error_dict") else []:
            form.add_error(field, errors)
        if not hasattr(error, "error_dict"):
            form.add_error(None, error)
        return _render_version(request, version, submit_form=form)
    messages.success(request, _("Submitted: both managers now approve their side."))
    return redirect(version)


@role_required(*MANAGERS)
@require_POST
def contradiction_accept(request, pk, version_pk):
    version = _version(pk, version_pk)
    try:
        services.contradiction_accept(
            version=version,
            key=request.POST.get("key", ""),
            note=request.POST.get("note", ""),
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Accepted; the note is in the version's history."))
    return redirect(f"{version.get_absolute_url()}#consistency")


@role_required(*MANAGERS)
@require_POST
def version_reopen(request, pk, version_pk):
    version = _version(pk, version_pk)
    try:
        services.version_reopen(version=version, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(version)


@role_required(*MANAGERS)
@require_POST
def version_approve(request, pk, version_pk):
    version = _version(pk, version_pk)
    side = request.POST.get("side", "")
    try:
        published = services.version_approve(version=version, by=request.user, side=side)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(version)
    if published:
        messages.success(
            request,
            _("Approved. Both sides signed: %(version)s is published.")
            % {"version": version.label},
        )
    else:
        approved = (
            _("Approved for marketing. Waiting for the other side.")
            if side == Team.MARKETING
            else _("Approved for sales. Waiting for the other side.")
        )
        messages.success(request, approved)
    return redirect(version)


@role_required(*READERS)
@require_safe
def history(request, pk):
    agreement = get_object_or_404(Agreement, pk=pk)
    versions = list(published_versions(agreement=agreement))
    return render(
        request,
        "agreements/history.html",
        {
            "agreement": agreement,
            "versions": versions,
            "draft": open_draft(agreement=agreement),
            "in_force": version_in_force(agreement=agreement),
        },
    )


@role_required(*READERS)
@require_safe
def diff(request, pk):
    agreement = get_object_or_404(Agreement, pk=pk)
    versions = {str(v.pk): v for v in agreement.versions.all()}
    old, new = versions.get(request.GET.get("from", "")), versions.get(request.GET.get("to", ""))
    if old is None or new is None:
        messages.error(request, _("Choose two versions of this agreement to compare."))
        return redirect("agreements:history", pk=pk)
    parts = diff_documents(
        version_readable(old, version_document(old), keep_machine_columns=True),
        version_readable(new, version_document(new), keep_machine_columns=True),
    )
    return render(
        request,
        "agreements/diff.html",
        {
            "agreement": agreement,
            "old": old,
            "new": new,
            "parts": parts,
            "unchanged": all(p.is_empty for p in parts),
        },
    )


@role_required(*READERS)
@require_safe
def version_markdown(request, pk, version_pk):
    version = _version(pk, version_pk)
    response = HttpResponse(
        exports.document_markdown(
            version_readable(version, version_document(version)),
            promises=version_promises(version),
        ),
        content_type="text/markdown; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(version, "md")}"'
    return response


@role_required(*READERS)
@require_safe
def version_pdf(request, pk, version_pk):
    version = _version(pk, version_pk)
    response = HttpResponse(
        exports.document_pdf(
            version_readable(version, version_document(version)),
            promises=version_promises(version),
        ),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(version, "pdf")}"'
    return response

"""The managers' pages for form captures, and the secret URL that forms post to."""

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from slaportal.roles import MANAGERS, role_required

from .forms import FormCaptureForm
from .models import FormCapture
from .services import (
    capture_active_set,
    capture_create,
    capture_post_receive,
    capture_posts_recent,
    capture_rate_allow,
    capture_token_rotate,
    capture_update,
)

MAX_BODY_BYTES = 64 * 1024


@role_required(*MANAGERS)
@require_safe
def capture_list(request):
    captures = FormCapture.objects.all()
    return render(request, "captures/list.html", {"captures": captures})


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def capture_new(request):
    form = FormCaptureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        capture = capture_create(by=request.user, **form.cleaned_data)
        messages.success(request, _("Form capture created: point your form at its URL."))
        return redirect(capture)
    return render(request, "captures/form.html", {"form": form, "capture": None})


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def capture_edit(request, pk: int):
    capture = get_object_or_404(FormCapture, pk=pk)
    form = FormCaptureForm(request.POST or None, instance=capture)
    if request.method == "POST" and form.is_valid():
        capture_update(capture=capture, **form.cleaned_data)
        messages.success(request, _("Form capture saved."))
        return redirect(capture)
    return render(request, "captures/form.html", {"form": form, "capture": capture})


@role_required(*MANAGERS)
@require_safe
def capture_detail(request, pk: int):
    capture = get_object_or_404(FormCapture, pk=pk)
    url = request.build_absolute_uri(reverse("capture_hooks:post", args=[capture.token]))
    context = {"capture": capture, "url": url, "posts": capture_posts_recent(capture=capture)}
    return render(request, "captures/detail.html", context)


@role_required(*MANAGERS)
@require_POST
def capture_toggle(request, pk: int):
    capture = get_object_or_404(FormCapture, pk=pk)
    capture_active_set(capture=capture, active=not capture.is_active)
    if capture.is_active:
        messages.success(request, _("Form capture enabled."))
    else:
        messages.success(request, _("Form capture disabled: its URL refuses posts."))
    return redirect(capture)


@role_required(*MANAGERS)
@require_POST
def capture_rotate(request, pk: int):
    capture = get_object_or_404(FormCapture, pk=pk)
    capture_token_rotate(capture=capture)
    messages.success(request, _("New secret URL: the old one no longer accepts posts."))
    return redirect(capture)


@csrf_exempt  # posted by other sites' forms and form tools; the secret token is the credential
@require_POST
def form_post(request, token: str):
    capture = get_object_or_404(FormCapture, token=token)
    if not capture_rate_allow(capture=capture):
        return _answer(429, "refused", _("Too many posts to this form this minute; try again."))
    if not capture.is_active:
        capture_post_receive(capture=capture, data={})
        return _answer(403, "refused", _("This form capture is disabled."))
    data = _posted_data(request)
    if data is None:
        return _answer(
            400,
            "refused",
            _("Send a JSON object or application/x-www-form-urlencoded fields."),
        )
    outcome = capture_post_receive(capture=capture, data=data)
    if outcome.accepted or outcome.reason == "honeypot":
        # A bot gets the same answer as a person: nothing tells it it was caught.
        return _answer(200, "accepted")
    return _answer(400, "refused", outcome.reason)


def _posted_data(request) -> dict | None:
    if len(request.body) > MAX_BODY_BYTES:
        return None
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {name: request.POST.get(name) for name in request.POST}
    return None


def _answer(status: int, outcome: str, message: str = "") -> JsonResponse:
    body = {"status": outcome}
    if message:
        body["message"] = message
    return JsonResponse(body, status=status)

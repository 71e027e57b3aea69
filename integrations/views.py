"""The Integrations pages: webhook endpoints, their delivery logs, chat channels (managers),
and each person's notification settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from slaportal.roles import MANAGERS, has_role, role_required

from . import selectors, services
from .forms import ChatChannelForm, EndpointForm, PreferencesForm
from .models import AlertKind, ChatChannel, WebhookDelivery, WebhookEndpoint

SECRET_SESSION_KEY = "integrations_new_secret"


def _show_secret_once(request, endpoint: WebhookEndpoint) -> None:
    request.session[SECRET_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}


@require_safe
@role_required(*MANAGERS)
def index(request):
    return render(
        request,
        "integrations/index.html",
        {
            "endpoints": selectors.endpoints_list(),
            "chat_channels": ChatChannel.objects.select_related("owner").order_by("id"),
            "chat_form": ChatChannelForm(),
        },
    )


def _form_errors(form, error: ValidationError) -> None:
    for field, errors in error.message_dict.items():
        for text in errors:
            form.add_error(field if field in form.fields else None, text)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*MANAGERS)
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.endpoint_create(
                url=data["url"],
                description=data["description"],
                event_types=data["event_types"],
                by=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            if not data["active"]:
                services.endpoint_set_active(endpoint=endpoint, active=False)
            _show_secret_once(request, endpoint)
            messages.success(request, _("Endpoint added."))
            return redirect("integrations:endpoint", pk=endpoint.pk)
    return render(request, "integrations/endpoint_form.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*MANAGERS)
def endpoint_edit(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "active": endpoint.status == WebhookEndpoint.Status.ACTIVE,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.endpoint_update(endpoint=endpoint, **data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("integrations:endpoint", pk=endpoint.pk)
    return render(request, "integrations/endpoint_form.html", {"form": form, "endpoint": endpoint})


@require_safe
@role_required(*MANAGERS)
def endpoint_detail(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    new_secret = request.session.get(SECRET_SESSION_KEY)
    if new_secret and new_secret["endpoint"] == endpoint.pk:
        del request.session[SECRET_SESSION_KEY]  # shown once
    else:
        new_secret = None
    context = {
        "endpoint": endpoint,
        "deliveries": selectors.endpoint_log(endpoint),
        "new_secret": new_secret and new_secret["secret"],
    }
    if request.htmx:
        return render(request, "integrations/partials/log.html", context)
    return render(request, "integrations/endpoint_detail.html", context)


@require_POST
@role_required(*MANAGERS)
def endpoint_rotate(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_rotate(endpoint=endpoint)
    _show_secret_once(request, endpoint)
    messages.success(request, _("New secret made; the old one keeps working for 24 hours."))
    return redirect("integrations:endpoint", pk=endpoint.pk)


@require_POST
@role_required(*MANAGERS)
def endpoint_toggle(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    resume = endpoint.status != WebhookEndpoint.Status.ACTIVE
    services.endpoint_set_active(endpoint=endpoint, active=resume)
    messages.success(request, _("Endpoint resumed.") if resume else _("Endpoint paused."))
    return redirect("integrations:endpoint", pk=endpoint.pk)


@require_POST
@role_required(*MANAGERS)
def endpoint_delete(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, _("Endpoint deleted."))
    return redirect("integrations:index")


@require_POST
@role_required(*MANAGERS)
def endpoint_test(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.webhook_test_send(endpoint=endpoint)
    messages.success(request, _("Test event queued; it shows in the log once sent."))
    return redirect("integrations:endpoint", pk=endpoint.pk)


@require_POST
@role_required(*MANAGERS)
def delivery_resend(request, pk):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    services.webhook_resend(delivery=delivery)
    messages.success(request, _("Event queued to be sent again."))
    return redirect("integrations:endpoint", pk=delivery.endpoint_id)


@require_POST
@login_required
def chat_channel_create(request):
    """Managers add the team's channel; anyone with a login adds their own."""
    form = ChatChannelForm(request.POST)

    is_manager = has_role(request.user, *MANAGERS)
    target = "integrations:index" if is_manager else "integrations:preferences"
    if form.is_valid():
        team_wide = form.cleaned_data["team_wide"] and is_manager
        try:
            services.chat_channel_create(
                kind=form.cleaned_data["kind"],
                url=form.cleaned_data["url"],
                owner=None if team_wide else request.user,
            )
        except ValidationError as error:
            for errors in error.message_dict.values():
                for text in errors:
                    messages.error(request, text)
        else:
            messages.success(request, _("Chat channel added."))
    else:
        messages.error(request, _("Check the chat channel's kind and URL."))
    return redirect(target)


@require_POST
@login_required
def chat_channel_delete(request, pk):

    channel = get_object_or_404(ChatChannel, pk=pk)
    if channel.owner_id != request.user.pk and not has_role(request.user, *MANAGERS):
        messages.error(request, _("Your role does not allow this."))
    else:
        services.chat_channel_delete(channel=channel)
        messages.success(request, _("Chat channel removed."))
    return redirect("integrations:preferences")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def preferences(request):
    current = selectors.preferences_of(request.user)
    form = PreferencesForm(request.POST or None, preferences=current)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user=request.user, choices=form.choices())
        messages.success(request, _("Notification settings saved."))
        return redirect("integrations:preferences")
    return render(
        request,
        "integrations/preferences.html",
        {
            "form": form,
            "rows": [
                (kind, [form[f"{kind.value}__{channel}"] for channel, _l in form.CHANNELS])
                for kind in AlertKind
            ],
            "channels": [label for _c, label in form.CHANNELS],
            "own_channels": ChatChannel.objects.filter(owner=request.user),
            "chat_form": ChatChannelForm(),
        },
    )

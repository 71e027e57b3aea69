"""Choosing a language: the menu's switch (/i18n/setlang/), the person's own settings page and
the managers' workspace settings (default language and currency)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from slaportal.language import SESSION_KEY, supported
from slaportal.models import Workspace
from slaportal.roles import MANAGERS, role_required
from slaportal.workspace import workspace, workspace_update

from .models import Preferences

BROWSER = ""


def _language_choices():
    from django.conf import settings

    return [(BROWSER, gettext_lazy("My browser's language")), *settings.LANGUAGES]


class PreferencesForm(forms.Form):
    # Not required: blank is a choice ("my browser's language").
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), choices=_language_choices, required=False
    )


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["default_language", "currency"]


def preferences_language_set(request, user, language: str) -> None:
    """Stores the person's choice and applies it to this session at once."""
    Preferences.objects.update_or_create(user=user, defaults={"language": language})
    if language:
        request.session[SESSION_KEY] = language
    else:
        request.session.pop(SESSION_KEY, None)


@require_POST
def language_set(request):
    """The menu's switch: Django's set_language (cookie, then back to `next`), and for a
    logged-in person their stored preference too, so it follows them to other devices."""
    language = supported(request.POST.get("language"))
    if language is None:
        return HttpResponseBadRequest(
            _("“%(code)s” is not a language this product speaks.")
            % {"code": request.POST.get("language", "")},
            content_type="text/plain; charset=utf-8",
        )
    if request.user.is_authenticated:
        preferences_language_set(request, request.user, language)
    return set_language(request)


@login_required
@require_http_methods(["GET", "POST"])
def my_settings(request):
    chosen = (
        Preferences.objects.filter(user=request.user).values_list("language", flat=True).first()
    )
    form = PreferencesForm(request.POST or None, initial={"language": chosen or BROWSER})
    if request.method == "POST":
        if form.is_valid():
            preferences_language_set(request, request.user, form.cleaned_data["language"])
            translation.activate(supported(form.cleaned_data["language"]) or request.LANGUAGE_CODE)
            messages.success(request, _("Your settings are saved."))
            return redirect("people:me")
        return render(request, "people/me.html", {"form": form}, status=400)
    return render(request, "people/me.html", {"form": form})


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def workspace_settings(request):
    form = WorkspaceForm(request.POST or None, instance=workspace())
    if request.method == "POST":
        if form.is_valid():
            workspace_update(**form.cleaned_data)
            messages.success(request, _("The workspace settings are saved."))
            return redirect("people:workspace")
        return render(request, "people/workspace.html", {"form": form}, status=400)
    return render(request, "people/workspace.html", {"form": form})

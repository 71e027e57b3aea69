"""Which language a person sees (issue 13).

On pages: the language the person chose (people.Preferences, kept in their session from login
on), else the one the language switch stored in a cookie, else the first their browser's
Accept-Language names that the product speaks, else the workspace's default.
In the API: keys and values stay English (they are a contract); error messages follow
Accept-Language, falling back to English, whoever the token belongs to.
Outside a request (e-mails, notices, PDFs made by jobs): `language_of(user)`.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import trans_real

SESSION_KEY = "language"


def supported(code: str | None) -> str | None:
    """The product's language for a code ("pt-BR", "pt" -> "pt-br"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.lower())
    except LookupError:
        return None


def browser_language(request) -> str | None:
    """The first language of Accept-Language that the product speaks."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        found = supported(code)
        if found:
            return found
    return None


def workspace_default() -> str:
    from .workspace import workspace_language

    return supported(workspace_language()) or settings.LANGUAGE_CODE


def request_language(request) -> str:
    if request.path.startswith("/api/"):
        return browser_language(request) or settings.LANGUAGE_CODE
    session = getattr(request, "session", None)
    chosen = supported(session.get(SESSION_KEY)) if session is not None else None
    found = (
        chosen
        or supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        or browser_language(request)
    )
    if found:
        return found
    # The workspace is known to people who logged in; a visitor's page needs no query.
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return workspace_default()
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    """Django's LocaleMiddleware, with the person's choice first and the workspace's default
    last (no language prefix in URLs: a link reads the same in either language)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response


def in_team_language():
    """Words stored for everyone to read later (a stage change's reason, a return note) are
    written in the workspace's language, whoever's request or job writes them."""
    return translation.override(workspace_default())


def language_of(user) -> str:
    """The language to write to `user` in when no request says (e-mails, notices, PDFs)."""
    from people.models import Preferences

    if user is not None and getattr(user, "pk", None):
        chosen = (
            Preferences.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
        )
        if supported(chosen):
            return supported(chosen)
    return workspace_default()


@receiver(user_logged_in)
def _remember_choice(sender, request, user, **kwargs):
    """Copies the person's chosen language into their session, so pages need no query."""
    if request is None or not hasattr(request, "session"):
        return
    from people.models import Preferences

    chosen = Preferences.objects.filter(user=user).values_list("language", flat=True).first()
    if supported(chosen):
        request.session[SESSION_KEY] = supported(chosen)
    else:
        request.session.pop(SESSION_KEY, None)

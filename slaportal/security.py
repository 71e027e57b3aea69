"""Abuse limits: who the client is, the API's throttles, and the login lockout page.

DRF authenticates before it throttles, so a wrong token is answered 401 by the authentication
step and never reaches a throttle class: a brute force of tokens would run unthrottled.
`ThrottledTokenAuthentication` counts failed token checks per client address and, once the
address is over its rate, refuses with 429 *before* looking at the token, so a guess that would
be right is refused as well.
"""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import caches
from django.forms.utils import ErrorDict
from django.shortcuts import render
from django.utils.translation import ngettext
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

# Throttle counters live in their own cache alias: the tests can empty it between tests
# without flushing the Redis database that also holds the Celery queues.
THROTTLE_CACHE = "throttle"


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the address the TLS proxy appended to
    X-Forwarded-For when one is in front (BEHIND_TLS_PROXY). Never a client-supplied value."""
    meta = request.META
    if settings.BEHIND_TLS_PROXY:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return meta.get("REMOTE_ADDR")


class _ThrottleCache:
    @property
    def cache(self):
        return caches[THROTTLE_CACHE]


class AnonThrottle(_ThrottleCache, AnonRateThrottle):
    pass


class UserThrottle(_ThrottleCache, UserRateThrottle):
    pass


class FailedAuthThrottle(_ThrottleCache, SimpleRateThrottle):
    """Failed token checks per client address; `record_failure` adds one, `allow_request`
    answers whether the address may try again (it does not count the attempt itself)."""

    scope = "failed_auth"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view=None):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return len(self.history) < self.num_requests

    def record_failure(self, request) -> None:
        if self.rate is None:
            return
        self.allow_request(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class ThrottledTokenAuthentication(TokenAuthentication):
    """Token authentication that stops answering an address that keeps sending wrong tokens."""

    def authenticate(self, request):
        if not self._sends_token(request):
            return None
        throttle = FailedAuthThrottle()
        if not throttle.allow_request(request):
            raise exceptions.Throttled(wait=throttle.wait())
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def _sends_token(self, request) -> bool:
        header = get_authorization_header(request).split()
        return bool(header) and header[0].lower() == self.keyword.lower().encode()


def login_lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the reason the login was refused (django-axes calls this)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # The form keeps the typed username and shows the reason where a wrong password would
    # be shown. Its errors are set by hand: validating it would try to authenticate again.
    form = AuthenticationForm(request, data=request.POST)
    form._errors, form.cleaned_data = ErrorDict(), {}
    message = ngettext(
        "Too many failed logins for this account from your address. Try again in %(minutes)d "
        "minute, or ask an administrator to unlock the account.",
        "Too many failed logins for this account from your address. Try again in %(minutes)d "
        "minutes, or ask an administrator to unlock the account.",
        minutes,
    ) % {"minutes": minutes}
    form.add_error(None, message)
    return render(
        request,
        "registration/login.html",
        {"form": form, "next": request.POST.get("next", "")},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )

"""The unsubscribe link of nurture e-mails: a page with a button, and RFC 8058 one-click.

Mail providers POST `List-Unsubscribe=One-Click` to the link with no cookie and no CSRF token;
a GET only shows the page, since link scanners open every link of an e-mail.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .services.consent import lead_unsubscribe, unsubscribe_token_lead


@csrf_exempt  # the signed token in the URL is the credential; providers post without a cookie
@require_http_methods(["GET", "POST"])
def unsubscribe_confirm(request, token: str):
    lead = unsubscribe_token_lead(token)
    if lead is None:
        raise Http404
    done = False
    if request.method == "POST":
        lead_unsubscribe(
            lead=lead, how="one_click" if "List-Unsubscribe" in request.POST else "link"
        )
        done = True
    return render(request, "leads/unsubscribe.html", {"done": done or lead.unsubscribed_at})


app_name = "unsubscribe"

urlpatterns = [path("<str:token>/", unsubscribe_confirm, name="confirm")]

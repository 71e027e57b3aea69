"""The managers' page for visitor counts: upload a CSV, preview it, confirm; recent counts.

Between preview and confirm the file travels in the page itself, signed: any web process can
take the confirmation, and it is checked again before anything is stored. Storing twice is
harmless, since a day and source replace their figure.
"""

from django import forms
from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from slaportal.csv_files import read_csv_upload
from slaportal.numbers import number
from slaportal.roles import MANAGERS, role_required

from .visitors import (
    COLUMNS,
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    CsvRefused,
    visitor_counts_recent,
    visitors_csv_import,
    visitors_csv_preview,
)

STAGED_FOR_SECONDS = 60 * 60
EXPIRED = _("This upload is no longer waiting to be confirmed: upload it again.")
SIGNING_SALT = "kpis.visitors.csv"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "UTF-8 with the header %(columns)s; up to %(rows)s rows."
        ) % {"columns": ",".join(COLUMNS), "rows": number(MAX_CSV_ROWS)}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.cleaned_data["content"] = read_csv_upload(upload, max_bytes=MAX_CSV_BYTES)
        return upload


def _page(request, form, **extra):
    context = {"form": form, "columns": COLUMNS, "recent": visitor_counts_recent(), **extra}
    return render(request, "kpis/visitors/upload.html", context)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def visitors_upload(request):
    if request.method != "POST":
        return _page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form)
    filename, content = form.cleaned_data["file"].name, form.cleaned_data["content"]
    try:
        preview = visitors_csv_preview(content=content)
    except CsvRefused as refused:
        form.add_error("file", str(refused))
        return _page(request, form)
    staged = None
    if preview.ok:
        staged = signing.dumps(
            {"user": request.user.pk, "filename": filename, "content": content},
            salt=SIGNING_SALT,
            compress=True,
        )
    return _page(request, UploadForm(), preview=preview, staged=staged, filename=filename)


@role_required(*MANAGERS)
@require_POST
def visitors_confirm(request):
    try:
        staged = signing.loads(
            request.POST.get("staged", ""), salt=SIGNING_SALT, max_age=STAGED_FOR_SECONDS
        )
    except signing.BadSignature:
        staged = None
    if not staged or staged.get("user") != request.user.pk:
        messages.error(request, EXPIRED)
        return redirect("kpis_visitors:upload")
    try:
        result = visitors_csv_import(content=staged["content"])
    except CsvRefused as refused:
        messages.error(request, str(refused))
        return redirect("kpis_visitors:upload")
    if not result.ok:
        return _page(request, UploadForm(), preview=result, filename=staged["filename"])
    messages.success(
        request,
        ngettext(
            "Stored %(count)s visitor count from %(file)s (%(visitors)s visitors); the monthly "
            "review shows them now.",
            "Stored %(count)s visitor counts from %(file)s (%(visitors)s visitors); the monthly "
            "review shows them now.",
            len(result.good),
        )
        % {
            "count": number(len(result.good)),
            "file": staged["filename"],
            "visitors": number(result.total_visitors),
        },
    )
    return redirect("kpis_visitors:upload")


# Included at review/visitors/ by slaportal/urls.py, ahead of the review's own routes.
app_name = "kpis_visitors"

urlpatterns = [
    path("", visitors_upload, name="upload"),
    path("confirm/", visitors_confirm, name="confirm"),
]

from django.shortcuts import get_object_or_404, render

from slaportal.roles import READERS, role_required

from .selectors import leads_visible_to


@role_required(*READERS)
def lead_detail(request, pk):
    lead = get_object_or_404(leads_visible_to(request.user), pk=pk)
    return render(request, "leads/lead_detail.html", {"lead": lead})

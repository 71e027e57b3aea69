from rest_framework.permissions import SAFE_METHODS, BasePermission

from slaportal.roles import MANAGERS, READERS, Role, has_role

WRITERS = (*MANAGERS, Role.INTEGRATION)


class LeadsApiPermission(BasePermission):
    """Managers and integrations write; every role reads (a rep only their own leads).

    Anonymous requests fail here too, and DRF answers them 401 with the Token challenge.
    """

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return has_role(request.user, *READERS, Role.INTEGRATION)
        return has_role(request.user, *WRITERS)

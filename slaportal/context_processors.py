from .roles import Role, user_roles


def roles(request):
    held = user_roles(request.user) if hasattr(request, "user") else frozenset()
    return {
        "user_roles": held,
        "user_role_labels": sorted(str(Role(role).label) for role in held),
        "is_marketing_manager": Role.MARKETING_MANAGER in held,
        "is_sales_manager": Role.SALES_MANAGER in held,
        "is_manager": bool(held & {Role.MARKETING_MANAGER, Role.SALES_MANAGER}),
        "is_sales_rep": Role.SALES_REP in held,
        "is_viewer": Role.VIEWER in held,
        "unread_notifications": _unread_notifications(request),
    }


def _unread_notifications(request):
    """The navbar bell's count, as a callable the template calls on first use: partials
    that never show the navbar (htmx swaps) then cost no query, pages cost exactly one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    count = None

    def unread() -> int:
        nonlocal count
        if count is None:
            from leads.selectors import unread_notification_count

            count = unread_notification_count(user)
        return count

    return unread

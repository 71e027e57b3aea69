from .roles import Role, user_roles


def roles(request):
    held = user_roles(request.user) if hasattr(request, "user") else frozenset()
    return {
        "user_roles": held,
        "is_marketing_manager": Role.MARKETING_MANAGER in held,
        "is_sales_manager": Role.SALES_MANAGER in held,
        "is_manager": bool(held & {Role.MARKETING_MANAGER, Role.SALES_MANAGER}),
        "is_sales_rep": Role.SALES_REP in held,
    }

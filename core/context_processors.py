from django.utils.functional import SimpleLazyObject


def workspace(request):
    """The current workspace, the user's role in it and the sidebar, for every template."""
    from core.web.nav import nav_items
    from core.workspaces import can_edit, workspaces_of
    from runner.approvals import awaiting
    from runner.inbox import unresolved

    current = getattr(request, "workspace", None)
    context = {"workspace": current, "role": getattr(request, "role", None)}
    if current is not None:
        context["can_edit"] = can_edit(request)
        context["workspaces"] = workspaces_of(request.user)
        # Lazy: an htmx partial (the timeline's poll every second) never draws the sidebar,
        # so it never counts the inbox.
        role = context["role"]
        context["nav"] = SimpleLazyObject(
            lambda: nav_items(
                request, current, unresolved(current).count(), awaiting(current, role).count()
            )
        )
    return context


def accounts(request):
    """Whether the sign-in page may offer sign-up."""
    from django.conf import settings

    return {"signup_open": settings.SIGNUP_OPEN}

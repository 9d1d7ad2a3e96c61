def workspace(request):
    """The current workspace and the user's role in it, for every template."""
    return {
        "workspace": getattr(request, "workspace", None),
        "role": getattr(request, "role", None),
    }

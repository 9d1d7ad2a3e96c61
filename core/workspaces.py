"""Which workspace a page is about, and whether this user may see or change it.

Every workspace page lives under `/w/<slug>/`. A user who is not a member gets 404,
never 403: another workspace's objects do not exist for them.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404
from django_htmx.http import HttpResponseClientRedirect

from core.models import Membership, Role, Workspace

RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}


def workspace_view(min_role=Role.VIEWER):
    """Decorate a view taking `ws` (the slug): sets request.workspace and request.role.

    Below `min_role` the answer is 404 too (a viewer's forged POST to an edit URL finds
    nothing to change).
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, ws, *args, **kwargs):
            if not request.user.is_authenticated:
                return _to_login(request)
            workspace = get_object_or_404(Workspace, slug=ws)
            membership = Membership.objects.filter(workspace=workspace, user=request.user).first()
            if membership is None or RANK[membership.role] < RANK[min_role]:
                raise Http404("No such workspace")
            request.workspace, request.role = workspace, membership.role
            if request.session.get("workspace") != workspace.slug:
                # Only on a change: the live pages poll every second, each a session save.
                request.session["workspace"] = workspace.slug
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _to_login(request):
    """The sign-in page, then back. A poll or form of a page whose session ended (htmx)
    sends the whole page there: followed inside the page, the login form would land in the
    region being updated."""
    if getattr(request, "htmx", False):
        page = request.htmx.current_url_abs_path or request.get_full_path()
        return HttpResponseClientRedirect(redirect_to_login(page).url)
    return redirect_to_login(request.get_full_path())


def can_edit(request):
    return getattr(request, "role", None) in (Role.OWNER, Role.EDITOR)


def workspaces_of(user):
    return Workspace.objects.filter(memberships__user=user).order_by("name")


def default_workspace(user, session=None):
    """The workspace last visited, else the user's first one, else None."""
    mine = workspaces_of(user)
    slug = (session or {}).get("workspace")
    if slug:
        found = mine.filter(slug=slug).first()
        if found:
            return found
    return mine.first()

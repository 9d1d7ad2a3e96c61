"""`Authorization: Bearer <key>`: the key's workspace is the only one a request can see, and
the key's role is what it may do there, as a member of that role may in the browser."""

from ninja.security import HttpBearer

from core.api.errors import ApiError
from core.models import ApiKey, Role
from core.workspaces import RANK

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token):
        key = ApiKey.authenticate(token)
        if key is None:
            return None  # django-ninja answers 401 (core/api/errors.py shapes it)
        request.workspace, request.role = key.workspace, key.role
        request.api_key = key  # the actor of what the request does (core/audit.py)
        if request.method not in SAFE_METHODS:
            # Before the body is read: a viewer key learns it may not, not what was wrong.
            require_editor(request)
        return key


def require(request, role):
    """403 unless the key's role is at least `role`: a viewer key reads, an editor key
    changes workflows, actions, runs and secrets, an owner key also manages members."""
    if RANK[request.role] < RANK[role]:
        raise ApiError(403, f"This API key is a {request.role} key; this needs {role} or above")


def require_editor(request):
    require(request, Role.EDITOR)

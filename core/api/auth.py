"""`Authorization: Bearer <key>`: the key's workspace is the only one a request can see."""

from ninja.security import HttpBearer

from core.models import ApiKey


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token):
        key = ApiKey.authenticate(token)
        if key is None:
            return None  # django-ninja answers 401 (core/api/errors.py shapes it)
        request.workspace = key.workspace
        return key

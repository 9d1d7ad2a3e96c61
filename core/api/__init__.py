"""The public JSON API, `/api/v1/`: django-ninja routers over the engine and the validator.

Docs at `/api/v1/docs`, the OpenAPI document at `/api/v1/openapi.json`.
"""

from ninja import NinjaAPI

from core.api import actions, errors, runs, schedules, secrets, triggers, workflows
from core.api.auth import ApiKeyAuth
from core.api.parser import StrictParser
from core.api.throttle import KeyRateThrottle

api = NinjaAPI(
    title="Brickwork API",
    version="1",
    description="Run atomic actions and workflows, read their runs, rerun and cancel them. "
    "Authenticate with `Authorization: Bearer <API key>`. Errors are always "
    '`{"error": {"code", "message", "fields"}}`.',
    urls_namespace="api-v1",
    docs_url="/docs",
    auth=ApiKeyAuth(),
    throttle=KeyRateThrottle(),
    parser=StrictParser(),
)
errors.install(api)
api.add_router("/actions", actions.router)
api.add_router("/workflows", workflows.router)
api.add_router("/workflows", triggers.router)
api.add_router("/workflows", schedules.router)
api.add_router("/runs", runs.router)
api.add_router("/secrets", secrets.router)

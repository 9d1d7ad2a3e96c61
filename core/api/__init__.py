"""The public JSON API, `/api/v1/`: django-ninja routers over the engine and the validator.

Docs at `/api/v1/docs`, the OpenAPI document at `/api/v1/openapi.json`.
"""

from ninja import NinjaAPI

from core.api import (
    actions,
    alerts,
    apikeys,
    audit,
    errors,
    failures,
    limits,
    members,
    retention,
    runs,
    schedules,
    secrets,
    triggers,
    waits,
    workflows,
)
from core.api.auth import ApiKeyAuth
from core.api.parser import StrictParser
from core.api.throttle import KeyRateThrottle

api = NinjaAPI(
    title="Brickwork API",
    version="1",
    description="Everything the browser does, for programs: define and run actions, import, "
    "run, archive and delete workflows, read, rerun and cancel runs, resolve failures, "
    "manage secrets, webhooks, limits, members and API keys. Authenticate with "
    "`Authorization: Bearer <API key>`; the key's role (viewer, editor, owner) is what it "
    "may do, and a viewer key that tries to change something gets 403. Errors are always "
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
api.add_router("/runs", waits.router)
api.add_router("/secrets", secrets.router)
api.add_router("/failures", failures.router)
api.add_router("/members", members.router)
api.add_router("/api-keys", apikeys.router)
api.add_router("/retention", retention.router)
api.add_router("/alerts", alerts.router)
api.add_router("/limits", limits.router)
api.add_router("/audit", audit.router)

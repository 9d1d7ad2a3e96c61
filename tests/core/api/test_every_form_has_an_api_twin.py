"""Everything a person does in the browser, a program can do through the API.

Every URL of the web UI whose view accepts POST (a form, a button, an HTMX edit) is
mapped below to the API operations that do the same. A new form without a twin fails
this test with its URL name: add its endpoint, then its row. The table is the
documentation of which operation replaces which page.
"""

import pytest
from django.urls import URLResolver, get_resolver

pytestmark = pytest.mark.django_db
UI_URLCONFS = ("builder.urls", "runner.urls", "core.web.urls")

TWINS = {
    # Workflows: the builder edits the draft a piece at a time; the API replaces it whole.
    "workflow_list": ["importWorkflow"],  # "New workflow": PUT creates it
    "workflow_from_starter": ["importWorkflow"],  # PUT the starter's definition
    "builder_save_settings": ["importWorkflow"],
    "builder_add_step": ["importWorkflow"],
    "builder_reorder": ["importWorkflow"],
    "builder_save_step": ["importWorkflow"],
    "builder_move_step": ["importWorkflow"],
    "builder_remove_step": ["importWorkflow"],
    "builder_link": ["importWorkflow"],
    "builder_test_step": ["runAction"],  # "Test this step": one run of its action
    "workflow_publish": ["importWorkflow"],  # with ?publish=1
    "workflow_restore": ["getWorkflowVersion", "importWorkflow"],
    "workflow_import": ["importWorkflow"],
    "workflow_validate": ["validateWorkflow"],
    "workflow_run": ["startWorkflowRun"],
    "workflow_archive": ["archiveWorkflow"],
    "workflow_unarchive": ["unarchiveWorkflow"],
    "workflow_delete": ["deleteWorkflow"],
    # Webhooks
    "workflow_triggers": ["createTrigger"],
    "trigger_toggle": ["updateTrigger"],  # {"enabled": ...}
    "trigger_rotate": ["updateTrigger"],  # {"secret": <new>}
    "trigger_delete": ["deleteTrigger"],
    "trigger_test": ["sendTriggerTestEvent"],
    "trigger_replay": ["replayTriggerDelivery"],
    # Schedules
    "workflow_schedules": ["createSchedule"],
    "schedule_toggle": ["updateSchedule"],  # {"paused": ...}
    "schedule_delete": ["deleteSchedule"],
    # Runs and the failures inbox
    "run_cancel": ["cancelRun"],
    "run_rerun": ["rerunRun"],
    "run_keep": ["keepRun"],  # {"keep": false} lets it go
    "run_decide": ["approveRun", "rejectRun"],
    "failure_bulk": ["resolveFailures", "rerunRun"],
    # Actions
    "action_new": ["createAction"],
    "action_version_new": ["createActionVersion"],
    "action_run": ["runAction"],
    # Workspace settings
    "member_add": ["addMember"],
    "member_role": ["changeMemberRole"],
    "member_remove": ["removeMember"],
    "api_key_create": ["createApiKey"],
    "api_key_revoke": ["revokeApiKey"],
    "secret_add": ["setSecret"],
    "secret_replace": ["setSecret"],
    "secret_delete": ["deleteSecret"],
    "retention_save": ["setRetention"],
    # Alerts
    "alert_new": ["createAlertRule"],
    "alert_edit": ["updateAlertRule"],
    "alert_test": ["testAlertRule"],
    "alert_delete": ["deleteAlertRule"],
    "limit_list": ["createLimit"],
    "limit_delete": ["deleteLimit"],
}

NOT_AN_API_CONCERN = {
    "login": "signs a person into a browser session; programs use API keys",
    "logout": "ends a browser session",
    "signup": "makes a person's account; a key acts for a workspace, never for a person",
    "workspace_new": "a key belongs to one workspace and cannot make another",
    "home": "a redirect to the last workspace, whatever the method; no form",
    "accounts/": "a person's own account (e-mail, password, two-factor, single sign-on): "
    "allauth's pages; a key acts for a workspace, never for a person",
}


def accepted_methods(view):
    """The methods a view takes, read from its decorators; None when it takes any."""
    if hasattr(view, "view_class"):  # a class-based view
        return {m.upper() for m in view.view_class.http_method_names if hasattr(view.view_class, m)}
    while view is not None:
        code = getattr(view, "__code__", None)
        names = code.co_freevars if code else ()
        for name, cell in zip(names, view.__closure__ or (), strict=False):
            if name == "request_method_list":  # django.views.decorators.http
                return set(cell.cell_contents)
        view = getattr(view, "__wrapped__", None)
    return None


def posted_views():
    found = {}
    for urlconf in UI_URLCONFS:
        for pattern in get_resolver(urlconf).url_patterns:
            if isinstance(pattern, URLResolver):  # an included app's pages, as one row
                found[str(pattern.pattern)] = str(pattern.pattern)
                continue
            methods = accepted_methods(pattern.callback)
            if methods is None or "POST" in methods:
                found[pattern.name] = str(pattern.pattern)
    return found


def test_every_form_of_the_ui_has_an_api_twin():
    posted = posted_views()
    assert len(posted) > 30  # the walk found the forms
    missing = sorted(set(posted) - set(TWINS) - set(NOT_AN_API_CONCERN))
    assert not missing, "UI forms without an API twin (add them to TWINS): " + ", ".join(
        f"{name} ({posted[name]})" for name in missing
    )
    stale = sorted((set(TWINS) | set(NOT_AN_API_CONCERN)) - set(posted))
    assert not stale, f"rows for views that no longer take POST: {stale}"
    assert not set(TWINS) & set(NOT_AN_API_CONCERN)


def test_every_twin_is_an_operation_of_the_served_document(client):
    document = client.get("/api/v1/openapi.json").json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    named = {operation for twins in TWINS.values() for operation in twins}
    assert named <= operations, named - operations


def test_the_walk_reads_method_decorators():
    from builder.views.workflows import workflow_list
    from core.web.dashboard import dashboard
    from core.web.members import member_add

    assert accepted_methods(member_add) == {"POST"}
    assert accepted_methods(workflow_list) == {"GET", "POST"}
    assert "POST" not in accepted_methods(dashboard)

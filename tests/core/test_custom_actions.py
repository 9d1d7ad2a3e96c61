"""Custom http and script actions: validated, versioned, and run for real by a worker."""

import sys

import pytest
from django.contrib.auth.models import User

from core.actions.custom import save_custom_action
from core.errors import FieldErrors
from tests.runs import start, wait_for


@pytest.mark.django_db
def test_each_save_is_a_new_immutable_version(workspace):
    first = save_custom_action(
        workspace, name="crm.update", kind="http", config={"url": "https://crm.test/{{ input.id }}"}
    )
    second = save_custom_action(
        workspace,
        name="crm.update",
        kind="http",
        config={"method": "PUT", "url": "https://crm.test/{{ input.id }}"},
    )
    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert first.config == {"url": "https://crm.test/{{ input.id }}"}


@pytest.mark.django_db
def test_bad_custom_actions_get_field_errors(workspace):
    with pytest.raises(FieldErrors) as refused:
        save_custom_action(
            workspace,
            name="Email Send",
            kind="http",
            config={"method": "FETCH", "url": "ftp://x", "colour": 1},
            input_schema={"type": "nope"},
            retry_policy={"max_attempts": 0},
            timeout_s=-1,
        )
    assert set(refused.value.fields) == {
        "name", "config.method", "config.url", "config.colour", "input_schema",
        "retry_policy.max_attempts", "timeout_s",
    }  # fmt: skip
    with pytest.raises(FieldErrors) as builtin:
        save_custom_action(workspace, name="email.send", kind="http", config={"url": "http://x"})
    assert builtin.value.fields["name"] == ["email.send is a built-in action"]


@pytest.mark.django_db
def test_only_staff_create_script_actions(workspace):
    editor = User.objects.create_user("ed")
    config = {"command": [sys.executable, "-c", "print(1)"]}
    with pytest.raises(FieldErrors) as refused:
        save_custom_action(workspace, name="ops.script", kind="script", config=config, user=editor)
    assert refused.value.fields["kind"] == ["only staff can create script actions"]
    staff = User.objects.create_user("root", is_staff=True)
    assert (
        save_custom_action(
            workspace, name="ops.script", kind="script", config=config, user=staff
        ).version
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_custom_actions_run_in_a_workflow(worker, workspace, http_server):
    http_server.clear()
    save_custom_action(
        workspace,
        name="crm.create",
        kind="http",
        config={"method": "POST", "url": http_server.url + "/crm", "json": {"n": "{{ input.n }}"}},
        input_schema={"type": "object", "required": ["n"]},
    )
    code = "import json,sys; print(json.dumps({'double': json.load(sys.stdin)['n'] * 2}))"
    staff = User.objects.create_user("root", is_staff=True)
    save_custom_action(
        workspace,
        name="ops.double",
        kind="script",
        config={"command": [sys.executable, "-c", code]},
        user=staff,
    )
    run = start(
        workspace,
        [
            {"key": "create", "action": "crm.create", "input": {"n": "{{ input.n }}"}},
            {"key": "double", "action": "ops.double", "input": {"n": "{{ input.n }}"}},
        ],
        input={"n": 21},
    )
    run = wait_for(run)
    assert run.status == "succeeded", run.error
    assert run.output == {"double": 42}
    assert http_server.requests[-1]["body"] == '{"n": 21}'
    assert http_server.requests[-1]["headers"]["Idempotency-Key"] == f"{run.id}:create"


@pytest.mark.django_db
def test_the_workspaces_own_action_comes_before_a_builtin_of_the_same_name(
    client, alice, workspace
):
    # Given a workspace action whose name a later built-in took (as the API resolves it)
    from core.models import Action, ActionVersion

    own = Action.objects.create(workspace=workspace, name="debug.echo", description="ours")
    ActionVersion.objects.create(action=own, version=1, kind="http", config={"url": "https://x"})
    client.force_login(alice)
    # Then its pages are about the workspace's own action, on any database
    assert client.get("/w/acme/actions/debug.echo/").context["action"] == own
    assert client.get("/w/acme/actions/debug.echo/run").context["action"] == own


@pytest.mark.django_db(transaction=True)
def test_a_custom_http_action_gets_the_secrets_its_template_names(worker, workspace, http_server):
    from core.models import Secret

    http_server.clear()
    Secret.set(workspace, "CRM_TOKEN", "tok_123456")
    save_custom_action(
        workspace,
        name="crm.ping",
        kind="http",
        config={
            "url": http_server.url + "/ping",
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
        },
    )
    run = wait_for(start(workspace, [{"key": "ping", "action": "crm.ping", "input": {}}]))
    assert run.status == "succeeded", run.error
    assert http_server.requests[-1]["headers"]["Authorization"] == "Bearer tok_123456"
    assert "tok_123456" not in str(run.steps.get().output)

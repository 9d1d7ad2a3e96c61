"""Time limits in the definition: `run_timeout_s` and a step's `retry.budget_s` are
validated with field-pointed errors, edited in the builder (settings page, step panel),
previewed, and kept through API import -> builder -> API export."""

import re

import pytest
from django.test import Client

from builder.definition import validate
from builder.models import Workflow
from core.errors import InvalidDefinition
from core.models import ApiKey
from tests.api import Api, error_of
from tests.builder.test_builder_views import HTMX, client_of, draft_of, errors_in, panel_data
from tests.builder.test_round_trip import FormReader

pytestmark = pytest.mark.django_db

TIMED = {
    "name": "Timed",
    "run_timeout_s": 900,
    "steps": [
        {
            "key": "charge",
            "action": "debug.fail@1",
            "input": {"fail_times": 1},
            "retry": {
                "max_attempts": 8,
                "initial_interval_s": 1,
                "backoff_coefficient": 2,
                "max_interval_s": 60,
                "jitter": False,
                "budget_s": 600,
            },
            "compensate": {
                "action": "debug.echo@1",
                "input": {},
                "retry": {"max_attempts": 4, "budget_s": 30.5, "jitter": False},
            },
        },  # fmt: skip
        {"key": "ship", "action": "debug.echo@1", "input": {}},
    ],
}


def _fields(definition, workspace):
    with pytest.raises(InvalidDefinition) as refused:
        validate(definition, workspace)
    return refused.value.fields


@pytest.mark.parametrize("bad", [0, -5, 2.5, "60", True, 30 * 86400 + 1])
def test_a_run_timeout_is_a_whole_number_of_seconds_up_to_30_days(workspace, bad):
    fields = _fields({**TIMED, "run_timeout_s": bad}, workspace)
    assert list(fields) == ["run_timeout_s"]
    assert "whole number of seconds from 1 to 2,592,000" in fields["run_timeout_s"][0]


def test_a_valid_run_timeout_and_budget_are_kept(workspace):
    normalized = validate({**TIMED, "run_timeout_s": 30 * 86400}, workspace)
    assert normalized["run_timeout_s"] == 30 * 86400
    assert normalized["steps"][0]["retry"]["budget_s"] == 600
    assert "run_timeout_s" not in validate({"steps": TIMED["steps"]}, workspace)


def test_a_bad_budget_points_at_its_step(workspace):
    steps = [dict(TIMED["steps"][0], retry={"budget_s": 0}), TIMED["steps"][1]]
    fields = _fields({"steps": steps}, workspace)
    assert list(fields) == ["steps[0].retry.budget_s"]
    assert "more than 0 and at most 2592000" in fields["steps[0].retry.budget_s"][0]


def test_the_api_refuses_a_bad_run_timeout_with_its_field(workspace):
    api = Api(Client(), ApiKey.issue(workspace, "import")[1])
    response = api.put("/workflows/timed", {**TIMED, "run_timeout_s": "soon"})
    assert response.status_code == 422
    assert "run_timeout_s" in error_of(response)["fields"]


def test_import_builder_export_keeps_the_time_limits(workspace, alice):
    # Given a definition with a run timeout and retry budgets, imported through the API
    api = Api(Client(), ApiKey.issue(workspace, "round trip")[1])
    assert api.put("/workflows/timed", TIMED).status_code == 201
    browser = client_of(alice)
    # When the settings page and each step's panel are saved as shown
    page = browser.get("/w/acme/workflows/timed/settings/", follow=True).content.decode()
    form = FormReader("settings-form")
    form.feed(page)
    assert form.data["run_timeout_s"] == ["900"]
    saved = browser.post("/w/acme/workflows/timed/settings/save/", form.data)
    assert saved.status_code == 302
    for index in range(len(TIMED["steps"])):
        form = FormReader("step-form")
        form.feed(browser.get(f"/w/acme/workflows/timed/?step={index}").content.decode())
        form.data.pop("selected", None)
        saved = browser.post(f"/w/acme/workflows/timed/steps/{index}/save/", form.data)
        assert saved.status_code == 302
    # Then the API exports exactly what was imported
    assert api.get("/workflows/timed").json()["definition"] == TIMED


def test_the_settings_page_sets_shows_and_removes_the_run_timeout(workspace, alice):
    workflow = Workflow.objects.create(
        workspace=workspace, slug="signup", name="Signup", draft={"name": "Signup", "steps": []}
    )
    client = client_of(alice)
    save = "/w/acme/workflows/signup/settings/save/"
    client.post(save, {"name": "Signup", "run_timeout_s": "3600"}, **HTMX)
    assert draft_of(workflow)["run_timeout_s"] == 3600
    page = client.get("/w/acme/workflows/signup/settings/", follow=True).content.decode()
    assert re.search(r'id="s-run-timeout" name="run_timeout_s" value="3600"', page)
    # A bad value is kept as typed and its error shown under the field
    response = client.post(save, {"name": "Signup", "run_timeout_s": "an hour"}, **HTMX)
    assert draft_of(workflow)["run_timeout_s"] == "an hour"
    assert "whole number of seconds" in " ".join(errors_in(response)["err-settings-run_timeout_s"])
    client.post(save, {"name": "Signup", "run_timeout_s": ""}, **HTMX)
    assert "run_timeout_s" not in draft_of(workflow)


@pytest.fixture
def signup(workspace, alice):
    steps = [{"key": "greet", "action": "debug.echo@1", "input": {}},
             {"key": "nap", "action": "debug.sleep@1", "input": {"ms": 1}}]  # fmt: skip
    return Workflow.objects.create(
        workspace=workspace, slug="signup", name="Signup", draft={"name": "Signup", "steps": steps}
    )


def test_the_retry_preview_shows_where_the_budget_cuts_the_schedule(alice, signup):
    # Delays 10, 20, 40, 80, 160 s: retries start at 10, 30, 70, 150, 310 s; budget 2 min
    data = panel_data(
        retry_mode="custom",
        retry_max_attempts="6",
        retry_initial_interval_s="10",
        retry_backoff_coefficient="2",
        retry_max_interval_s="600",
        retry_budget_s="120",
        timeout_s="5",
    )
    response = client_of(alice).post("/w/acme/workflows/signup/steps/1/save/", data, **HTMX)
    text = response.content.decode()
    preview = text[text.index('id="retry-preview"') :]
    rows = re.findall(r"<li( class=\"cut\")?>\s*<span class=\"att\">Attempt (\d)", preview)
    assert [(n, bool(cut)) for cut, n in rows] == [
        ("1", False), ("2", False), ("3", False), ("4", False), ("5", True), ("6", True),
    ]  # fmt: skip
    assert preview.count("past the budget: not run") == 2
    budget = re.search(r'<p class="preview-budget" id="retry-budget">(.*?)</p>', preview, re.S)
    assert "Time budget 2 min: retries stop after attempt 4 at the latest of 6" in budget.group(1)
    # Worst case: attempts 1-4 run their 5 s timeouts, with 10 + 20 + 40 s between them
    assert '<strong id="retry-total">1 min 30 s</strong>' in preview
    assert draft_of(signup)["steps"][1]["retry"]["budget_s"] == 120
    # With long attempts, the worst case is the budget plus the last attempt's timeout
    data.update(retry_budget_s="30", timeout_s="60")
    response = client_of(alice).post("/w/acme/workflows/signup/steps/1/save/", data, **HTMX)
    text = response.content.decode()
    assert '<strong id="retry-total">1 min 30 s</strong>' in text
    assert "the 30 s budget + the last attempt's 1 min timeout" in text


def test_a_bad_budget_is_shown_under_its_field(alice, signup):
    data = panel_data(retry_mode="custom", retry_max_attempts="3", retry_budget_s="-1")
    response = client_of(alice).post("/w/acme/workflows/signup/steps/1/save/", data, **HTMX)
    assert "more than 0" in " ".join(errors_in(response)["err-retry_budget_s"])
    assert 'value="-1"' in client_of(alice).get("/w/acme/workflows/signup/?step=1").content.decode()

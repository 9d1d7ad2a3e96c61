"""The builder's settings panel sets a workflow's run limits: `max_concurrent_runs` and a
`concurrency` key, with the validator's errors in their fields."""

import pytest

from tests.builder.test_builder_views import HTMX, client_of, draft_of, errors_in, url, workflow  # noqa: F401

pytestmark = pytest.mark.django_db


def test_run_limits_are_set_and_removed_in_the_settings(alice, workflow):  # noqa: F811
    body = {"name": "Signup", "max_concurrent_runs": "3", "concurrency_key": "{{ input.email }}"}
    response = client_of(alice).post(url("settings/save/"), body, **HTMX)
    assert response.status_code == 200
    draft = draft_of(workflow)
    assert draft["max_concurrent_runs"] == 3
    assert draft["concurrency"] == {"key": "{{ input.email }}", "limit": 1}
    page = client_of(alice).get(url("settings/"), follow=True).content.decode()
    assert 'value="{{ input.email }}"' in page and 'value="3"' in page
    client_of(alice).post(url("settings/save/"), {"name": "Signup"}, **HTMX)
    assert "max_concurrent_runs" not in draft_of(workflow) and "concurrency" not in draft_of(
        workflow
    )


def test_bad_run_limits_are_shown_in_their_fields(alice, workflow):  # noqa: F811
    body = {"name": "Signup", "max_concurrent_runs": "lots", "concurrency_key": "email",
            "concurrency_limit": "0"}  # fmt: skip
    response = client_of(alice).post(url("settings/save/"), body, **HTMX)
    errors = errors_in(response)
    assert "a whole number" in " ".join(errors["err-settings-max_concurrent_runs"])
    shown = " ".join(errors["err-settings-concurrency"])
    assert "key: one reference to the run input" in shown and "limit: a whole number" in shown
    assert draft_of(workflow)["max_concurrent_runs"] == "lots"

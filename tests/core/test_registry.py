"""Actions registered in code become versions; a changed schema makes a new one."""

import pytest

from core.actions.registry import REGISTRY, action, function_for, sync_actions
from core.models import ActionVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def scratch_action():
    yield "test.scratch"
    REGISTRY.pop("test.scratch", None)


def test_a_changed_schema_or_version_makes_a_new_version(scratch_action):
    @action(scratch_action, input_schema={"type": "object"})
    def first(ctx, input):
        return "v1"

    sync_actions()
    sync_actions()  # idempotent
    assert ActionVersion.objects.filter(action__name=scratch_action).count() == 1

    @action(scratch_action, input_schema={"type": "object", "required": ["x"]})
    def changed(ctx, input):
        return "v1-changed"

    sync_actions()
    versions = ActionVersion.objects.filter(action__name=scratch_action).order_by("version")
    assert [(v.version, v.code_version) for v in versions] == [(1, 1), (2, 1)]
    assert versions[0].input_schema == {"type": "object"}  # the old version is untouched

    @action(scratch_action, version=2, input_schema={"type": "object"})
    def second(ctx, input):
        return "v2"

    sync_actions()
    latest = ActionVersion.objects.filter(action__name=scratch_action).order_by("-version")[0]
    assert (latest.version, latest.code_version) == (3, 2)
    assert function_for(scratch_action, 1)(None, {}) == "v1-changed"
    assert function_for(scratch_action, 2)(None, {}) == "v2"

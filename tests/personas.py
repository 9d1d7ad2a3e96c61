"""The people every UI test talks about, as in healthchecks' BaseTestCase.

alice owns the `workspace` fixture (Acme), bob is a viewer there, and charlie owns
`other_workspace` (Globex) and is a stranger to Acme. They share one password.
"""

import pytest

PASSWORD = "correct horse battery staple"


def make_user(username, workspace=None, role="owner", **extra):
    from django.contrib.auth import get_user_model

    from core.models import Membership

    user = get_user_model().objects.create_user(
        username, email=f"{username}@example.com", password=PASSWORD, **extra
    )
    if workspace is not None:
        Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


@pytest.fixture
def alice(workspace):
    return make_user("alice", workspace, "owner")


@pytest.fixture
def bob(workspace):
    return make_user("bob", workspace, "viewer")


@pytest.fixture
def charlie(other_workspace):
    return make_user("charlie", other_workspace, "owner")


@pytest.fixture
def erin(workspace):
    """An editor of Acme: changes things, does not manage members."""
    return make_user("erin", workspace, "editor")

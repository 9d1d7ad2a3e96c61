"""The personas (alice owner, bob viewer, charlie outsider, erin editor) for builder tests."""

from tests.personas import alice, bob, charlie, erin  # noqa: F401

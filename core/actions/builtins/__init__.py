"""The actions every workspace has."""

from core.actions.builtins import debug, email, http  # noqa: F401

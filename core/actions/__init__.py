from core.actions.base import ActionContext
from core.actions.registry import action

__all__ = ["ActionContext", "action"]

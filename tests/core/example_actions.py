"""A team's own Python actions, as a project module listed in ACTION_MODULES would hold."""

from core.actions.registry import action


@action(
    "acme.shout",
    input_schema={
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    },
    pure=True,
)
def shout(ctx, input):
    """Upper-case a text."""
    return {"text": input["text"].upper()}

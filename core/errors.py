"""One hierarchy for every error Brickwork raises on purpose."""


class BrickworkError(Exception):
    """Base of every error raised on purpose by Brickwork."""


class ActionError(BrickworkError):
    """An action failed. `retryable=False` means: don't retry, fail the step and compensate.

    `retry_after` (seconds) overrides the policy's next delay, as an HTTP Retry-After does.
    `code` names the error for a step's `on_error` routes (e.g. "card_declined").
    """

    def __init__(self, message, *, retryable=True, retry_after=None, details=None, code=""):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.details = details or {}
        self.code = code


class NonRetryable(ActionError):
    def __init__(self, message, **kwargs):
        super().__init__(message, retryable=False, **kwargs)


class OutboundRefused(NonRetryable):
    """The outbound-request policy (core/outbound.py) refused a destination."""


class SecretUnreadable(NonRetryable):
    """A secret saved under a SECRET_KEY this server no longer has: retrying cannot help."""


class InvalidOutput(NonRetryable):
    """An action's output does not match its `output_schema`: the same code would answer the
    same way again, so it is not retried. `details["fields"]` has one list per field path."""

    def __init__(self, fields):
        message = "; ".join(f"{path}: {text}" for path, texts in fields.items() for text in texts)
        super().__init__(message, details={"fields": fields})


class AttemptTimeout(ActionError):
    """The attempt ran past its deadline; counts as a failed, retryable attempt."""

    def __init__(self, message, **kwargs):
        super().__init__(message, code="timeout", **kwargs)


class FieldErrors(BrickworkError):
    """Bad input, with one message list per field path (`steps[1].key`, `input.to`)."""

    def __init__(self, fields, message="Invalid input"):
        super().__init__(message)
        self.fields = fields
        self.message = message


class InvalidDefinition(FieldErrors):
    def __init__(self, fields, message="The workflow definition is invalid"):
        super().__init__(fields, message)


class InvalidInput(FieldErrors):
    def __init__(self, fields, message="The input does not match the schema"):
        super().__init__(fields, message)


class InvalidTransition(BrickworkError):
    """A rerun, cancel or other request that the run's current state does not allow."""

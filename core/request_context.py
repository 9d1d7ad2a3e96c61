"""Who is asking, for code far from the view: the request being answered, per thread or task.

The audit log (core/audit.py) reads its actor, address and user agent here, so domain
code shared by the pages and the API records an entry without each caller passing the
request down. Outside a request (the worker, the sweeper, a command) there is none.
"""

from contextvars import ContextVar

_current = ContextVar("brickwork_request", default=None)


def request_context(get_response):
    def middleware(request):
        token = _current.set(request)
        try:
            return get_response(request)
        finally:
            _current.reset(token)

    return middleware


def current_request():
    """The request being answered in this thread or task, or None."""
    return _current.get()

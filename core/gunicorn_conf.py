"""gunicorn's settings for Brickwork: `gunicorn --config python:core.gunicorn_conf core.wsgi`.

A request that declares a body over MAX_REQUEST_BYTES is answered 413 without the body
being read (core/api/parser.py, builder/webhooks.py). gunicorn then drains at most 64 KiB
of it and, failing, closes the connection although its answer said `Connection:
keep-alive`: the client's next request on it is lost. An application cannot ask for the
close itself (PEP 3333 forbids it hop-by-hop headers, and gunicorn drops them), so this
hook marks such a request for closing before the application runs: the 413 says
`Connection: close`, and gunicorn closes the connection gracefully after it.
"""


def pre_request(worker, req):
    from django.conf import settings

    declared = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")
    if declared.strip().isdigit() and int(declared) > settings.MAX_REQUEST_BYTES:
        req.force_close()

"""gunicorn's settings for Brickwork: `gunicorn --config python:core.gunicorn_conf core.wsgi`.

Every gunicorn Brickwork starts reads this file (`manage.py up`, `manage.py bench`, the
README's web hosts); the command line adds the address and, where it differs, the
number of processes (`--workers`, one per core) and threads.

The worker class is `gthread`: a thread pool per process behind a poller that holds
idle keep-alive connections without a thread each. A request is mostly Python and a few
database round trips, so a few threads per process keep each core busy while one thread
waits on PostgreSQL or Redis (4 x 2 and 3 x 3 processes x threads were no faster than
2 x 4 on 2 cores: docs/BENCHMARKS.md). `sync` serves one request per process and no
keep-alive (a webhook sender's connection is opened again per request: keep-alive off
measured 390 against 500 deliveries/s);
gevent or eventlet would need the database driver patched, for no gain on work that is
CPU-bound. `reuse_port` gives each process its own listening socket, so the kernel spreads
connections evenly over the processes rather than letting one accept most of them.

A request that declares a body over MAX_REQUEST_BYTES is answered 413 without the body
being read (core/api/parser.py, builder/webhooks.py). gunicorn then drains at most 64 KiB
of it and, failing, closes the connection although its answer said `Connection:
keep-alive`: the client's next request on it is lost. An application cannot ask for the
close itself (PEP 3333 forbids it hop-by-hop headers, and gunicorn drops them), so this
hook marks such a request for closing before the application runs: the 413 says
`Connection: close`, and gunicorn closes the connection gracefully after it.
"""

worker_class = "gthread"
threads = 4
keepalive = 5  # seconds an idle keep-alive connection is held
reuse_port = True


def pre_request(worker, req):
    from django.conf import settings

    declared = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")
    if declared.strip().isdigit() and int(declared) > settings.MAX_REQUEST_BYTES:
        req.force_close()

"""`Idempotency-Key` on the POSTs that create runs.

The same key with the same request within 24 h gives back the run the first request made;
the same key with another request is a 409. The request is the method, the path and the
JSON body without `wait` (how long to wait is not part of what to run).
"""

import hashlib
import json
import re

from django.db import IntegrityError, transaction

from core.api.errors import ApiError
from core.models import IdempotencyKey

KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def fingerprint(request, payload):
    """SHA-256 of what the request asks for, independent of JSON whitespace and key order."""
    body = {name: value for name, value in payload.items() if name != "wait"}
    canonical = json.dumps([request.method, request.path, body], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(workspace, key, body_hash, start):
    """(run, created): `start()`'s run, or the run an earlier request with this key made.

    1. Insert the key and start the run in one transaction.
    2. A concurrent request with the same key blocks on the unique index until that
       transaction ends, then fails to insert and reads the committed row and its run.
    3. A key older than its TTL is replaced as if it had never been used.
    If `start()` raises, nothing is kept: a retry of the request starts afresh.
    """
    if key is None:
        return start(), True
    if not KEY.match(key):
        raise ApiError(
            422,
            "Idempotency-Key must be 1-255 printable ASCII characters",
            fields={"Idempotency-Key": ["must be 1-255 printable ASCII characters"]},
        )
    for _ in range(3):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(
                        workspace=workspace, key=key, body_hash=body_hash
                    )
            except IntegrityError:
                row = IdempotencyKey.objects.filter(workspace=workspace, key=key).first()
                if row is None:
                    continue  # the other request rolled back: try to be the first again
                if row.expired:
                    IdempotencyKey.objects.filter(id=row.id).delete()
                    continue
                if row.body_hash != body_hash:
                    raise ApiError(
                        409,
                        "This Idempotency-Key was used with another request",
                        code="idempotency_conflict",
                    )
                return row.run, False
            run = start()
            row.run = run
            row.save(update_fields=["run"])
            return run, True
    raise ApiError(409, "This Idempotency-Key is in use; retry", code="idempotency_conflict")

"""A small Python client for the Brickwork API, on the standard library alone.

    from core.client import Brickwork

    brickwork = Brickwork(api_key="bw_...", base_url="http://127.0.0.1:8000")
    run = brickwork.action("email.send").run(
        {"to": "ada@example.com", "subject": "Welcome", "body": "Hello Ada!"},
        idempotency_key="welcome-ada",
    )
    run.wait(timeout=60)
    print(run.status, run.output)

Everything the browser does has a method here: `define_action()`, `action(name).versions()`,
`workflows()`, `workflow(slug).archive()`, `members`, `api_keys`, `failures()`, ...

Every error the API answers is raised as BrickworkError (status, code, message, fields);
so is a server that cannot be reached (status None, code "unreachable").
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

FINISHED = frozenset({"succeeded", "compensated", "failed", "cancelled"})


class BrickworkError(Exception):
    def __init__(self, status, code, message, fields=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}

    def __str__(self):
        fields = "; ".join(f"{path}: {', '.join(msgs)}" for path, msgs in self.fields.items())
        return f"{self.status} {self.code}: {self.message}" + (f" ({fields})" if fields else "")


class Brickwork:
    def __init__(self, api_key, base_url="http://127.0.0.1:8000", timeout=60):
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self):
        return f"Brickwork(base_url={self.base_url!r})"  # never the key

    def action(self, name):
        return Action(self, name)

    def workflow(self, slug):
        return Workflow(self, slug)

    @property
    def secrets(self):
        return Secrets(self)

    @property
    def members(self):
        return Members(self)

    @property
    def api_keys(self):
        return ApiKeys(self)

    @property
    def alerts(self):
        return Alerts(self)

    def retention(self):
        """The retention policy, with what is stored and due for deletion."""
        return self.request("GET", "/retention")

    def set_retention(self, keep_runs_days, keep_failed_runs_days):
        body = {"keep_runs_days": keep_runs_days, "keep_failed_runs_days": keep_failed_runs_days}
        return self.request("PUT", "/retention", body)

    @property
    def limits(self):
        return Limits(self)

    def workflows(self, *, archived=False):
        """The workflows (or the archived ones), by name: slug, name, latest_version, ..."""
        return self.request("GET", "/workflows", query={"archived": "true" if archived else None})

    def define_action(self, name, *, url, method="POST", **fields):
        """A workspace's own HTTP action, version 1. `fields`: description, input_schema,
        headers, body, timeout_s, retry_policy (as on the page). The new version's data."""
        body = {"name": name, "url": url, "method": method, **fields}
        return self.request("POST", "/actions", body)

    def failures(self, *, state="open", kind=None, workflow=None, error=None, limit=50):
        """The failures inbox (unresolved runs by default), newest first, page by page."""
        query = {"state": state, "kind": kind, "workflow": workflow, "error": error}
        yield from self._pages("/failures", {**query, "limit": limit})

    def resolve_failures(self, run_ids, note):
        """Mark runs of the inbox resolved, with a note saying how; the runs as changed."""
        body = {"runs": [int(n) for n in run_ids], "note": note}
        return self.request("POST", "/failures/resolve", body)["items"]

    def reopen_failures(self, run_ids):
        """Put resolved runs back into the inbox; the runs as changed."""
        body = {"runs": [int(n) for n in run_ids]}
        return self.request("POST", "/failures/reopen", body)["items"]

    def audit(self, *, action=None, actor=None, object=None, since=None, until=None, limit=50):
        """The audit log (owner keys only), newest first, page by page: e.g.
        `audit(action="secret")` for every secret change, `object="workflow:12"`."""
        query = {"action": action, "actor": actor, "object": object, "limit": limit}
        query.update(since=_iso(since), until=_iso(until))
        yield from self._pages("/audit", query)

    def run(self, run_id):
        """The run with this id, with its steps and attempts."""
        return Run(self, self.request("GET", f"/runs/{int(run_id)}"))

    def runs(self, *, workflow=None, status=None, since=None, limit=50):
        """Every matching run, newest first, fetched a page at a time."""
        query = {"workflow": workflow, "status": status, "limit": limit}
        query["since"] = since.isoformat() if hasattr(since, "isoformat") else since
        for item in self._pages("/runs", query):
            yield Run(self, item)

    def _pages(self, path, query):
        """Every item of a paged list, following `next_cursor`."""
        while True:
            page = self.request("GET", path, query=query)
            yield from page["items"]
            if not page["next_cursor"]:
                return
            query = {**query, "cursor": page["next_cursor"]}

    def actions(self):
        """The catalogue: every action this key can run, with its latest version's schema."""
        return self.request("GET", "/actions")

    def request(self, method, path, body=None, *, query=None, headers=None, timeout=None):
        """Call `/api/v1<path>`; the decoded JSON answer, or BrickworkError."""
        url = f"{self.base_url}/api/v1{path}"
        query = {k: v for k, v in (query or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise _api_error(error.code, error.read()) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise BrickworkError(None, "unreachable", f"{url}: {error}") from None
        return json.loads(raw) if raw else None

    def start(self, path, body, idempotency_key, wait):
        """POST something that starts a run; the Run (finished when `wait` sufficed)."""
        if wait is not None:
            body["wait"] = wait
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        timeout = self.timeout + (wait or 0)
        return Run(self, self.request("POST", path, body, headers=headers, timeout=timeout))


class Action:
    def __init__(self, client, name):
        self.client, self.name = client, name

    @property
    def path(self):
        return f"/actions/{urllib.parse.quote(self.name, safe='')}"

    def versions(self):
        """Every version, newest first, with its schema, retry policy and config."""
        return self.client.request("GET", f"{self.path}/versions")

    def version(self, number):
        return self.client.request("GET", f"{self.path}/versions/{int(number)}")

    def new_version(self, **fields):
        """Save the next version of a workspace's own action; what is left out stays."""
        return self.client.request("POST", f"{self.path}/versions", fields)

    def run(self, input=None, *, idempotency_key=None, wait=None, version=None):
        """Run this action once, as a one-step run. `wait` (<= 30 s) waits for its end."""
        body = {"input": {} if input is None else input}
        if version is not None:
            body["version"] = version
        return self.client.start(f"{self.path}/run", body, idempotency_key, wait)


class Workflow:
    def __init__(self, client, slug):
        self.client, self.slug = client, slug

    @property
    def path(self):
        return f"/workflows/{urllib.parse.quote(self.slug, safe='')}"

    def get(self):
        """The workflow: its draft `definition` and `latest_version`."""
        return self.client.request("GET", self.path)

    def put(self, definition, *, publish=False):
        """Import a definition as the draft (creating the workflow); publish it if asked."""
        query = {"publish": "1"} if publish else None
        return self.client.request("PUT", self.path, definition, query=query)

    def run(self, input=None, *, idempotency_key=None, wait=None, version=None):
        """Run the latest published version (or `version`)."""
        body = {"input": {} if input is None else input}
        if version is not None:
            body["version"] = version
        return self.client.start(f"{self.path}/runs", body, idempotency_key, wait)

    def validate(self, definition):
        """Check a definition as the import would, saving nothing: the normalized one."""
        return self.client.request("POST", f"{self.path}/validate", definition)["definition"]

    def versions(self):
        """The published versions, newest first (to restore one, `put` its definition)."""
        return self.client.request("GET", f"{self.path}/versions")

    def version(self, number):
        return self.client.request("GET", f"{self.path}/versions/{int(number)}")

    def archive(self):
        """It starts no new run until unarchived; its runs and versions stay."""
        return self.client.request("POST", f"{self.path}/archive")

    def unarchive(self):
        return self.client.request("POST", f"{self.path}/unarchive")

    def delete(self):
        """Delete an archived workflow; its runs stay, under no workflow."""
        self.client.request("DELETE", self.path)

    @property
    def schedules(self):
        return Schedules(self.client, self.path)


class Schedules:
    """A workflow's schedules: cron or interval, overlap policy, catch-up, pause, backfill."""

    def __init__(self, client, workflow_path):
        self.client, self.path = client, f"{workflow_path}/schedules"

    def list(self):
        return self.client.request("GET", self.path)

    def create(self, name, **fields):
        """e.g. `create("nightly", cron="0 2 * * *", timezone="Europe/Paris")`, or
        `interval_s=300`; `overlap` skip (default), buffer_one, allow_all, cancel_previous."""
        return self.client.request("POST", self.path, {"name": name, **fields})

    def get(self, schedule_id):
        return self.client.request("GET", f"{self.path}/{int(schedule_id)}")

    def update(self, schedule_id, **fields):
        """Change fields; `paused=True` pauses it, `paused=False` resumes it."""
        return self.client.request("PATCH", f"{self.path}/{int(schedule_id)}", fields)

    def delete(self, schedule_id):
        self.client.request("DELETE", f"{self.path}/{int(schedule_id)}")

    def backfill(self, schedule_id, start, end):
        """Run the fire times between `start` and `end` (datetimes or ISO text)."""
        body = {"start": _iso(start), "end": _iso(end)}
        return self.client.request("POST", f"{self.path}/{int(schedule_id)}/backfill", body)


def _iso(moment):
    return moment.isoformat() if hasattr(moment, "isoformat") else moment


class Secrets:
    """The workspace's secrets, by name: `set` creates or replaces one; values never come back."""

    def __init__(self, client):
        self.client = client

    def names(self):
        return [item["name"] for item in self.client.request("GET", "/secrets")]

    def set(self, name, value):
        """Create or replace; the answer is the secret's name and `updated_at`."""
        return self.client.request("PUT", self._path(name), {"value": value})

    def delete(self, name):
        self.client.request("DELETE", self._path(name))

    @staticmethod
    def _path(name):
        return f"/secrets/{urllib.parse.quote(name, safe='')}"


class Members:
    """Who is in the workspace; an owner key adds, changes and removes people."""

    def __init__(self, client):
        self.client = client

    def list(self):
        return self.client.request("GET", "/members")

    def add(self, username, role="editor"):
        return self.client.request("POST", "/members", {"username": username, "role": role})

    def set_role(self, member_id, role):
        return self.client.request("PATCH", f"/members/{int(member_id)}", {"role": role})

    def remove(self, member_id):
        self.client.request("DELETE", f"/members/{int(member_id)}")


class ApiKeys:
    """The workspace's API keys; `create` answers the key itself, once."""

    def __init__(self, client):
        self.client = client

    def list(self):
        return self.client.request("GET", "/api-keys")

    def create(self, name, role="editor"):
        return self.client.request("POST", "/api-keys", {"name": name, "role": role})

    def revoke(self, key_id):
        return self.client.request("POST", f"/api-keys/{int(key_id)}/revoke")


class Alerts:
    """Alert rules, a test send, and the delivery log."""

    def __init__(self, client):
        self.client = client

    def rules(self):
        return self.client.request("GET", "/alerts/rules")

    def create(self, name, events, **fields):
        """e.g. `create("On-call", ["failed"], email_to=["a@example.com"])`."""
        return self.client.request(
            "POST", "/alerts/rules", {"name": name, "events": events, **fields}
        )

    def update(self, rule_id, **fields):
        return self.client.request("PATCH", f"/alerts/rules/{int(rule_id)}", fields)

    def delete(self, rule_id):
        self.client.request("DELETE", f"/alerts/rules/{int(rule_id)}")

    def test(self, rule_id):
        return self.client.request("POST", f"/alerts/rules/{int(rule_id)}/test", {})

    def deliveries(self, *, rule=None, limit=50):
        return self.client.request(
            "GET", "/alerts/deliveries", query={"rule": rule, "limit": limit}
        )


class Limits:
    """Concurrency and rate limits on the workspace's actions."""

    def __init__(self, client):
        self.client = client

    def list(self):
        return self.client.request("GET", "/limits")

    def create(self, name, action, **fields):
        """`fields`: key, key_part, max_concurrent, rate_per_s, burst."""
        return self.client.request("POST", "/limits", {"name": name, "action": action, **fields})

    def update(self, limit_id, **fields):
        return self.client.request("PATCH", f"/limits/{int(limit_id)}", fields)

    def delete(self, limit_id):
        self.client.request("DELETE", f"/limits/{int(limit_id)}")


class Run:
    """A run as last fetched; `refresh()` fetches it again, `wait()` until it ends."""

    def __init__(self, client, data):
        self.client = client
        self.data = data

    def __repr__(self):
        return f"<Run {self.id} {self.status}>"

    id = property(lambda self: self.data["id"])
    status = property(lambda self: self.data["status"])
    input = property(lambda self: self.data["input"])
    output = property(lambda self: self.data["output"])
    error = property(lambda self: self.data["error"])
    steps = property(lambda self: self.data.get("steps"))

    @property
    def finished(self):
        return self.status in FINISHED

    def refresh(self):
        self.data = self.client.request("GET", f"/runs/{self.id}")
        return self

    def wait(self, timeout=60, interval=0.1):
        """Poll until the run ends; TimeoutError when it has not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self.refresh()
        while not self.finished:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {self.id} is still {self.status} after {timeout} s")
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)
            self.refresh()
        return self

    def rerun(
        self, *, start_from="start", version="pinned", input=None, idempotency_key=None, wait=None
    ):
        """A new run linked to this one; `start_from="failed"` reuses succeeded steps."""
        body = {"from": start_from, "version": version}
        if input is not None:
            body["input"] = input
        return self.client.start(f"/runs/{self.id}/rerun", body, idempotency_key, wait)

    def cancel(self):
        self.data = self.client.request("POST", f"/runs/{self.id}/cancel")
        return self

    def items(self, step, *, status=None, limit=50):
        """Every item of the for-each step `step`, in list order, fetched a page at a time;
        `status="failed"` for the failures only."""
        path = f"/runs/{self.id}/steps/{urllib.parse.quote(step, safe='')}/items"
        yield from self.client._pages(path, {"status": status, "limit": limit})

    def send_event(self, name, payload=None):
        """Send event `name` to this run: `payload` (any JSON) becomes the output of its
        steps waiting for it. BrickworkError 409 when none waits."""
        answer = self.client.request("POST", f"/runs/{self.id}/events/{name}", payload)
        self.data = answer["run"]
        return self

    def approve(self, step=None, comment=""):
        """Approve this run's waiting approval step (`step` names it when several wait)."""
        return self._decide("approve", step, comment)

    def reject(self, step=None, comment=""):
        """Reject it: the step's output is {"approved": false, ...} and the run goes on."""
        return self._decide("reject", step, comment)

    def _decide(self, verb, step, comment):
        body = {"comment": comment, **({"step": step} if step else {})}
        self.data = self.client.request("POST", f"/runs/{self.id}/{verb}", body)["run"]
        return self

    def keep(self, keep=True):
        """Keep this run for ever (retention never deletes it), or let it go: keep=False."""
        self.data = self.client.request("POST", f"/runs/{self.id}/keep", {"keep": keep})
        return self

    def resolve(self, note):
        """Take this run out of the failures inbox, saying how it was resolved."""
        self.client.resolve_failures([self.id], note)
        return self.refresh()

    def reopen(self):
        self.client.reopen_failures([self.id])
        return self.refresh()


def _api_error(status, raw):
    try:
        error = json.loads(raw)["error"]
        return BrickworkError(status, error["code"], error["message"], error.get("fields"))
    except (ValueError, KeyError, TypeError):
        return BrickworkError(status, "http_error", raw[:200].decode("utf-8", "replace"))

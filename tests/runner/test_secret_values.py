"""Issue 10, acceptance item 3: secrets of every shape, echoed in outputs and raised in
errors by a real worker, are masked in the data and nowhere else.

Secrets of 4 to 64 characters, some of them ordinary words of our own pages and answers
(`span`, `status`, `failed`), some full of quotes, backslashes and HTML: the run page is
valid HTML with as many elements as the same run without secrets, the API answers 200 with
correct JSON (runs list, run detail, the run-starting POST, which starts exactly one run),
and no value shows in any page, answer, error, worker log line or metric, nor is stored.
"""

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import quote, quote_plus

import pytest

from builder.definition import validate
from builder.models import Workflow
from core.masking import MASK, spellings
from core.models import ApiKey
from runner.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = {
    "SPAN": "span",
    "STATUS": "status",
    "FAILED": "failed",
    "HTML": "<b>&\"'\\",
    "QUOTES": 'it\'s a "quoted" \\path\\ t0ken',
    "UNICODE": "pässwörd-✓-ünïcode",
    "LONG": "sk_live_" + "x9" * 28,
}
# Words our own pages and answers use: they may show there, never in the data.
WORDS = {"SPAN", "STATUS", "FAILED"}
DISTINCT = {name: value for name, value in SECRETS.items() if name not in WORDS}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


def definition(ref, explode_path):
    """The workflow; `ref(NAME)` is how a secret enters it (a reference, or a plain stand-in)."""
    every = " | ".join(ref(name) for name in SECRETS)
    return {
        "name": "Leaky",
        "steps": [
            {
                "key": "echo",
                "action": "debug.echo",
                "input": {
                    "each": {name.lower(): ref(name) for name in SECRETS},
                    "quoted": f"'{ref('QUOTES')}' and <{ref('HTML')}>",
                },
            },
            {
                "key": "post",
                "action": "http.request",
                "input": {
                    "method": "POST",
                    "url": "{{ input.base }}/mirror",
                    "headers": {"X-Token": ref("LONG")},
                    "json": {"all": every},
                },
            },
            {
                "key": "flaky",
                "action": "debug.fail",
                "input": {"fail_times": 1, "message": f"bad: {every}"},
                "retry": {"max_attempts": 2, "initial_interval_s": 0, "jitter": False},
            },
            {
                "key": "explode",
                "action": "http.request",
                "input": {"method": "POST", "url": "{{ input.base }}" + explode_path, "json": {}},
                "retry": {"max_attempts": 1},
            },
        ],
    }


def escaped(values):
    """What a careless server sends back: the values in every usual escaping."""
    return {
        "repr": repr(values),
        "json": json.dumps(values),
        "url": [quote(v, safe="") for v in values] + [quote_plus(v) for v in values],
    }


def publish(workspace, slug, ref, explode_path):
    workflow = Workflow.objects.create(workspace=workspace, slug=slug, name=slug)
    workflow.publish(validate(definition(ref, explode_path), workspace))


class Page(HTMLParser):
    """The elements of a page (checking every one is closed) and the text of its data."""

    DATA = ("pre", "run-error", "tl-error", "wide")

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags, self.stack, self.data, self.titles = Counter(), [], [], []
        self.feed(html)
        self.close()
        assert self.stack == [], f"unclosed: {self.stack}"

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        attrs = dict(attrs)
        if "tl-error" in (attrs.get("class") or ""):
            self.titles.append(attrs.get("title") or "")
        if tag not in VOID:
            classes = (attrs.get("class") or "").split()
            self.stack.append((tag, tag == "pre" or any(c in self.DATA for c in classes)))

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] += 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        if any(in_data for _, in_data in self.stack):
            self.data.append(data)

    @property
    def data_text(self):
        return "\n".join(self.data + self.titles)


def get(url, headers=None, data=None, method=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def strings(value):
    """Every string in a JSON value, keys left out."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def run_pages(base, session, run):
    """The run page, its live update, and every step's and attempt's details."""
    cookie = {"Cookie": f"sessionid={session}"}
    prefix = f"{base}/w/{run.workspace.slug}/runs/{run.id}/"
    pages = {"run": get(prefix, cookie), "timeline": get(prefix + "timeline?after=0", cookie)}
    for step in run.steps.all():
        pages[f"step {step.key}"] = get(f"{prefix}step?id={step.id}", cookie)
    for attempt in run.attempts.all():
        pages[f"attempt {attempt.id}"] = get(f"{prefix}attempt?id={attempt.id}", cookie)
    for name, (status, _) in pages.items():
        assert status in (200, 286), name
    return {name: html for name, (_, html) in pages.items()}


def assert_no_distinct_value(where, text):
    for name, value in DISTINCT.items():
        for form in spellings(value):
            assert form not in text, f"{name} ({form!r}) shows in {where}"


def test_secrets_of_every_shape_show_nowhere(
    live_server, worker, workspace, alice, client, http_server, settings
):
    settings.METRICS_TOKEN = "scrape-token-for-the-test"
    base = live_server.url
    http_server.clear()
    log_start = worker.log_path.stat().st_size if worker.log_path.exists() else 0
    key = ApiKey.issue(workspace, "acceptance")[1]
    api = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    # Given the secrets, set through the API (4 characters is long enough)
    for name, value in SECRETS.items():
        body = json.dumps({"value": value}).encode()
        status, _ = get(f"{base}/api/v1/secrets/{name}", api, body, "PUT")
        assert status == 201, name
    # And a careless server that sends them back escaped when the last step calls it
    http_server.respond("/explode", [(500, escaped(list(SECRETS.values())), {})])
    http_server.respond("/explode-plain", [(500, escaped([MASK] * len(SECRETS)), {})])
    # And the workflow, plus the same workflow without secrets (stand-ins where they were)
    publish(workspace, "leaky", lambda name: f"{{{{ secrets.{name} }}}}", "/explode")
    publish(workspace, "plain", lambda name: MASK, "/explode-plain")

    # When each is started through the API, waiting for the end
    started = {}
    for slug in ("plain", "leaky"):
        before = Run.objects.count()
        body = json.dumps({"input": {"base": http_server.url}, "wait": 30}).encode()
        status, text = get(f"{base}/api/v1/workflows/{slug}/runs", api, body, "POST")
        # Then the POST answers 200 with the ended run, and started exactly one
        assert status == 200, text
        started[slug] = json.loads(text)
        assert started[slug]["status"] == "failed" and Run.objects.count() == before + 1
    leaky = Run.objects.get(id=started["leaky"]["id"])
    plain = Run.objects.get(id=started["plain"]["id"])

    # Then the worker stored no value: not in outputs, errors or events, whichever step
    stored = [
        list(leaky.steps.values("output", "error")),
        list(leaky.attempts.values("output", "error")),
        list(leaky.events.values("message", "data")),
        [leaky.output, leaky.error],
    ]
    assert_no_distinct_value("the database", json.dumps(stored, default=str))

    # And the run detail is correct JSON with the data masked, and the API's own fields intact
    status, text = get(f"{base}/api/v1/runs/{leaky.id}", api)
    assert status == 200
    detail = json.loads(text)
    assert detail["status"] == "failed" and detail["error"]["step"] == "explode"
    steps = {step["key"]: step for step in detail["steps"]}
    assert [s["status"] for s in steps.values()] == ["succeeded"] * 3 + ["failed"]
    assert steps["echo"]["output"] == {
        "each": {name.lower(): MASK for name in SECRETS},
        "quoted": f"'{MASK}' and <{MASK}>",
    }
    every = " | ".join([MASK] * len(SECRETS))
    flaky = steps["flaky"]["attempts"]
    assert [a["status"] for a in flaky] == ["failed", "succeeded"]
    assert flaky[0]["error"]["message"] == f"bad: {every}"
    masks = [MASK] * len(SECRETS)
    assert steps["explode"]["attempts"][0]["error"]["details"]["body"] == {
        "repr": repr(masks),
        "json": json.dumps(masks),
        "url": masks * 2,
    }
    sent = [r["headers"].get("X-Token") for r in http_server.requests if r["path"] == "/mirror"]
    assert sent == [MASK, SECRETS["LONG"]]  # the real value did go out
    # And the runs list is 200 with both runs, every status a real status
    status, text = get(f"{base}/api/v1/runs", api)
    assert status == 200
    listed = json.loads(text)["items"]
    assert [(r["id"], r["status"]) for r in listed[:2]] == [
        (leaky.id, "failed"),
        (plain.id, "failed"),
    ]
    # And no word-like secret is in any data string of any answer
    answers = {"detail": detail, "list": listed, "post": started["leaky"]}
    for where, answer in answers.items():
        data = [answer] if where != "list" else answer
        for run in data:
            parts = [run["input"], run["output"], run["error"]]
            for step in run.get("steps", []):
                parts += [step["input"], step["output"], step["error"]]
                parts += [a["output"] for a in step["attempts"]]
                parts += [a["error"] for a in step["attempts"]]
            for text in strings(parts):
                for name in WORDS:
                    assert SECRETS[name] not in text, f"{name} in {where}: {text[:200]}"
    for where, answer in answers.items():
        assert_no_distinct_value(f"the API's {where}", json.dumps(answer, ensure_ascii=False))
        assert_no_distinct_value(f"the API's {where}", json.dumps(answer))

    # Then every page of the run is valid HTML, as many elements as without secrets
    client.force_login(alice)
    session = client.cookies["sessionid"].value
    leaky_pages = run_pages(base, session, leaky)
    plain_pages = run_pages(base, session, plain)
    assert Page(leaky_pages["run"]).tags == Page(plain_pages["run"]).tags
    assert Page(leaky_pages["timeline"]).tags == Page(plain_pages["timeline"]).tags
    for name, html in leaky_pages.items():
        page = Page(html)
        assert_no_distinct_value(f"the {name} page", html)
        # The data's own keys stay (`"status": ...` of an echo), and so does "Step x failed:"
        values = re.sub(r'"[^"\n]*":', "", page.data_text).replace("failed: ", "")
        for word in WORDS:
            assert SECRETS[word] not in values, (word, name)
    # And the lists, the failure inbox and the dashboard too
    cookie = {"Cookie": f"sessionid={session}"}
    for path in ("runs/", "failures/", "failures/?group=error", ""):
        status, html = get(f"{base}/w/{workspace.slug}/{path}", cookie)
        assert status == 200, path
        Page(html)
        assert_no_distinct_value(f"/{path}", html)

    # And not in the worker's log, nor in the metrics
    with open(worker.log_path, encoding="utf-8", errors="replace") as log:
        log.seek(log_start)
        assert_no_distinct_value("the worker log", log.read())
    status, metrics = get(f"{base}/metrics", {"Authorization": f"Bearer {settings.METRICS_TOKEN}"})
    assert status == 200
    assert_no_distinct_value("/metrics", metrics)

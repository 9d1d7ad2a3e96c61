"""The demo's workflows, loaded by `manage.py seed_demo` (and so by `make run`).

"Welcome" shows a retry and a compensation. "Order approval" shows the decisions: a
for-each over the order's lines with a concurrency limit, a condition (only orders of 100
or more wait for a person), an approval with a timeout whose failure takes an error
route, a sub-workflow ("Ship order") and the branch a rejection takes. Children come
first: a sub-workflow step names a published workflow.
"""

WELCOME = {
    "name": "Welcome",
    "description": "Echo, pause, fail once and retry: a first look at a run's timeline.",
    "steps": [
        {
            "key": "greet",
            "name": "Say hello",
            "action": "debug.echo",
            "input": {"message": "Hello from Brickwork", "run": "{{ run.id }}"},
            "compensate": {
                "action": "debug.echo",
                "input": {"undo": "{{ steps.greet.output.message }}"},
            },
        },
        {"key": "pause", "name": "Take a breath", "action": "debug.sleep", "input": {"ms": 300}},
        {
            "key": "flaky",
            "name": "Fail once, then succeed",
            "action": "debug.fail",
            "input": {"fail_times": 1, "message": "a planned first failure"},
            "retry": {
                "max_attempts": 3,
                "initial_interval_s": 1,
                "backoff_coefficient": 2,
                "jitter": False,
            },
        },
    ],
}

SHIP_ORDER = {
    "name": "Ship order",
    "description": "Book a carrier and print the label; run by Order approval as a child.",
    "steps": [
        {
            "key": "book",
            "name": "Book a carrier",
            "action": "debug.echo",
            "input": {"order": "{{ input.order_id }}", "carrier": "demo-post"},
            "compensate": {
                "action": "debug.echo",
                "input": {"cancel_booking": "{{ input.order_id }}"},
            },
        },
        {
            "key": "label",
            "name": "Print the label",
            "action": "debug.echo",
            "input": {"label": "{{ input.order_id }} via {{ steps.book.output.carrier }}"},
        },
    ],
}

ORDER_LINES = [
    {"sku": "BOOK-1", "qty": 1, "price": 40},
    {"sku": "LAMP-2", "qty": 2, "price": 55},
    {"sku": "MUG-3", "qty": 4, "price": 8},
]

ORDER_APPROVAL = {
    "name": "Order approval",
    "description": (
        "Reserve each line, ask a person when the order is 100 or more, then ship it as a "
        "child run, or tell the customer it was declined."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "order_id": {"type": "string", "default": "A-1001"},
            "total": {"type": "number", "default": 182},
            "lines": {"type": "array", "default": ORDER_LINES},
        },
        "required": ["order_id", "total", "lines"],
    },
    "steps": [
        {
            "key": "reserve",
            "name": "Reserve each line",
            "action": "debug.echo",
            "for_each": "{{ input.lines }}",
            "max_concurrency": 2,
            "input": {"sku": "{{ item.sku }}", "qty": "{{ item.qty }}", "line": "{{ item_index }}"},
            "compensate": {"action": "debug.echo", "input": {"release": "{{ item.sku }}"}},
        },
        {
            "key": "review",
            "name": "A person approves",
            "type": "approval",
            "role": "owner",
            "timeout_s": 86400,
            "on_timeout": "fail",
            "when": "input.total >= 100",
            "after": ["reserve"],
            "on_error": [{"match": ["wait_timeout"], "next": ["escalate"]}],
        },
        {
            "key": "escalate",
            "name": "Nobody answered: tell support",
            "action": "debug.echo",
            "input": {"support": "order {{ input.order_id }} waited a day for approval"},
            "after": ["review"],
        },
        {
            "key": "ship",
            "name": "Ship it",
            "type": "workflow",
            "workflow": "ship-order",
            "version": "latest",
            "input": {"order_id": "{{ input.order_id }}"},
            "after": ["reserve", "review"],
            "after_any": True,
            "when": 'steps.review.status == "skipped" or steps.review.output.approved == true',
        },
        {
            "key": "decline",
            "name": "Tell the customer",
            "action": "debug.echo",
            "input": {"declined": "{{ input.order_id }}: {{ steps.review.output.comment }}"},
            "after": ["review"],
            "when": "steps.review.output.approved == false",
        },
    ],
}

# (slug, definition), children before the workflows that run them.
WORKFLOWS = [
    ("welcome", WELCOME),
    ("ship-order", SHIP_ORDER),
    ("order-approval", ORDER_APPROVAL),
]

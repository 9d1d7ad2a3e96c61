"""Starters: ready-made drafts a new workspace creates in one click, to edit rather than
begin from an empty canvas. Each is an ordinary definition the validator accepts as it is
(tests publish every one), so nothing here is special to the engine.
"""

import copy
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from builder.models import Workflow


@dataclass(frozen=True)
class Starter:
    slug: str
    name: str
    summary: str
    definition: dict


RETRY_FIVE_TIMES = {
    "max_attempts": 5,
    "initial_interval_s": 2,
    "backoff_coefficient": 2.0,
    "max_interval_s": 60,
    "jitter": True,
}

WELCOME_EMAIL = Starter(
    slug="welcome-email",
    name="Welcome e-mail",
    summary="Send a welcome e-mail to a new user, retried five times with backoff.",
    definition={
        "name": "Welcome e-mail",
        "description": "Greets a new user by e-mail; a mail server that is down is retried.",
        "input_schema": {
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email"},
                "name": {"type": "string"},
            },
            "required": ["email"],
        },
        "steps": [
            {
                "key": "send_welcome",
                "name": "Send the welcome e-mail",
                "action": "email.send",
                "input": {
                    "to": "{{ input.email }}",
                    "subject": "Welcome aboard",
                    "body": "Hello {{ input.name }}, your account is ready.",
                },
                "retry": RETRY_FIVE_TIMES,
                "timeout_s": 30,
            }
        ],
    },
)

ORDER_SAGA = Starter(
    slug="order-saga",
    name="Order saga",
    summary="Reserve stock, charge the card, ship; if a step fails for good, the earlier "
    "ones are undone, newest first.",
    definition={
        "name": "Order saga",
        "description": "Each step that succeeded is compensated when a later one fails.",
        "input_schema": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "amount": {"type": "number"},
            },
            "required": ["order_id"],
        },
        "steps": [
            {
                "key": "reserve_stock",
                "name": "Reserve the stock",
                "action": "http.request",
                "input": {
                    "method": "POST",
                    "url": "https://inventory.example.com/reservations",
                    "json": {"order": "{{ input.order_id }}"},
                },
                "compensate": {
                    "action": "http.request",
                    "input": {
                        "method": "DELETE",
                        "url": "https://inventory.example.com/reservations/{{ input.order_id }}",
                    },
                },
            },
            {
                "key": "charge_card",
                "name": "Charge the card",
                "action": "http.request",
                "input": {
                    "method": "POST",
                    "url": "https://payments.example.com/charges",
                    "json": {"order": "{{ input.order_id }}", "amount": "{{ input.amount }}"},
                },
                "retry": RETRY_FIVE_TIMES,
                "compensate": {
                    "action": "http.request",
                    "input": {
                        "method": "POST",
                        "url": "https://payments.example.com/refunds",
                        "json": {"order": "{{ input.order_id }}"},
                    },
                },
            },
            {
                "key": "ship",
                "name": "Ask the warehouse to ship",
                "action": "http.request",
                "input": {
                    "method": "POST",
                    "url": "https://warehouse.example.com/shipments",
                    "json": {"order": "{{ input.order_id }}"},
                },
            },
        ],
    },
)

WEBHOOK_TO_HTTP = Starter(
    slug="webhook-forward",
    name="Webhook → HTTP call",
    summary="Forward each webhook delivery's body to another service's API; add the "
    "webhook on the Triggers page once published.",
    definition={
        "name": "Webhook → HTTP call",
        "description": "A webhook trigger's body, posted on to another service.",
        "steps": [
            {
                "key": "forward",
                "name": "Post the body on",
                "action": "http.request",
                "input": {
                    "method": "POST",
                    "url": "https://api.example.com/events",
                    "json": "{{ input.body }}",
                },
                "retry": RETRY_FIVE_TIMES,
                "timeout_s": 30,
            }
        ],
    },
)

STARTERS = [WELCOME_EMAIL, ORDER_SAGA, WEBHOOK_TO_HTTP]


def get(slug):
    return next((starter for starter in STARTERS if starter.slug == slug), None)


def create_draft(starter, workspace, user):
    """A new workflow whose draft is the starter, under a free slug (`order-saga-2`, ...)."""
    taken = set(
        Workflow.objects.filter(workspace=workspace, slug__startswith=starter.slug).values_list(
            "slug", flat=True
        )
    )
    for number in range(1, 1000):
        slug = starter.slug if number == 1 else f"{starter.slug}-{number}"
        if slug in taken:
            continue
        try:
            with transaction.atomic():
                return Workflow.objects.create(
                    workspace=workspace,
                    slug=slug,
                    name=starter.name,
                    description=starter.definition.get("description", ""),
                    draft=copy.deepcopy(starter.definition),
                    created_by=user,
                )
        except IntegrityError:
            continue  # created meanwhile by another click: try the next number
    raise RuntimeError("no free slug for this starter")

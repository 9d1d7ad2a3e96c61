"""Signing snippets of a webhook: curl, Python and JavaScript that a sender copies and runs.

Every value the trigger's settings put into the code is quoted for its language (shell
quoting, JSON string literals, which Python and JavaScript both read), so a header name
or prefix can never turn into code.
"""

import json
import shlex

from django.template.loader import render_to_string

from builder import signatures
from builder.models import Trigger

LANGUAGES = [
    ("curl", "curl", "builder/snippets/curl.sh.txt"),
    ("python", "Python", "builder/snippets/python.py.txt"),
    ("javascript", "JavaScript (Node.js)", "builder/snippets/node.js.txt"),
]


def snippets(trigger, url):
    """[{"id", "label", "code"}] sending a signed test event to `url` as `trigger` expects."""
    header = trigger.signature_header_name
    timestamped = trigger.signature == Trigger.Signature.TIMESTAMPED
    algorithm = trigger.signature_algorithm if not timestamped else "sha256"
    context = {
        "signature": trigger.signature,
        "algorithm": algorithm if algorithm in signatures.ALGORITHMS else "sha256",
        "url_sh": shlex.quote(url),
        "url_js": json.dumps(url),
        "header_js": json.dumps(header),
        "prefix_js": json.dumps(trigger.signature_prefix),
        "header_sh": shlex.quote(
            f"{header}: " + ("t=" if timestamped else trigger.signature_prefix)
        ),
    }
    return [
        {"id": slug, "label": label, "code": render_to_string(template, context).strip() + "\n"}
        for slug, label, template in LANGUAGES
    ]

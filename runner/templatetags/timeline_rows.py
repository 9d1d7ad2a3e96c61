"""The rows of the run page's timeline (a step's head, its attempts) as HTML built in Python.

A run page may show 1,000 attempts. As template partials in a loop each attempt cost 16
variable lookups with their escaping and localisation, each step head 30: 60 ms of a
page. One format string with its values escaped costs a few microseconds a row. The
markup belongs with the `step` partial of templates/runner/run.html: keep them in step.
Every value is escaped (or made an int) here, whatever it is and wherever it came from.
"""

import re
from html import escape as _escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

# What html.escape replaces. Most values (times, numbers, statuses) have none of these:
# one search says so faster than five replaces (15 values an attempt, 1,000 attempts).
_SPECIAL = re.compile("[&<>\"']").search


def escape(value):
    """`html.escape(value)`, quicker for a value with nothing to escape."""
    return _escape(value) if _SPECIAL(value) else value


STEP_HEAD = (
    '<details class="tl-fold" id="sd-{dom_id}" hx-get="{url}?id={id}" hx-trigger="toggle once"'
    ' hx-target="find .panes">\n'
    '    <summary class="tl-step-head" title="Show the step\'s input and output">\n'
    '      <div class="tl-step-title"><span class="caret" aria-hidden="true"></span>'
    '{compensates} <strong>{key}</strong> <span class="ref">{ref}</span>'
    ' <span class="badge s-{status}">{status}</span>{tags}</div>\n'
    '      <div class="track">{bar}</div>\n'
    '      <div class="tl-dur">{duration}</div>{why}{error}\n'
    "    </summary>\n"
    '    <div class="panes"><p class="muted">Loading…</p></div>\n'
    "  </details>"
)
COMPENSATES = ' <span class="tag warn" title="Undoes step {key}">↩ compensation</span>'
REUSED = ' <span class="tag accent" title="Output reused from an earlier run">reused</span>'
ATTEMPTS = ' <span class="tag">{count} attempts</span>'
BAR = '<span class="bar {status}" style="--start: {start}; --dur: {length}" title="{title}"></span>'
# The time an attempt waited before it ran (backoff, a limit): drawn apart from its work.
WAIT_BAR = (
    '<span class="bar wait" style="--start: {start}; --dur: {length}" title="{title}"></span>'
)
# A scheduled attempt counts down to its start (static/js/countdown.js ticks it).
DUE = (
    ' <span class="next">next attempt in'
    ' <time datetime="{due}" data-countdown>{due_in}</time></span>'
)
STEP_ERROR = '<div class="tl-error">{text}{fields}</div>'
WHY = '<div class="tl-why {kind}">{text}</div>'
HANDLED = ' <span class="tag accent" title="An on_error route handled this failure">handled</span>'
FIELD_ERROR = " · <code>{path}</code>: {text}"

ATTEMPT = (
    '<li id="attempt-{id}" data-status="{status}">'
    '<details class="tl-fold" id="ad-{id}" hx-get="{url}?id={id}" hx-trigger="toggle once"'
    ' hx-target="find .panes">\n'
    '  <summary class="tl-attempt">'
    '<div class="who"><span class="caret" aria-hidden="true"></span>'
    ' <span class="muted">Attempt {number}</span>'
    ' <span class="badge s-{status}">{status}</span>{decision}</div>'
    '<div class="track">{bar}</div>'
    '<div class="tl-dur">{duration}</div>{error}</summary>\n'
    '  <div class="panes"><p class="muted">Loading…</p></div>'
    "</details></li>\n"
)
# A step's attempts; a long step's middle ones fold behind "show N more".
ATTEMPTS_LIST = '<ol class="tl-attempts" aria-label="Attempts of {key}">\n{rows}</ol>'
FOLD = (
    '<li><details class="more-attempts" id="more-{dom_id}">'
    "<summary>Show {count} more attempts</summary>\n"
    '<ol class="tl-attempts">{rows}</ol>\n</details></li>\n'
)
DECISION = ' <span class="decision {kind}">{text}</span>'
ATTEMPT_ERROR = '<div class="tl-error" title="{message}">{text}</div>'


@register.simple_tag
def step_head(group, url):
    """The summary of a `timeline.StepGroup`; its input and output load from `url` on open."""
    tags = REUSED if group.reused else ""
    if group.handled:
        tags += HANDLED
    if group.attempt_count > 1:
        tags += ATTEMPTS.format(count=int(group.attempt_count))
    error = ""
    if group.error:
        fields = "".join(
            FIELD_ERROR.format(path=escape(str(path)), text=escape(text))
            for path, text in group.error_fields
        )
        error = STEP_ERROR.format(text=escape(group.error), fields=fields)
    compensates = ""
    if group.kind == "compensation":
        compensates = COMPENSATES.format(key=escape(group.compensates))
    html = STEP_HEAD.format(
        dom_id=escape(group.dom_id),
        url=escape(url),
        id=int(group.id),
        compensates=compensates,
        key=escape(group.key),
        ref=escape(group.ref),
        status=escape(group.status),
        tags=tags,
        bar=_bar(group, f"{group.key}: {group.times}", group.bar) if group.started else "",
        duration=escape(group.duration),
        why=WHY.format(kind=escape(group.status), text=escape(group.why)) if group.why else "",
        error=error,
    )
    return mark_safe(html)  # every value above is escaped


@register.simple_tag
def attempt_list(group, url):
    """The <ol> of a `timeline.StepGroup`'s attempts, each an <li> whose details load from
    `url` when opened; a long step's middle attempts fold behind "show N more"."""
    url = escape(url)
    rows = "".join([_attempt(row, url) for row in group.head])
    if group.folds:
        middle = group.middle
        inner = "".join([_attempt(row, url) for row in middle])
        rows += FOLD.format(dom_id=escape(group.dom_id), count=len(middle), rows=inner)
        rows += "".join([_attempt(row, url) for row in group.tail])
    html = ATTEMPTS_LIST.format(key=escape(group.key), rows=rows)
    return mark_safe(html)  # every value above is escaped


def _attempt(row, url):
    decision = error = bar = ""
    if row.decision:
        decision = DECISION.format(kind=escape(row.decision_kind), text=escape(row.decision))
    if row.due:
        decision += DUE.format(due=escape(row.due), due_in=escape(row.due_in))
    if row.wait_length:
        title = f"Attempt {int(row.number)} {row.wait_times}"
        bar = WAIT_BAR.format(
            start=escape(row.wait_start), length=escape(row.wait_length), title=escape(title)
        )
    if row.error:
        error = ATTEMPT_ERROR.format(message=escape(row.error_message), text=escape(row.error))
    return ATTEMPT.format(
        id=int(row.id),
        url=url,
        number=int(row.number),
        status=escape(row.status),
        decision=decision,
        bar=bar + _bar(row, f"Attempt {int(row.number)} {row.status}: {row.times}"),
        duration=escape(row.duration),
        error=error,
    )


def _bar(row, title, kind=None):
    return BAR.format(
        status=escape(kind or row.status),
        start=escape(row.start),
        length=escape(row.length),
        title=escape(title),
    )

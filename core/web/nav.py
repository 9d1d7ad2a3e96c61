"""The sidebar: the pages of a workspace, which one is current, and the failures count."""

from django.urls import NoReverseMatch, reverse

from core.models import Role

# (label, url name, url-name prefixes that mark it current, SVG path of its icon)
PAGES = [
    (
        "Dashboard",
        "dashboard",
        ("dashboard",),
        "M3 12h7V3H3zm11 9h7v-9h-7zM3 21h7v-5H3zm11-18v5h7V3z",
    ),
    (
        "Workflows",
        "workflow_list",
        ("workflow", "trigger", "builder"),
        "M6 3a3 3 0 1 0 0 6 3 3 0 0 0 0-6zm12 12a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM6 9v3a3 3 0 0 0 3 3h6",
    ),
    ("Runs", "run_list", ("run_",), "M5 3l14 9-14 9z"),
    (
        "Waiting for me",
        "waiting_list",
        ("waiting_",),
        "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm-4 9l3 3 5-6",
    ),
    ("Schedules", "schedule_all", ("schedule_",), "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 4v5l3 2"),
    ("Actions", "action_list", ("action_",), "M13 2L3 14h8l-1 8 10-12h-8z"),
    ("Limits", "limit_list", ("limit_",), "M4 20h16M6 16V9m4 7V5m4 11v-6m4 6V8"),
    (
        "Failures",
        "failure_list",
        ("failure_",),
        "M12 3l10 18H2zm0 6v5m0 3v.01",
    ),
    (
        "API keys",
        "api_key_list",
        ("api_key",),
        "M15 7a4 4 0 1 1-3.9 4.9L3 20v-3h3v-3h3l1.1-1.1A4 4 0 0 1 15 7z",
    ),
    (
        "Secrets",
        "secrets",
        ("secret",),
        "M5 11h14v10H5zm3 0V7a4 4 0 0 1 8 0v4",
    ),
    (
        "Members",
        "member_list",
        ("member_",),
        "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 10a7 7 0 0 1 14 0M17 3a4 4 0 0 1 0 8m5 10a7 7 0 0 0-4-6.3",
    ),
    ("Alerts", "alert_list", ("alert_",), "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zm4 4h4"),
    ("Audit log", "audit_list", ("audit_",), "M6 3h9l4 4v14H6zm3 7h7m-7 4h7m-7 4h4"),
    (
        "Settings",
        "workspace_settings",
        ("workspace_settings", "retention_"),
        "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM4 12h2m12 0h2M12 4v2m0 12v2",
    ),
]


# Pages only owners may open: the others do not see the link either.
OWNERS_ONLY = {"audit_list"}


COUNTS = {
    "failure_list": "{} unresolved",
    "waiting_list": "{} awaiting your decision",
}


def nav_items(request, workspace, failures=0, waiting=0):
    """The sidebar links for `workspace`; pages whose URL is not defined yet are left out."""
    counts = {"failure_list": failures, "waiting_list": waiting}
    current = getattr(getattr(request, "resolver_match", None), "url_name", "") or ""
    owner = getattr(request, "role", None) == Role.OWNER
    items = []
    for label, name, prefixes, icon in PAGES:
        if name in OWNERS_ONLY and not owner:
            continue
        try:
            url = reverse(name, args=[workspace.slug])
        except NoReverseMatch:
            continue
        items.append(
            {
                "label": label,
                "url": url,
                "icon": icon,
                "current": current.startswith(prefixes),
                "count": counts.get(name, 0),
                "count_title": COUNTS.get(name, "").format(counts.get(name, 0)),
            }
        )
    return items

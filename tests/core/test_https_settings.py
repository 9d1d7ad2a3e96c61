"""HTTPS settings come from the environment: off for http://127.0.0.1, on when set."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
]
PRODUCTION = {
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def run(code, **environ):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "core.settings", **environ}
    for name in NAMES:
        if name not in environ:
            env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def settings_with(**environ):
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {NAMES!r}}}))"
    )
    done = run(code, **environ)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_by_default_everything_works_over_plain_http_on_localhost():
    assert settings_with() == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_production_sets_them_from_the_environment_and_the_deploy_check_agrees():
    assert settings_with(**PRODUCTION) == {
        **{name: True for name in NAMES},
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }
    # Django's own deployment check finds none of the HTTPS warnings left
    key = "k" * 64 + "-not-a-real-key-0123456789"
    code = "from django.core.management import execute_from_command_line; "
    code += "execute_from_command_line(['manage.py', 'check', '--deploy'])"
    laptop = run(code, SECRET_KEY=key)
    production = run(code, **PRODUCTION, SECRET_KEY=key)
    for warning in ("W004", "W008", "W012", "W016"):  # HSTS, redirect, both cookies
        assert f"security.{warning}" in laptop.stderr
    for warning in ("W004", "W005", "W008", "W012", "W016", "W021"):
        assert f"security.{warning}" not in production.stderr + production.stdout


def test_a_header_that_is_not_a_name_stops_start_up():
    done = run("import django; django.setup()", SECURE_PROXY_SSL_HEADER="X-Proto: https")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "SECURE_PROXY_SSL_HEADER" in done.stderr

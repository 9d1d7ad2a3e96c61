"""The OpenAPI document and the browsable docs, served without any CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document_lists_every_endpoint(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/actions",
        "/api/v1/audit",
        "/api/v1/actions/{name}/run",
        "/api/v1/actions/{name}/versions",
        "/api/v1/actions/{name}/versions/{version}",
        "/api/v1/workflows",
        "/api/v1/workflows/{slug}",
        "/api/v1/workflows/{slug}/runs",
        "/api/v1/workflows/{slug}/archive",
        "/api/v1/workflows/{slug}/unarchive",
        "/api/v1/workflows/{slug}/validate",
        "/api/v1/workflows/{slug}/versions",
        "/api/v1/workflows/{slug}/versions/{number}",
        "/api/v1/workflows/{slug}/triggers",
        "/api/v1/workflows/{slug}/triggers/{trigger_id}",
        "/api/v1/workflows/{slug}/triggers/{trigger_id}/deliveries",
        "/api/v1/workflows/{slug}/triggers/{trigger_id}/deliveries/{delivery_id}/replay",
        "/api/v1/workflows/{slug}/triggers/{trigger_id}/test",
        "/api/v1/workflows/{slug}/schedules",
        "/api/v1/workflows/{slug}/schedules/{schedule_id}",
        "/api/v1/workflows/{slug}/schedules/{schedule_id}/backfill",
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/rerun",
        "/api/v1/runs/{run_id}/cancel",
        "/api/v1/runs/{run_id}/keep",
        "/api/v1/runs/{run_id}/steps/{key}/items",
        "/api/v1/runs/{run_id}/events/{name}",
        "/api/v1/runs/{run_id}/approve",
        "/api/v1/runs/{run_id}/reject",
        "/api/v1/retention",
        "/api/v1/alerts/rules",
        "/api/v1/alerts/rules/{rule_id}",
        "/api/v1/alerts/rules/{rule_id}/test",
        "/api/v1/alerts/deliveries",
        "/api/v1/secrets",
        "/api/v1/secrets/{name}",
        "/api/v1/failures",
        "/api/v1/failures/resolve",
        "/api/v1/failures/reopen",
        "/api/v1/members",
        "/api/v1/members/{member_id}",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{key_id}/revoke",
        "/api/v1/limits",
        "/api/v1/limits/{limit_id}",
    }
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"


def test_every_operation_has_a_camel_case_id_a_generated_client_can_use(client):
    document = client.get("/api/v1/openapi.json").json()
    operations = [op for path in document["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)), "operation ids are unique"
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id), operation_id
        assert "core_api" not in operation_id
    assert {"getRun", "runAction", "listRuns", "startWorkflowRun"} <= set(ids)


def test_every_error_is_documented_in_the_error_shape(client):
    document = client.get("/api/v1/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if s >= "400"}
            assert {"401", "404", "422", "429"} <= set(errors), (method, path)
            if method != "get":
                assert "403" in errors, f"{method} {path}: a viewer key's 403"
            for response in errors.values():
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


def test_docs_page_loads_swagger_from_our_static_files(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_every_schema_of_the_api_has_a_name_of_its_own():
    """The OpenAPI document names components by class name: two schemas of one name
    would make one of them describe the other's answers."""
    import importlib
    import inspect
    import pkgutil

    from ninja import Schema

    import core.api

    owners = {}
    for module_info in pkgutil.iter_modules(core.api.__path__):
        module = importlib.import_module(f"core.api.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and cls.__module__ == module.__name__:
                owners.setdefault(name, set()).add(module.__name__)
    assert {name: mods for name, mods in owners.items() if len(mods) > 1} == {}

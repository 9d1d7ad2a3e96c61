"""The OpenAPI document and the browsable docs, served without any CDN."""

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document_lists_every_endpoint(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/actions",
        "/api/v1/actions/{name}/run",
        "/api/v1/workflows/{slug}",
        "/api/v1/workflows/{slug}/runs",
        "/api/v1/workflows/{slug}/triggers",
        "/api/v1/workflows/{slug}/triggers/{trigger_id}",
        "/api/v1/workflows/{slug}/triggers/{trigger_id}/deliveries",
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/rerun",
        "/api/v1/runs/{run_id}/cancel",
        "/api/v1/secrets",
        "/api/v1/secrets/{name}",
    }
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"


def test_docs_page_loads_swagger_from_our_static_files(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()

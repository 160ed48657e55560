"""The OpenAPI document is generated from the code, is valid OpenAPI 3, and
describes every admin endpoint with its schemas and the bearer scheme."""

from __future__ import annotations

from openapi_spec_validator import validate


def _spec(http):
    response = http.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def test_openapi_document_is_valid(http):
    validate(_spec(http))


def test_every_admin_route_is_documented(app, http):
    spec = _spec(http)
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.rule != "/api/v1/openapi.json":
            path = rule.rule.replace("<", "{").replace(">", "}")
            routes |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes


def test_bearer_scheme_everywhere_but_login(http):
    spec = _spec(http)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    secured = [
        op
        for path, item in spec["paths"].items()
        if path not in {"/api/v1/auth/login", "/api/v1/export-failures"}
        for name, op in item.items()
        if name != "parameters"
    ]
    assert secured and all("security" not in op for op in secured)
    assert all(
        op["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"} for op in secured
    )


def test_requests_refuse_unknown_fields_and_errors_are_problems(http):
    spec = _spec(http)
    schemas = spec["components"]["schemas"]
    for name in (
        "ClientCreate",
        "RotateSecret",
        "AssignmentCreate",
        "AssignmentUpdate",
        "AdministratorAdd",
        "Login",
    ):
        assert schemas[name]["additionalProperties"] is False, name
    assert list(spec["components"]["responses"]["DEFAULT_ERROR"]["content"]) == [
        "application/problem+json"
    ]
    assert schemas["Problem"]["required"] == ["detail", "status", "title", "type"]
    assert "client_secret" in schemas["ClientCreated"]["properties"]
    assert "client_secret" not in schemas["Client"]["properties"]


def test_the_event_cursor_is_capped_at_the_largest_event_id(http):
    spec = _spec(http)
    (before,) = [
        p
        for p in spec["paths"]["/api/v1/clients/{client_id}/events"]["get"]["parameters"]
        if p["name"] == "before"
    ]
    assert (before["schema"]["minimum"], before["schema"]["maximum"]) == (1, 2**31 - 1)


def test_the_user_look_up_documents_its_refusals(http):
    responses = _spec(http)["paths"]["/api/v1/users"]["get"]["responses"]
    assert {"401", "403", "404", "422"} <= set(responses)


def test_validation_errors_and_the_client_settings_are_documented(http):
    spec = _spec(http)
    schemas = spec["components"]["schemas"]
    errors = schemas["Problem"]["properties"]["errors"]
    assert errors["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert schemas["FieldError"]["required"] == ["field", "message"]
    assert schemas["ClientUpdate"]["additionalProperties"] is False
    assert set(schemas["ClientUpdate"]["properties"]) == {
        "name",
        "description",
        "contacts",
        "access_token_lifetime",
    }
    assert schemas["ClientUpdate"]["properties"]["name"]["maxLength"] == 100
    patch = spec["paths"]["/api/v1/clients/{client_id}"]["patch"]
    assert set(patch["responses"]) >= {"200", "401", "404", "422"}
    assert schemas["Secret"]["required"] == ["created_at", "expires_at", "last_used_at"]


def test_every_operation_with_a_body_documents_the_size_limit(http):
    spec = _spec(http)
    with_body = [
        (method, path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method != "parameters" and "requestBody" in op
    ]
    assert len(with_body) == 11
    for method, path in with_body:
        responses = spec["paths"][path][method]["responses"]
        assert responses["413"] == {"$ref": "#/components/responses/REQUEST_ENTITY_TOO_LARGE"}
    assert "413" not in spec["paths"]["/api/v1/clients"]["get"]["responses"]
    assert "16 KiB" in spec["info"]["description"]

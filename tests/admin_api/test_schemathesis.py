"""A bounded property-based run of schemathesis against openapi.json: for
generated requests to every admin operation, valid ones and invalid ones,
no 5xx, and every answer conforms to the document (status, content type,
schema); invalid data is refused with a 4xx (negative_data_rejection, on for
every operation).

(Driven through Hypothesis directly: schemathesis's pytest plugin does not
run on pytest 9.)
"""

from __future__ import annotations

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from authserver.services import admin_login, audit, clients

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: The answers that count as refusing an invalid request: schemathesis's own
#: list (4.32: 400, 401, 403, 404, 405, 406, 409, 415, 422, 428, 429, 5xx) and
#: 413. Schemathesis' list has no 413, so a generated body that is invalid *and*
#: over MAX_CONTENT_LENGTH (16 KiB: long strings of non-ASCII characters, sent
#: as \uXXXX escapes), refused with 413 before it is parsed, was reported as
#: "ST201 Schema-violating request accepted" ("ST201" is the check's code, not
#: a status). That was the false alarm on the keys, jwks-uri and organizations
#: operations; it came and went with the generated sizes. Every operation
#: with a body documents the 413 (admin_api/base.py).
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428"]
REFUSALS += ["429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}},
        # The test sends the credentials itself (valid ones, over whatever was
        # generated); a generated Authorization header never reaches the app.
        # Generated anyway, schemathesis would count a negated (dropped) one
        # as part of an invalid request that the app then "accepted".
        "generation": {"with-security-parameters": False},
    }
)
#: examples per operation and mode: 24 operations x 2 modes x 15 = 720 requests at most
EXAMPLES = 15


@pytest.fixture
def world(directory, app):
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    directory.user("ben@example.com")
    token, _ = app.extensions[admin_login.EXTENSION].issue_token(anna)
    gateway = clients.create_gateway("export-service", audit.CLI)
    basic = base64.b64encode(f"{gateway.client.client_id}:{gateway.client_secret}".encode())
    return {
        "anna": anna,
        "headers": {"Authorization": f"Bearer {token}"},
        "gateway": {"Authorization": f"Basic {basic.decode()}"},
    }


def _fresh_client(world):
    """A client of Anna's for the next operation (the last one may have deleted it)."""
    for client in clients.list_clients(world["anna"]):
        clients.delete_client(world["anna"], client.client_id, audit.CLI)
    return clients.create_client(world["anna"], "400100", audit.CLI).client.client_id


def _operations(app):
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    return [result.ok() for result in api.get_all_operations()]


def test_every_operation_is_fuzzed(app):
    labels = {op.label for op in _operations(app)}
    assert len(labels) == 24
    assert "DELETE /api/v1/clients/{client_id}/administrators/{email}" in labels


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_admin_api_conforms_to_its_openapi_document(app, world, mode):
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
    for operation in _operations(app):
        names = {p.name for p in operation.path_parameters}
        # reach past the 404 of an unknown client: use a real one
        fixed = {"client_id": _fresh_client(world)} if "client_id" in names else None
        # the Export service's report takes API gateway credentials
        gateway = operation.label == "POST /api/v1/export-failures"
        headers = world["gateway"] if gateway else world["headers"]

        try:
            _fuzz(operation, mode, fixed, headers, checks)
        except Unsatisfiable:
            # Nothing of this request can be made invalid (no body, no query,
            # a fixed or unconstrained path; the credentials are the test's):
            # no negative case to send.
            assert mode is GenerationMode.NEGATIVE, operation.label
            assert not operation.body and not operation.query, operation.label


def _fuzz(operation, mode, fixed, headers, checks):
    @given(case=operation.as_strategy(mode, path_parameters=fixed))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    run()

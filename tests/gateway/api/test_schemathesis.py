"""Property-based checks of the whole REST API against its own OpenAPI document (schemathesis): no 5xx,
every status documented, every body matching its schema. The gateway runs under uvicorn in a thread of
its own (schemathesis calls are blocking), on the real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from ayka.runtime.process import free_port
from gateway.app import create_app
from tests.gateway.api.fixtures import PASSWORD, make_settings

EXAMPLES_PER_OPERATION = 12


class ServerThread:
    """uvicorn with its own event loop (and so its own NATS/PostgreSQL connections) in a thread."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            if not self.thread.is_alive():
                raise RuntimeError("the gateway did not start")
            threading.Event().wait(0.02)
        raise RuntimeError("the gateway did not start in 10 s")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture(scope="module")
def base_url(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str, nc: Any
) -> Iterator[str]:
    port = free_port()
    app_settings = make_settings(
        Path(tmp_path_factory.mktemp("schemathesis")), database_url, nats_url, host="127.0.0.1", port=port
    )
    with ServerThread(create_app(app_settings, web_dir=None), port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def auth_headers(base_url: str) -> dict[str, str]:
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    response = httpx.post(f"{base_url}/v1/auth/signup", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # The REST API (health probes are the lead's, tested with the platform). Erasing the fuzzing
    # account would turn every later case into a 401.
    return schema.include(path_regex="^/v1/").exclude(method="DELETE", path="/v1/users/me")


def test_api_conforms_to_its_schema(
    api_schema: schemathesis.BaseSchema, auth_headers: dict[str, str]
) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case[Any]) -> None:
            # positive_data_acceptance wants every schema-valid input accepted; some valid-looking inputs
            # are refused on purpose (reserved email domains, forged cursors, SDP without audio).
            case.call_and_validate(
                headers=auth_headers, timeout=10, excluded_checks=[checks.positive_data_acceptance]
            )

        try:
            check()
        except BaseException as exc:  # collect every operation's failure, then report them together
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 40
    assert not failures, "\n\n".join(failures)

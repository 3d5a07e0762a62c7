"""The cluster API against its own OpenAPI schema (schemathesis, bounded), plus the
details a client relies on: 405 answers carry Allow, docs work offline, /metrics."""

from __future__ import annotations

import pytest
import schemathesis
from cluster_helpers import fs_config
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from proofmarket.cluster.api import ApiContext, ApiSettings, create_app
from proofmarket.cluster.taskdb import open_taskdb


@pytest.fixture
def api(tmp_path):
    config = fs_config(tmp_path)
    ctx = ApiContext(
        open_taskdb(config.database_url),
        config.open_object_store(),
        ApiSettings(limits=config.limits, max_input_bytes=4096, max_image_bytes=4096),
    )
    app = create_app(ctx)
    yield app
    ctx.taskdb.close()


@pytest.fixture
def api_schema(api):
    # /snark answers 501 (no SNARK wrapper yet), which schemathesis counts as a server
    # error; test_schema_declares_real_codes_and_id_formats checks it is documented
    return schemathesis.openapi.from_asgi("/openapi.json", api)


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex="^/snark/")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_route_keeps_to_its_schema(case) -> None:
    """No 500, only documented status codes, bodies that match their schemas.

    ``positive_data_acceptance`` is left out: a schema cannot say that an upload must be
    a loadable ELF whose image ID is the one in the path, so random bytes get a 400.
    """
    excluded = [positive_data_acceptance]
    if case.path == "/inputs/upload":
        # DELETE /inputs/upload is DELETE /inputs/{input_id} with the id "upload": a 400
        # (not a UUID), not the 405 a path with no DELETE would give
        excluded.append(unsupported_method)
    case.call_and_validate(excluded_checks=excluded)


def test_schema_declares_real_codes_and_id_formats(api) -> None:
    paths = api.openapi()["paths"]
    status = paths["/sessions/status/{job_id}"]["get"]
    assert {"200", "400", "404"} <= set(status["responses"])
    assert "422" not in status["responses"]
    assert status["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
    upload = paths["/images/upload/{image_id}"]["put"]
    assert {"204", "413"} <= set(upload["responses"])
    assert "pattern" in upload["parameters"][0]["schema"]
    assert "501" in paths["/snark/create"]["post"]["responses"]


def test_405_lists_every_allowed_method(api) -> None:
    client = TestClient(api)
    answer = client.delete("/images/upload/" + "ab" * 32)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, PUT"
    assert answer.json()["type"] == "MethodNotAllowed"


def test_docs_are_served_without_a_cdn(api) -> None:
    client = TestClient(api)
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn" not in html.lower() and "https://" not in html.split("<body")[0]
    assets = [a for a in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js")]
    for asset in assets:
        assert client.get(f"/static-offline-docs/{asset}").status_code == 200


def test_metrics_count_jobs_tasks_and_agents(api) -> None:
    db = api.state.ctx.taskdb
    stream = db.get_or_create_stream("user", "exec")
    db.create_job(stream, {"Executor": {}}, 0, 30, "user")
    db.register_worker("exec-1", "exec", "host")
    text = TestClient(api).get("/metrics").text
    assert 'proofmarket_cluster_jobs{state="running"} 1.0' in text
    assert 'proofmarket_cluster_queue_ready{worker_type="exec"} 1.0' in text
    assert 'proofmarket_cluster_agents{worker_type="exec"} 1.0' in text
    assert "proofmarket_cluster_proven_cycles_per_second 0.0" in text


def test_grafana_dashboard_uses_only_exported_metrics(api) -> None:
    import json
    import re
    from pathlib import Path

    dashboard = Path(__file__).parents[2] / "docs" / "grafana" / "cluster-dashboard.json"
    exprs = [t["expr"] for p in json.loads(dashboard.read_text())["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"proofmarket_cluster_\w+", e)}
    exported = set(re.findall(r"^# TYPE (\w+)", TestClient(api).get("/metrics").text, re.M))
    assert used and used <= exported, used - exported

"""The HTTP API in-process (FastAPI's TestClient): roles on every route, scenarios, runs and
comparisons, live ingest with field-naming errors, scopes, forecast, the WebSocket stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.conftest import FIXTURES
from tests.live.helpers import envelopes, scenario_file
from twin.keys import ROLES, KeyStore


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-home")


@pytest.fixture(scope="module")
def keys(home: Path) -> dict[str, str]:
    store = KeyStore(home / "keys.sqlite")
    out = {role: store.create(role)[0] for role in ROLES}
    out["scoped"] = store.create("operator", scope="small-site/elsewhere")[0]
    return out


@pytest.fixture(scope="module")
def client(home: Path, keys: dict[str, str]) -> Iterator[TestClient]:
    live = scenario_file(home)
    app = create_app(Settings(home=home, live_scenario=live, max_ahead_hours=None, window_hours=6.0))
    with TestClient(app) as c:
        yield c


def h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def wait_done(client: TestClient, url: str, key: str) -> dict[str, Any]:
    for _ in range(600):
        doc = client.get(url, headers=h(key)).json()
        if doc["status"] != "running":
            return dict(doc)
        time.sleep(0.05)
    raise AssertionError(f"{url} still running")


def test_every_route_refuses_a_missing_key_and_a_too_low_role(client: TestClient, keys: dict[str, str]) -> None:
    spec = client.get("/openapi.json").json()
    walked = 0
    for path, ops in spec["paths"].items():
        url = path.replace("{run_id}", "x").replace("{cmp_id}", "x").replace("{lot}", "1")
        for method, op in ops.items():
            minimum = op.get("x-min-role")
            assert minimum in ROLES, f"{method.upper()} {path} declares no role"
            assert client.request(method, url).status_code == 401, f"{method} {path} without a key"
            assert client.request(method, url, headers=h("lems_nope_nope")).status_code == 401
            if minimum != "viewer":
                lower = ROLES[ROLES.index(minimum) - 1]
                r = client.request(method, url, headers=h(keys[lower]))
                assert r.status_code == 403, f"{method} {path} with a {lower} key: {r.status_code}"
            walked += 1
    assert walked >= 15


def test_scenarios_upload_validate_and_list(client: TestClient, keys: dict[str, str]) -> None:
    site = (FIXTURES / "site_small.yaml").read_text()
    base = (FIXTURES / "baseline.yaml").read_text()
    assert client.post("/scenarios", json={"name": "site_small.yaml", "text": site, "kind": "site"},
                       headers=h(keys["planner"])).status_code == 201
    r = client.post("/scenarios", json={"name": "base.yaml", "text": base}, headers=h(keys["planner"]))
    assert r.status_code == 201
    bad = base.replace("service_level: 0.95", "service_level: 1.2")
    r = client.post("/scenarios", json={"name": "bad.yaml", "text": bad}, headers=h(keys["planner"]))
    assert r.status_code == 422
    problem = r.json()["detail"]["problems"][0]
    assert problem.startswith("bad.yaml:11: policies.inventory.params.service_level"), problem
    r = client.post("/scenarios/validate", json={"name": "bad.yaml", "text": bad}, headers=h(keys["viewer"]))
    assert r.json()["valid"] is False
    listed = client.get("/scenarios", headers=h(keys["viewer"])).json()
    assert "base.yaml" in listed and "bad.yaml" not in listed


def test_run_and_comparison_in_the_background(client: TestClient, keys: dict[str, str]) -> None:
    test_scenarios_upload_validate_and_list(client, keys)
    r = client.post("/runs", json={"scenario": "base.yaml", "replications": 2, "horizon": "15d"},
                    headers=h(keys["planner"]))
    assert r.status_code == 202
    run_id = r.json()["id"]
    done = wait_done(client, f"/runs/{run_id}", keys["viewer"])
    assert done["status"] == "done" and done["done"] == 2
    results = client.get(f"/runs/{run_id}/results", headers=h(keys["viewer"])).json()
    assert "fill_rate" in results["summary"]
    assert any(x["id"] == run_id for x in client.get("/runs", headers=h(keys["viewer"])).json())

    r = client.post("/comparisons", json={"scenarios": ["base.yaml", "base.yaml"], "replications": 2},
                    headers=h(keys["planner"]))
    cmp_id = r.json()["id"]
    assert wait_done(client, f"/comparisons/{cmp_id}", keys["viewer"])["status"] == "done"
    report = client.get(f"/comparisons/{cmp_id}/report", headers=h(keys["viewer"]))
    assert report.status_code == 200 and report.text.lstrip().lower().startswith("<!doctype html")
    assert client.get("/runs/nope", headers=h(keys["viewer"])).status_code == 404
    r = client.post("/runs", json={"scenario": "base.yaml", "horizon": "15 parsecs"}, headers=h(keys["planner"]))
    assert r.status_code == 422 and "horizon" in r.text


def test_cancel_a_run(client: TestClient, keys: dict[str, str]) -> None:
    test_scenarios_upload_validate_and_list(client, keys)
    r = client.post("/runs", json={"scenario": "base.yaml", "replications": 200}, headers=h(keys["planner"]))
    run_id = r.json()["id"]
    client.post(f"/runs/{run_id}/cancel", headers=h(keys["planner"]))
    done = wait_done(client, f"/runs/{run_id}", keys["viewer"])
    assert done["status"] == "cancelled" and done["done"] < 200
    assert client.get(f"/runs/{run_id}/results", headers=h(keys["viewer"])).status_code == 409


def test_live_events_state_errors_scope_audit_trace_forecast_stream(client: TestClient, keys: dict[str, str]) -> None:
    envs, out = envelopes(days=5)
    op = h(keys["operator"])
    with client.websocket_connect(f"/twin/stream?key={keys['viewer']}") as ws:
        first = ws.receive_json()
        assert first["type"] in ("state", "jobs")
        r = client.post("/twin/events", json=envs[:200], headers=op)
        assert r.status_code == 200 and r.json()["accepted"] == 200
        assert client.post("/twin/events", json=envs[0], headers=op).json()["duplicates"] == 1
        for _ in range(20):
            msg = ws.receive_json()
            if msg["type"] == "state" and msg["counts"]["accepted"] >= 200:
                break
        else:
            raise AssertionError("no state change streamed")
    assert client.post("/twin/events", json=envs[200:], headers=op).status_code == 200
    assert client.post("/twin/flush", headers=op).status_code == 200
    state = client.get("/twin/state", headers=h(keys["viewer"])).json()
    want = {(s.item, s.location): s.on_hand for s in out.state.skus.values()}
    assert {(s["item"], s["location"]): s["on_hand"] for s in state["skus"]} == want

    bad = dict(envs[-1], id="bad-1", payload=dict(envs[-1]["payload"], location="nowhere"))
    r = client.post("/twin/events", json=[bad], headers=op)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "payload.location"
    r = client.post("/twin/events", content=b"{not json", headers={**op, "Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.post("/twin/events", json={"id": "x", "t": 1, "type": "GoodsReceived", "payload": {}, "oops": 1},
                    headers=op)
    assert r.status_code == 422 and "oops" in r.text
    r = client.post("/twin/events", json=envs[:3], headers=h(keys["scoped"]))
    assert r.status_code == 403 and "scope" in r.text
    letters = client.get("/twin/dead-letters", headers=op).json()
    assert letters["counts"]["ingest"] >= 1

    audit = client.get("/twin/audit", headers=h(keys["admin"])).json()
    assert audit["ok"] and audit["events"] == len(envs)
    lot = next(e["payload"]["lot"] for e in envs if e["type"] == "GoodsReceived")
    assert client.get(f"/twin/trace/{lot}", headers=h(keys["viewer"])).json()["lot"] == lot
    assert client.get("/twin/trace/999999", headers=h(keys["viewer"])).status_code == 404

    r = client.post("/twin/forecast", json={"horizon": "72h", "replications": 2, "overlay": {
        "disruptions": [{"at": "1h", "kind": "supplier_outage", "supplier": "medsupply", "duration": "3d"}]}},
        headers=h(keys["planner"]))
    assert r.status_code == 202, r.text
    done = wait_done(client, f"/runs/{r.json()['id']}", keys["viewer"])
    assert done["status"] == "done"
    r = client.post("/twin/forecast", json={"horizon": "72h", "overlay": {"disruptions": [{"kind": "meteor"}]}},
                    headers=h(keys["planner"]))
    assert r.status_code == 422 and "disruptions" in r.text


def test_keys_are_stored_hashed_and_can_be_revoked(tmp_path: Path) -> None:
    import sqlite3

    store = KeyStore(tmp_path / "keys.sqlite")
    key, rec = store.create("planner", scope="small-site/main")
    assert store.check(key) == rec and rec.warehouse == "main"
    with sqlite3.connect(tmp_path / "keys.sqlite") as conn:
        blob = b"".join(bytes(v) if isinstance(v, bytes) else str(v).encode() for v in conn.execute(
            "SELECT * FROM api_keys").fetchone())
    assert key.split("_", 2)[2].encode() not in blob
    assert KeyStore(tmp_path / "keys.sqlite").revoke(rec.key_id)
    assert KeyStore(tmp_path / "keys.sqlite").check(key) is None
    assert store.check(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    with pytest.raises(Exception, match="unknown role"):
        store.create("superuser")

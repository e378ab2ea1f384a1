"""`twin view --live` (issue 8): the view attached to a real `twin serve` (uvicorn) over its WebSocket
draws what is posted to the twin over HTTP. Headless (SDL_VIDEODRIVER=dummy)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from typer.testing import Result

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from tests.conftest import ROOT  # noqa: E402
from tests.live.helpers import payload, server  # noqa: E402
from twin.keys import KeyStore  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402
from twin.sim.engine import run_replication  # noqa: E402
from visual.app import ViewApp  # noqa: E402
from visual.frames import surface_rgb  # noqa: E402
from visual.live import LiveError, LiveFeed, LiveScene, stream_url  # noqa: E402
from visual.render import ALARM, Renderer, fill_colour  # noqa: E402

STORE = ROOT / "scenarios" / "floor" / "store.yaml"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], list[dict[str, Any]]]]:
    """A real server running the floor store live (its policies in shadow mode), its keys, and a day
    of the store's events."""
    home = tmp_path_factory.mktemp("live-view")
    store = KeyStore(home / "keys.sqlite")
    keys = {role: store.create(role)[0] for role in ("viewer", "operator")}
    sc = load_scenario(STORE)
    out = run_replication(sc, sc.seed, 0, 24.0)
    envs = [{"id": f"sim-{k}", "t": e.t, "n": k, "source": "sim", "type": type(e).__name__, "payload": payload(e)}
            for k, e in enumerate(out.log.events)]
    with server(home, STORE, "--window", "0h", "--shadow") as (url, _):
        yield url, keys, envs


def _post(url: str, keys: dict[str, str], envs: list[dict[str, Any]]) -> dict[str, Any]:
    op = {"X-API-Key": keys["operator"]}
    r = httpx.post(url + "/twin/events", json=envs, headers=op, timeout=60)
    assert r.status_code == 200, r.text
    httpx.post(url + "/twin/flush", headers=op, timeout=60)
    state = httpx.get(url + "/twin/state", headers={"X-API-Key": keys["viewer"]}, timeout=30).json()
    return dict(state)


def test_the_live_view_draws_the_stock_posted_to_the_twin(live: Any) -> None:
    url, keys, envs = live
    scene = LiveScene(load_scenario(STORE))
    with LiveFeed(url, keys["viewer"]) as feed:
        assert feed.wait(scene, lambda s: s.messages > 0)
        first = _post(url, keys, envs[: len(envs) // 2])
        assert feed.wait(scene, lambda s: s.version >= first["version"])
        want = {(s["item"], s["location"]): s["on_hand"] for s in first["skus"]}
        assert want and {k: scene.on_hand(*k)[0] for k in want} == want
        later = _post(url, keys, envs[len(envs) // 2:])
        assert later["version"] > first["version"]
        assert feed.wait(scene, lambda s: s.version >= later["version"])
    now = {(s["item"], s["location"]): s["on_hand"] for s in later["skus"]}
    assert {k: scene.on_hand(*k)[0] for k in now} == now
    assert any(now[k] != want[k] for k in now)  # the picks and receipts moved stock
    assert scene.clock == pytest.approx(later["clock"])
    # What is drawn: each stocked bin in the colour of its stock against the most seen.
    wh = "store"
    snap = scene.floor(wh)
    expect = np.full(len(snap.bins), np.nan)
    for b, items in enumerate(scene.bin_items[wh]):
        if items:
            expect[b] = np.mean([min(now[(i, wh)] / scene.peak[(i, wh)], 1.0) for i in items])
    np.testing.assert_allclose(snap.fill, expect)
    assert np.nanmin(snap.fill) < 1.0  # some bin has been picked down since it was seen fuller
    r = Renderer((1100, 700))
    rgb = surface_rgb(r.draw_floor(snap))
    colours = fill_colour(expect)
    for b, cell in enumerate(snap.bins):
        x, y = r.cell_centre(*cell)
        assert tuple(rgb[y, x]) == tuple(colours[b])
    # The window's controls work on the live scene: inspecting a bin shows its live stock.
    app = ViewApp(scene, Renderer((1100, 700)))  # type: ignore[arg-type]
    app.t = scene.clock
    app.draw()
    b = next(k for k, items in enumerate(scene.bin_items[wh]) if items)
    item = scene.bin_items[wh][b][0]
    app.click(app.renderer.cell_centre(*snap.bins[b]))
    assert app.selected.startswith(f"bin {snap.bins[b][0]},{snap.bins[b][1]}: ")
    assert f"{item}={now[(item, wh)]:g}" in app.selected


def test_view_live_writes_a_frame_and_refuses_a_bad_key_or_site(live: Any, tmp_path: Path,
                                                                 cli: Callable[..., Result]) -> None:
    url, keys, _ = live
    res = cli("view", STORE, "--live", url, "--key", keys["viewer"], "--frames", tmp_path / "f")
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "f").glob("live-*.png"))) == 1
    res = cli("view", STORE, "--live", url, "--key", "not-a-key", "--frames", tmp_path / "g")
    assert res.exit_code == 1 and "refused the connection" in res.output and "Traceback" not in res.output
    other = ROOT / "scenarios" / "field" / "baseline.yaml"
    res = cli("view", other, "--live", url, "--key", keys["viewer"], "--frames", tmp_path / "h")
    assert res.exit_code == 1 and "the live twin runs site 'floor-store'" in res.output
    res = cli("view", "--live", url, "--frames", tmp_path / "i")
    assert res.exit_code == 1 and "needs the SCENARIO file" in res.output


def test_stream_address_and_an_unreachable_twin() -> None:
    assert stream_url("http://127.0.0.1:8000", "k y") == "ws://127.0.0.1:8000/twin/stream?key=k%20y"
    assert stream_url("https://twin.example/api/", None) == "wss://twin.example/api/twin/stream"
    with pytest.raises(LiveError, match="expected a URL"):
        stream_url("ftp://x", None)
    from tests.live.helpers import free_port

    with pytest.raises(LiveError, match="cannot reach the live twin"):
        LiveFeed(f"http://127.0.0.1:{free_port()}", None, open_timeout=2.0).start()


def test_the_live_view_marks_the_twins_alerts_and_lists_its_recommendations(live: Any) -> None:
    url, keys, envs = live
    scene = LiveScene(load_scenario(STORE))
    with LiveFeed(url, keys["viewer"]) as feed:
        assert feed.wait(scene, lambda s: s.messages > 0)
        state = _post(url, keys, envs)  # (the twin may hold them already: then nothing changes)
        assert feed.wait(scene, lambda s: s.version >= state["version"])
        # A cycle count far off the twin's book: the twin raises a stock_count alert on the stream.
        sku = max(state["skus"], key=lambda s: s["on_hand"])
        item, wh, book = sku["item"], sku["location"], float(sku["on_hand"])
        count = {"id": f"count-{item}-{len(scene.alerts)}", "t": state["clock"] + 0.01, "source": "wms",
                 "type": "StockCounted", "payload": {"item": item, "location": wh, "book": book,
                                                     "counted": 0.0, "duration": 0.1}}
        _post(url, keys, [count])
        assert feed.wait(scene, lambda s: any(a["cause"] == count["id"] for a in s.alerts))
        # The count set the book to nothing: at its next review (shadow mode) the store's policy
        # recommends an order of the item, and the stream carries it. A recount of nothing moves
        # the twin's clock there.
        viewer = {"X-API-Key": keys["viewer"]}
        review = httpx.get(url + "/twin/recommendations", headers=viewer, timeout=30).json()["policies"][0]
        recount = {**count, "id": f"{count['id']}-again", "t": review["next_review"] + 0.1,
                   "payload": {**count["payload"], "book": 0.0}}
        _post(url, keys, [recount])
        assert feed.wait(scene, lambda s: any(r.get("item") == item for r in s.recommendations), timeout=30)
    alert = next(a for a in scene.alerts if a["cause"] == count["id"])
    assert (alert["kind"], alert["subject"]) == ("stock_count", f"{item}@{wh}")
    # On the map: a marker at the warehouse; on its floor: a frame round each bin of the item.
    net = scene.network()
    assert (wh, *scene.map.positions[wh], f"stock_count alert {item}@{wh}: 0 vs {alert['expected']:g}") \
        in net.alarms
    r = Renderer((1100, 700))
    surf = r.draw_network(net)
    x, y = r.map_point(*scene.map.positions[wh])
    assert tuple(surface_rgb(surf)[y - 28, x]) == ALARM
    snap = scene.floor(wh)
    cells = [b for b, items in zip(snap.bins, scene.bin_items[wh], strict=True) if item in items]
    assert cells and sorted((r_, c_) for r_, c_, _ in snap.alarms) == sorted(cells)
    rgb = surface_rgb(r.draw_floor(snap))
    for cell in cells:
        cx, cy = r.cell_centre(*cell)
        edge = max(int(r.cell_px(snap.kinds.shape) * 0.5), 3)
        assert tuple(rgb[cy - edge, cx]) == ALARM  # the frame's top edge
        assert tuple(rgb[cy, cx]) != ALARM  # the bin keeps its fill colour inside
    # The side panel lists the latest alert and the latest recommendation.
    panel = scene.panel()
    assert panel[f"alert #{alert['index']}"].endswith(f"stock_count {item}@{wh} 0 vs {alert['expected']:g}")
    rec = next(r for r in scene.recommendations if r.get("item") == item)
    assert (rec["action"], rec["location"]) == ("PlaceOrder", wh)
    assert panel[f"advice #{rec['index']}"].startswith(f"{rec['policy']}: PlaceOrder {item} {wh} x")

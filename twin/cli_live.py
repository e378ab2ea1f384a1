"""`twin serve`, `twin live`, `twin keys`, `twin audit verify`, `twin trace`: faces over the HTTP API,
the live twin, the key store and the event store (no logic lives here)."""

from __future__ import annotations

import gc
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from twin.cli_common import err, out
from twin.cli_common import fail as _fail
from twin.errors import TwinError

__all__ = ["mount"]


keys_app = typer.Typer(no_args_is_help=True, help="API keys with roles (viewer < planner < operator < admin).")
audit_app = typer.Typer(no_args_is_help=True, help="Prove the live event store was not altered.")

HomeOption = Annotated[Path | None, typer.Option("--home", help="folder of keys, registry, uploads "
                                                              "(default: $TWIN_HOME or ./.twin)")]
DbOption = Annotated[Path | None, typer.Option("--db", help="live event store (default: HOME/events.sqlite)")]



def _home(home: Path | None) -> Path:
    from twin.store import default_home

    return home if home is not None else default_home()


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="viewer | planner | operator | admin")],
    scope: Annotated[str | None, typer.Option(help="SITE or SITE/WAREHOUSE the key is limited to")] = None,
    name: Annotated[str, typer.Option(help="who or what holds the key")] = "",
    home: HomeOption = None,
) -> None:
    """Create a key; it is printed once (only its hash is stored)."""
    from twin.keys import KeyStore

    try:
        key, rec = KeyStore(_home(home) / "keys.sqlite").create(role, scope, name)
    except TwinError as exc:
        _fail(str(exc))
    sys.stdout.write(key + "\n")
    err.print(f"key {rec.key_id}: role {rec.role}" + (f", scope {rec.scope}" if rec.scope else ""))


@keys_app.command("list")
def keys_list(home: HomeOption = None) -> None:
    from twin.keys import KeyStore

    for rec, revoked in KeyStore(_home(home) / "keys.sqlite").list():
        out.print(f"{rec.key_id}  {rec.role:9} {rec.scope or '-':20} {rec.created}  {rec.name}"
                  + ("  (revoked)" if revoked else ""), highlight=False)


@keys_app.command("revoke")
def keys_revoke(key_id: str, home: HomeOption = None) -> None:
    from twin.keys import KeyStore

    if not KeyStore(_home(home) / "keys.sqlite").revoke(key_id):
        _fail(f"no key {key_id!r} (see `twin keys list`)")
    out.print(f"key {key_id} revoked")


def _store(home: Path | None, db: Path | None):  # type: ignore[no-untyped-def]
    from twin.event_store import EventStore

    path = db if db is not None else _home(home) / "events.sqlite"
    if not path.is_file():
        _fail(f"no event store at {path}")
    return EventStore(path)


@audit_app.command("verify")
def audit_verify(home: HomeOption = None, db: DbOption = None) -> None:
    """Walk the hash chain: exit 0 if no recorded event was altered or removed, else 1."""
    try:
        report = _store(home, db).verify()
    except TwinError as exc:
        _fail(str(exc))
    for problem in report.problems:
        err.print(problem, highlight=False)
    if not report.ok:
        _fail(f"event store NOT intact: {len(report.problems)} problem(s) in {report.events} event(s)")
    out.print(f"intact: {report.events} event(s), head {report.head}", highlight=False)


def trace(
    lot: Annotated[int, typer.Argument(help="lot number")],
    item: Annotated[str | None, typer.Option(help="item, when lot numbers repeat across items")] = None,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """Where a lot came from (receipt, purchase order, supplier) and where it went (orders, shipments)."""
    from twin.live import stored_event
    from twin.lot_trace import trace_lot

    try:
        store = _store(home, db)
        result = trace_lot(((se.id, stored_event(se)) for se in store.events()), lot, item)
    except (TwinError, ValueError) as exc:
        _fail(str(exc))
    if not result.found:
        _fail(f"no event names lot {lot}" + (f" of item {item!r}" if item else ""))
    sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")


def _settings(home: Path | None, db: Path | None, live: Path | None, workers: int, window: str,
              max_ahead: str, alerts: str = "on"):  # type: ignore[no-untyped-def]
    from api.settings import Settings
    from twin.live_alerts import AlertThresholds, parse_thresholds
    from twin.model.durations import parse_duration

    try:
        thresholds = AlertThresholds() if alerts == "on" else parse_thresholds(alerts)
        return Settings(home=_home(home), events_db=db, live_scenario=live, workers=workers,
                        window_hours=parse_duration(window), max_ahead_hours=parse_duration(max_ahead),
                        alerts=thresholds)
    except ValueError as exc:
        _fail(str(exc))


AlertsOption = Annotated[str, typer.Option(help="discrepancy alert thresholds: 'on' (defaults), 'off', or "
                                                "e.g. 'count_units=5,temperature=3,arrival_hours=12'")]
ShadowOption = Annotated[bool, typer.Option("--shadow", help="shadow mode: run the scenario's policies on the "
                                                             "live state and publish what they recommend")]


def _start_shadow(twin, mqtt: str | None, api: bool):  # type: ignore[no-untyped-def]
    from twin.live_mqtt import parse_host_port
    from twin.live_shadow import MqttPublisher, ShadowRunner

    sinks: list[Any] = []
    try:
        if mqtt:
            host, port = parse_host_port(mqtt)
            sinks.append(MqttPublisher(host, port, twin.scenario.site.name))
        shadow = ShadowRunner(twin, sinks)
    except (TwinError, OSError) as exc:
        _fail(f"shadow mode: {exc}")
    shadow.start()
    where = [w for w, on in (("GET /twin/recommendations", api),
                             (f"lems/{twin.scenario.site.name}/recommendations", bool(mqtt))) if on]
    err.print(f"shadow mode: policies {', '.join(p.name for p in shadow.policies)}; recommendations to "
              + " and ".join(where))
    return shadow


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    db: DbOption = None,
    home: HomeOption = None,
    live: Annotated[Path | None, typer.Option(help="scenario whose site the live twin mirrors")] = None,
    mqtt: Annotated[str | None, typer.Option(help="also ingest from an MQTT broker HOST:PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, help="processes per run")] = 1,
    window: Annotated[str, typer.Option(help="out-of-order window (event time)")] = "15min",
    max_ahead: Annotated[str, typer.Option(help="how far ahead of the clock an event may be stamped")] = "1h",
    alerts: AlertsOption = "on",
    shadow: ShadowOption = False,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs); with --live, the live twin too."""
    import uvicorn

    from api.main import create_app

    settings = _settings(home, db, live, workers, window, max_ahead, alerts)
    # Hand the GIL over more often: state queries stay quick while a worker thread ingests a batch.
    sys.setswitchinterval(0.001)
    app = create_app(settings)
    ingest = None
    if mqtt:
        if live is None:
            _fail("--mqtt needs --live SCENARIO (the site the events are about)")
        ingest = _start_mqtt(app.state.services.twin(), mqtt)
    if shadow:
        if live is None:
            _fail("--shadow needs --live SCENARIO (the site whose policies run in shadow)")
        app.state.services.shadow = _start_shadow(app.state.services.twin(), mqtt, api=True)
    _settle_heap()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if ingest is not None:
            ingest.stop()


def _settle_heap() -> None:
    """Collect the start-up garbage, then let the collector skip what is alive now (the libraries,
    the scenario, the replayed twin: it all lives as long as the server). Otherwise every full
    collection walks those 100,000+ objects again, a pause of 0.1-0.3 s during which neither a
    state query nor ingest runs."""
    gc.collect()
    gc.freeze()


def _start_mqtt(twin, text: str):  # type: ignore[no-untyped-def]
    from twin.live_mqtt import MqttIngest, parse_host_port

    try:
        host, port = parse_host_port(text)
        ingest = MqttIngest(twin, host, port)
        ingest.start()
    except (TwinError, OSError) as exc:
        _fail(f"MQTT {text}: {exc}")
    err.print(f"subscribed to {ingest.topic} at {text}")
    return ingest


def live(
    scenario: Annotated[Path, typer.Argument(help="scenario whose site the live twin mirrors")],
    mqtt: Annotated[str, typer.Option(help="MQTT broker HOST:PORT")],
    db: DbOption = None,
    home: HomeOption = None,
    window: Annotated[str, typer.Option(help="out-of-order window (event time)")] = "15min",
    max_ahead: Annotated[str, typer.Option(help="how far ahead of the clock an event may be stamped")] = "1h",
    alerts: AlertsOption = "on",
    shadow: ShadowOption = False,
) -> None:
    """Run the live twin on MQTT alone (lems/<site>/<source>/<id>) until interrupted; with --shadow,
    publish the policies' recommendations to lems/<site>/recommendations."""
    from twin.event_store import EventStore
    from twin.live import LiveConfig, LiveTwin
    from twin.scenario import load_scenario

    settings = _settings(home, db, scenario, 1, window, max_ahead, alerts)
    try:
        twin = LiveTwin(load_scenario(scenario), EventStore(settings.events_path),
                        LiveConfig(settings.window_hours, settings.max_ahead_hours, settings.alerts))
    except TwinError as exc:
        _fail(str(exc))
    ingest = _start_mqtt(twin, mqtt)
    runner = _start_shadow(twin, mqtt, api=False) if shadow else None
    _settle_heap()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(5.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        ingest.stop()
        if runner is not None:
            runner.stop()
        err.print(f"stored {twin.store.count} event(s); {twin.counts}")


def mount(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(live)
    app.command()(trace)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")

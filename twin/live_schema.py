"""The event integration contract: pydantic models parallel to the typed events of twin.model.events.

A real WMS, MES, ERP, scanner or sensor gateway sends each event as an envelope::

    {"id": "wms-000123", "t": 12.5, "source": "wms", "type": "GoodsReceived", "n": 0,
     "payload": {"po": 7, "item": "gauze", ...}}

``t`` is hours since the live store's epoch (or give ``timestamp``, ISO 8601 with a time zone);
``n`` is the source's own sequence number, which orders events that share a timestamp. The payload
models are generated from the NamedTuple event types (every field but ``t``), so the contract can
never drift from what the reducer applies. ``event_json_schema()`` is what `twin schema --events`
prints.
"""

from __future__ import annotations

import math
import typing
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, TypeAdapter, ValidationError, create_model
from typing_extensions import TypedDict

from twin.model.events import EVENT_TYPES

__all__ = ["EventEnvelope", "PAYLOAD_MODELS", "FieldProblem", "to_event", "event_json_schema", "problems_of",
           "validate_batch", "typed_event"]

SCHEMA_VERSION = 1


class EventEnvelope(BaseModel):
    """One event as a source sends it; the payload is checked against its type's model."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="unique per event: re-sent ids are ignored")
    t: float | None = Field(None, description="hours since the live store's epoch")
    timestamp: datetime | None = Field(None, description="ISO 8601 with time zone (instead of t)")
    source: str = Field("unknown", min_length=1, max_length=100, description="who sent it (wms, mes, scanner-3)")
    type: str = Field(min_length=1, description="an event type name, e.g. GoodsReceived")
    n: int = Field(0, ge=0, description="the source's sequence number (orders events with equal t)")
    payload: dict[str, Any] = Field(default_factory=dict)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


def _payload_model(cls: type) -> type[BaseModel]:
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {name: (hints[name], ...) for name in cls._fields if name != "t"}  # type: ignore[attr-defined]
    return create_model(f"{cls.__name__}Payload", __base__=_Payload, __doc__=cls.__doc__, **fields)


PAYLOAD_MODELS: dict[str, type[BaseModel]] = {name: _payload_model(cls) for name, cls in EVENT_TYPES.items()}


def _payload_dict(cls: type) -> type:
    """The payload of ``cls`` as a TypedDict: the same fields, types and checks as its payload model,
    validated to a plain dict (no model instance to build and read back per event)."""
    hints = typing.get_type_hints(cls)
    fields = {name: hints[name] for name in cls._fields if name != "t"}  # type: ignore[attr-defined]
    make: Any = TypedDict  # built from the event type at run time: no static declaration to check
    td: type = make(f"{cls.__name__}PayloadFields", fields)
    td.__pydantic_config__ = ConfigDict(extra="forbid", strict=False)  # type: ignore[attr-defined]
    return td


def _batch_adapter() -> TypeAdapter[list[Any]]:
    """One validator for a whole batch: each event is an envelope variant chosen by its ``type``
    (an ``EventEnvelope`` whose payload is checked as that type's fields)."""
    variants = [create_model(f"{name}Envelope", __base__=EventEnvelope,
                             type=(Literal[name], ...),  # type: ignore[valid-type, arg-type]
                             payload=(_payload_dict(cls), ...))
                for name, cls in EVENT_TYPES.items()]
    union = typing.Union[tuple(variants)]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(list[typing.Annotated[union, Discriminator("type")]])  # type: ignore[valid-type]


_BATCH = _batch_adapter()


class FieldProblem(typing.NamedTuple):
    """What is wrong with an event, and where (``payload.lines[0][1]``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _loc(parts: tuple[int | str, ...], prefix: str = "") -> str:
    out = prefix
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "event"


def problems_of(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    return [FieldProblem(_loc(tuple(e["loc"]), prefix), e["msg"]) for e in exc.errors()]


def to_event(envelope: EventEnvelope, t: float) -> tuple[Any, list[FieldProblem]]:
    """The typed event of an envelope at time ``t`` (hours), or the problems that stop it."""
    model = PAYLOAD_MODELS.get(envelope.type)
    if model is None:
        known = ", ".join(sorted(PAYLOAD_MODELS))
        return None, [FieldProblem("type", f"unknown event type {envelope.type!r}; known: {known}")]
    if not math.isfinite(t):
        return None, [FieldProblem("t", f"time must be a finite number of hours, got {t!r}")]
    try:
        payload = model.model_validate(envelope.payload)
    except ValidationError as exc:
        return None, problems_of(exc, "payload")
    cls = EVENT_TYPES[envelope.type]
    values = {name: getattr(payload, name) for name in payload.__class__.model_fields}
    return cls(t=t, **values), []


def validate_batch(raws: typing.Sequence[Any]) -> list[EventEnvelope | None]:
    """Envelope and payload of every event of a batch checked in one pass: for each event its envelope
    (payload already checked: ``typed_event`` turns it into the typed event), or None for an event
    with a problem. None only says "check this one on its own" (``EventEnvelope`` then ``to_event``):
    that names the field and gives the same message as ever, so the fast pass never decides a
    message, only that there is none to give."""
    try:
        return _BATCH.validate_python(raws)  # type: ignore[no-any-return]
    except ValidationError as exc:
        bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
    if not bad:  # the batch itself is not a list: nothing to take from it
        return [None] * len(raws)
    good = [k for k in range(len(raws)) if k not in bad]
    out: list[EventEnvelope | None] = [None] * len(raws)
    if good:
        for k, env in zip(good, _BATCH.validate_python([raws[k] for k in good]), strict=True):
            out[k] = env
    return out


def typed_event(envelope: EventEnvelope, t: float) -> tuple[Any, list[FieldProblem]]:
    """The typed event of an envelope from ``validate_batch`` (its payload already checked)."""
    if not math.isfinite(t):
        return None, [FieldProblem("t", f"time must be a finite number of hours, got {t!r}")]
    return EVENT_TYPES[envelope.type](t=t, **envelope.payload), []


def event_json_schema() -> dict[str, Any]:
    """JSON Schema of an event envelope: one variant per event type, discriminated by ``type``."""
    variants = []
    for name, model in PAYLOAD_MODELS.items():
        variants.append(create_model(
            name, __base__=EventEnvelope, __doc__=EVENT_TYPES[name].__doc__,
            type=(Literal[name], ...), payload=(model, ...)))  # type: ignore[valid-type, arg-type]
    union = typing.Union[tuple(variants)]  # type: ignore[valid-type]  # noqa: UP007
    schema = TypeAdapter(union).json_schema()  # type: ignore[arg-type]
    schema["title"] = f"LEMS Twin event (contract version {SCHEMA_VERSION})"
    return schema

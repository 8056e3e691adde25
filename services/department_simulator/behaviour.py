"""How a simulated department behaves, set per department through the simulator's admin endpoint."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SimulatedMatch(BaseModel):
    kind: str
    description: str
    value: float | None = None


class Behaviour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(min_length=1)
    # Seconds between accepting a request and calling back.
    delay_seconds: float = Field(default=0.0, ge=0, le=3600)
    # Matches reported for these ID numbers; every other subject gets `default_matches`.
    findings: dict[str, list[SimulatedMatch]] = Field(default_factory=dict)
    default_matches: list[SimulatedMatch] = Field(default_factory=list)
    result_status: Literal["completed", "failed"] = "completed"
    # Answer the next N cross-check requests with `fail_status` (then recover).
    fail_next: int = Field(default=0, ge=0)
    fail_status: int = Field(default=503, ge=400, le=599)
    # Hold each request this long before answering (longer than the client waits: a timeout).
    hang_seconds: float = Field(default=0.0, ge=0, le=600)
    # Accept, but never call back.
    silent: bool = False
    # Accept the next N new requests and lose their answers (as in an outage): no call back
    # until the same request_id is sent again, which is then answered.
    lose_answers: int = Field(default=0, ge=0)
    # How to sign the callback: correctly, with a wrong secret, with a stale timestamp,
    # or with another department's secret (that department must be configured here).
    callback_signature: Literal["valid", "wrong_secret", "stale_timestamp"] = "valid"
    sign_as: str | None = None
    # Send each callback this many times (duplicates).
    callback_copies: int = Field(default=1, ge=1, le=10)


class Received(BaseModel):
    request_id: str
    # Times this request_id was received (a repeat is the same request).
    answered: int
    subjects: int


class CallbackSent(BaseModel):
    request_id: str
    status_code: int | None
    error: str | None = None


class WarningsToSend(BaseModel):
    """What the simulated department pushes, and where: the service's base URL."""

    model_config = ConfigDict(extra="forbid")

    service_url: str = Field(min_length=1)
    # Sent as given (a test may send malformed ones on purpose).
    warnings: list[Any] = Field(min_length=1)

"""Workbench sessions ended by signing out: a copied session cookie must stop working at once,
though the token it carries would live until its own expiry."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class EndedSession(SQLModel, table=True):
    """One signed-out session cookie, by the SHA-256 of its token (the token itself is never kept).
    A row outlives the token by nothing: after `expires_at` the token is refused anyway, and the
    row is deleted at a later sign-out."""

    __tablename__ = "ended_sessions"

    token_sha256: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=50)
    ended_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

"""Sending SMS: sign-in codes and notices to households.

Two adapters, chosen by `SMS_PROVIDER`:

- `log` (development): writes the message to the log with the phone masked, so a developer
  can read the sign-in code; nothing is sent. Production refuses it (services/settings.py).
- `http`: posts each message to an SMS gateway (the county's 政务短信平台 or a provider's
  relay) at `SMS_GATEWAY_URL`, signed like every other request between systems here
  (`X-Timestamp`, `X-Signature: sha256=HMAC(secret, "<timestamp>.<body>")`, see
  ../shared/INTERFACES.md):

      {"message_id": "stable per message", "phone": "13800138000", "text": "【防返贫监测】…"}

  Any 2xx means accepted. The same `message_id` may arrive again after a retry; the gateway
  sends it once.
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

import httpx

from services.departments.signing import signed_headers
from services.domain.personal_data import mask_phone
from services.settings import Settings

log = logging.getLogger("services.sms")


class SmsFailed(Exception):
    """The gateway did not take the message; the caller may retry."""


class SmsSender(Protocol):
    async def send(self, phone: str, text: str, message_id: str) -> None: ...


class LogSmsSender:
    """Development: the message goes to the log (masked phone, whole text), not to a phone."""

    async def send(self, phone: str, text: str, message_id: str) -> None:
        # WARNING, so it shows without any logging set-up (uvicorn leaves the root logger alone).
        log.warning("SMS (development, not sent) to %s [%s]: %s", mask_phone(phone), message_id, text)


class HttpSmsSender:
    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout

    async def send(self, phone: str, text: str, message_id: str) -> None:
        body = json.dumps({"message_id": message_id, "phone": phone, "text": text}, ensure_ascii=False).encode()
        headers = signed_headers(self._secret, body)
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                answer = await http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise SmsFailed(f"SMS gateway unreachable: {type(error).__name__}") from None
        if not answer.is_success:
            raise SmsFailed(f"SMS gateway answered {answer.status_code}")
        log.info("SMS to %s [%s] accepted by the gateway", mask_phone(phone), message_id)


def sms_sender(settings: Settings) -> SmsSender:
    if settings.sms_provider == "http":
        assert settings.sms_gateway_url and settings.sms_gateway_secret, "checked by Settings"
        return HttpSmsSender(settings.sms_gateway_url, settings.sms_gateway_secret)
    return LogSmsSender()

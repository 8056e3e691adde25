"""The SMS and WeChat adapters against local HTTP servers that answer as their contracts say
(the real services are outside this machine's reach), and the settings that choose them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from services.departments.signing import signature
from services.messaging.sms import HttpSmsSender, LogSmsSender, SmsFailed, sms_sender
from services.messaging.wechat import (
    DevelopmentWechatIdentity,
    WechatCodeRejected,
    WechatMiniProgramIdentity,
    wechat_identity,
)
from services.settings import Settings


class Recorder(ThreadingHTTPServer):
    """Records each request and answers with the next (status, JSON body) it was given."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self, body: bytes) -> None:
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        status, answer = self.server.answers.pop(0)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:
        self._answer(b"")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_the_gateway_gets_a_signed_message(recorder: Recorder) -> None:
    recorder.answers = [(200, {"accepted": True}), (503, {})]
    sender = HttpSmsSender(recorder.url + "/sms", "gateway-secret")
    await sender.send("13800138000", "【防返贫监测】您的申报已受理", message_id="app1:accepted")
    request = recorder.requests[0]
    assert request["path"] == "/sms"
    assert json.loads(request["body"]) == {
        "message_id": "app1:accepted",
        "phone": "13800138000",
        "text": "【防返贫监测】您的申报已受理",
    }
    timestamp = request["headers"]["X-Timestamp"]
    assert request["headers"]["X-Signature"] == signature("gateway-secret", timestamp, request["body"])
    with pytest.raises(SmsFailed):
        await sender.send("13800138000", "x", message_id="app1:rejected")


async def test_an_unreachable_gateway_is_a_failure_to_retry() -> None:
    with pytest.raises(SmsFailed):
        await HttpSmsSender("http://127.0.0.1:9/sms", "s", timeout=2).send("13800138000", "x", message_id="m")


async def test_wechat_code_becomes_an_openid(recorder: Recorder) -> None:
    recorder.answers = [
        (200, {"openid": "oABC123", "session_key": "secret-key"}),
        (200, {"errcode": 40029, "errmsg": "invalid code"}),
    ]
    identity = WechatMiniProgramIdentity("wx-app", "app-secret", recorder.url)
    assert await identity.openid_for("code-1") == "oABC123"
    query = parse_qs(urlsplit(recorder.requests[0]["path"]).query)
    assert urlsplit(recorder.requests[0]["path"]).path == "/sns/jscode2session"
    assert query == {
        "appid": ["wx-app"],
        "secret": ["app-secret"],
        "js_code": ["code-1"],
        "grant_type": ["authorization_code"],
    }
    with pytest.raises(WechatCodeRejected):
        await identity.openid_for("code-2")


async def test_the_development_adapters_are_stable_and_never_in_production() -> None:
    dev = DevelopmentWechatIdentity()
    assert await dev.openid_for("a") == await dev.openid_for("a") != await dev.openid_for("b")
    settings = Settings(environment="test")
    assert isinstance(sms_sender(settings), LogSmsSender)
    assert isinstance(wechat_identity(settings), DevelopmentWechatIdentity)
    key = "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZyEhISE="
    real = {"jwt_secret": "x" * 40, "payload_encryption_key": key, "department_secret_key": key}
    with pytest.raises(ValidationError, match="SMS_PROVIDER=http"):
        Settings(environment="production", **real)
    with pytest.raises(ValidationError, match="SMS_GATEWAY_URL"):
        Settings(environment="test", sms_provider="http")
    configured = Settings(
        environment="production",
        sms_provider="http",
        sms_gateway_url="http://gw/sms",
        sms_gateway_secret="s",
        wechat_provider="wechat",
        wechat_app_id="wx",
        wechat_app_secret="w",
        **real,
    )
    assert isinstance(sms_sender(configured), HttpSmsSender)
    assert isinstance(wechat_identity(configured), WechatMiniProgramIdentity)

"""The WeChat identity of a mini-program user: a `wx.login` code becomes an openid.

Two adapters, chosen by `WECHAT_PROVIDER`:

- `wechat`: asks WeChat's `jscode2session` (GET {WECHAT_API_BASE}/sns/jscode2session with
  appid, secret, js_code, grant_type=authorization_code), which answers `{"openid", ...}`
  or `{"errcode", "errmsg"}`. The session key it also returns is not kept.
- `development`: a stable made-up openid derived from the code, so the same code signs in
  as the same user; production refuses it (services/settings.py).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import httpx

from services.settings import Settings


class WechatCodeRejected(Exception):
    """The code is invalid, expired or already used (errcode from WeChat)."""


class WechatUnavailable(Exception):
    """WeChat could not be asked; the user may try again."""


class WechatIdentity(Protocol):
    async def openid_for(self, code: str) -> str: ...


class DevelopmentWechatIdentity:
    async def openid_for(self, code: str) -> str:
        return "dev-" + hashlib.sha256(code.encode()).hexdigest()[:28]


class WechatMiniProgramIdentity:
    def __init__(self, app_id: str, app_secret: str, api_base: str, timeout: float = 10.0) -> None:
        self._params = {"appid": app_id, "secret": app_secret, "grant_type": "authorization_code"}
        self._url = api_base.rstrip("/") + "/sns/jscode2session"
        self._timeout = timeout

    async def openid_for(self, code: str) -> str:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                answer = await http.get(self._url, params=self._params | {"js_code": code})
            answer.raise_for_status()
            body = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise WechatUnavailable(type(error).__name__) from None
        if body.get("errcode"):
            raise WechatCodeRejected(f"errcode {body['errcode']}")
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WechatUnavailable("no openid in the answer")
        return openid


def wechat_identity(settings: Settings) -> WechatIdentity:
    if settings.wechat_provider == "wechat":
        assert settings.wechat_app_id and settings.wechat_app_secret, "checked by Settings"
        return WechatMiniProgramIdentity(settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_base)
    return DevelopmentWechatIdentity()

"""Department secrets at rest: AES-GCM under DEPARTMENT_SECRET_KEY.

A database dump shows only `v1:<base64(nonce + ciphertext)>`. The department's
county and kind are bound in as associated data, so a ciphertext copied onto
another department's row does not decrypt.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1:"


class SecretBox:
    def __init__(self, key_b64: str) -> None:
        self._aes = AESGCM(base64.b64decode(key_b64))

    def seal(self, secret: str, county_code: str, kind: str) -> str:
        nonce = os.urandom(12)
        sealed = nonce + self._aes.encrypt(nonce, secret.encode(), _bound(county_code, kind))
        return _VERSION + base64.b64encode(sealed).decode()

    def open(self, stored: str, county_code: str, kind: str) -> str:
        if not stored.startswith(_VERSION):
            raise ValueError("unknown secret format")
        sealed = base64.b64decode(stored.removeprefix(_VERSION))
        return self._aes.decrypt(sealed[:12], sealed[12:], _bound(county_code, kind)).decode()


def _bound(county_code: str, kind: str) -> bytes:
    return f"{county_code}/{kind}".encode()

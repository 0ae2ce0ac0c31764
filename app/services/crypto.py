"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal data."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class FieldKeyError(RuntimeError):
    """The field key is missing, malformed or does not decrypt the stored data."""


class FieldCipher:
    """Encrypts single field values. The ciphertext is `v1:` + base64(nonce || ct+tag)."""

    PREFIX = "v1:"

    def __init__(self, key_b64: str) -> None:
        try:
            key = base64.b64decode(key_b64, validate=True)
        except ValueError as exc:
            raise FieldKeyError("CRM_FIELD_KEY is not valid base64.") from exc
        if len(key) != 32:
            raise FieldKeyError("CRM_FIELD_KEY must decode to exactly 32 bytes (AES-256).")
        self._aead = AESGCM(key)
        # A separate key for the blind index, so the index reveals nothing about the cipher key.
        self._index_key = hashlib.sha256(b"crm-blind-index|" + key).digest()

    def encrypt(self, plaintext: str, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context)
        return self.PREFIX + base64.b64encode(nonce + ct).decode("ascii")

    def decrypt(self, token: str, context: bytes = b"") -> str:
        if not token.startswith(self.PREFIX):
            raise FieldKeyError("Unknown ciphertext format.")
        raw = base64.b64decode(token[len(self.PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context).decode("utf-8")
        except InvalidTag as exc:
            raise FieldKeyError("Stored data does not decrypt with CRM_FIELD_KEY (wrong key?).") from exc

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


_cipher_cache: dict[str, FieldCipher] = {}


def cipher() -> FieldCipher:
    """The cipher for the current app's key (cached per key)."""
    from flask import current_app

    key = current_app.config["CRM_FIELD_KEY"]
    if key not in _cipher_cache:
        _cipher_cache[key] = FieldCipher(key)
    return _cipher_cache[key]

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

    def __init__(self, key_b64: str, old_keys_b64: tuple[str, ...] = ()) -> None:
        key = _decode_key(key_b64, "CRM_FIELD_KEY")
        self._key = key
        self._aead = AESGCM(key)
        # A separate key for the blind index, so the index reveals nothing about the cipher key.
        self._index_key = hashlib.sha256(b"crm-blind-index|" + key).digest()
        # Previous keys (CRM_FIELD_KEYS_OLD) still decrypt during a rotation; new data uses `key`.
        self._old = [_decode_key(k, "CRM_FIELD_KEYS_OLD") for k in old_keys_b64 if k]
        self._old_aeads = [AESGCM(k) for k in self._old]

    def derived_keys(self, label: bytes) -> list[bytes]:
        """A key for another purpose (e.g. signing the audit checkpoint): the current key's first,
        then each old key's, so something signed before a rotation still verifies."""
        return [hashlib.sha256(label + b"|" + k).digest() for k in (self._key, *self._old)]

    def encrypt(self, plaintext: str, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context)
        return self.PREFIX + base64.b64encode(nonce + ct).decode("ascii")

    def decrypt(self, token: str, context: bytes = b"") -> str:
        if not token.startswith(self.PREFIX):
            raise FieldKeyError("Unknown ciphertext format.")
        raw = base64.b64decode(token[len(self.PREFIX):])
        for aead in (self._aead, *self._old_aeads):
            try:
                return aead.decrypt(raw[:12], raw[12:], context).decode("utf-8")
            except InvalidTag:
                continue
        raise FieldKeyError("Stored data does not decrypt with CRM_FIELD_KEY (wrong key?).")

    def decrypts_with_current_key(self, token: str, context: bytes = b"") -> bool:
        """True if `token` was encrypted with the current key (a rotation skips those rows)."""
        if not token.startswith(self.PREFIX):
            return False
        raw = base64.b64decode(token[len(self.PREFIX):])
        try:
            self._aead.decrypt(raw[:12], raw[12:], context)
        except InvalidTag:
            return False
        return True

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _decode_key(key_b64: str, name: str) -> bytes:
    try:
        key = base64.b64decode(key_b64, validate=True)
    except ValueError as exc:
        raise FieldKeyError(f"{name} is not valid base64.") from exc
    if len(key) != 32:
        raise FieldKeyError(f"{name} must decode to exactly 32 bytes (AES-256).")
    return key


_cipher_cache: dict[tuple[str, str], FieldCipher] = {}


def cipher() -> FieldCipher:
    """The cipher for the current app's key (cached per key)."""
    from flask import current_app

    key = current_app.config["CRM_FIELD_KEY"]
    old = current_app.config.get("CRM_FIELD_KEYS_OLD") or ""
    if (key, old) not in _cipher_cache:
        _cipher_cache[(key, old)] = FieldCipher(key, tuple(k.strip() for k in old.split(",") if k.strip()))
    return _cipher_cache[(key, old)]

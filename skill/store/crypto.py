"""Encryption at rest: names, appreciations and ritual states are sealed in the application
before they reach the database, under a key the database never holds.

AES-256-GCM (``cryptography``): a random 96-bit nonce per value, and the household id and
column name as associated data, so a value copied into another household or column fails
to decrypt instead of being read as theirs. A stored value reads
``c1.<key id>.<base64url(nonce + ciphertext + tag)>``; the key id (8 hex digits derived
from the key) says which key sealed it, so keys can be rotated: a ``Cipher`` decrypts with
its current key or any old key it is given and always encrypts with the current one, and
``Store.reencrypt()`` then re-seals every row under the current key (README: Privacy).

Keys are 32 random bytes, written as base64 or hex (``CLOSER_DATA_KEY``), or kept in a key
file made on first start beside the data (``load_or_create_key_file``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
# Values sealed or opened recently, by their sealed text: a household's names are read on
# every request and change rarely. Plain text in this process's memory only (as while a
# request runs), emptied when full and by ``forget_opened`` (the store calls it after a
# forget).
OPENED_CACHE = 4096
_PREFIX = "c1"


class UndecryptableValue(ValueError):
    """A stored value no configured key opens (wrong key, or moved between households)."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def load_key(text: str) -> bytes:
    """A 32-byte key from its text form: 64 hex digits, or base64 (standard or URL-safe)."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 2 * KEY_BYTES else _b64decode(text)
    except (ValueError, binascii.Error):
        raise ValueError("a data key is 32 bytes written as base64 or 64 hex digits") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"a data key is {KEY_BYTES} bytes, not {len(key)}")
    return key


def key_text(key: bytes) -> str:
    """The key as base64 (what ``load_key`` and ``CLOSER_DATA_KEY`` take)."""
    return base64.b64encode(key).decode("ascii")


def load_or_create_key_file(path: Path) -> bytes:
    """The key kept in ``path``, made (random, 0600) on first use and never overwritten.

    The new key is written to a temporary file created 0600, flushed to disk, then linked
    into place: ``link`` fails if another process made the file first, and then its key is
    the one used. A reader never sees a half-written key.
    """
    path = Path(path)
    try:
        return load_key(path.read_text())
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(key_text(new_key()) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with suppress(FileExistsError):  # another process won the race: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return load_key(path.read_text())


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"closer-together data key id\0" + key).hexdigest()[:8]


class Cipher:
    """Seals values with the current key; opens values sealed with it or any old key."""

    def __init__(self, key: bytes, *, old_keys: Sequence[bytes] = ()) -> None:
        for one in (key, *old_keys):
            if len(one) != KEY_BYTES:
                raise ValueError(f"a data key is {KEY_BYTES} bytes, not {len(one)}")
        self.key_id = key_id(key)
        self._current = AESGCM(key)
        self._keys = {key_id(one): AESGCM(one) for one in (*old_keys, key)}
        self._opened: dict[tuple[str, str, str], str] = {}

    @classmethod
    def from_text(cls, key: str, old_keys: Sequence[str] = ()) -> Cipher:
        return cls(load_key(key), old_keys=[load_key(old) for old in old_keys])

    def encrypt(self, plaintext: str, *, household_id: str, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, plaintext.encode(), _context(household_id, column))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        stored = f"{_PREFIX}.{self.key_id}.{body}"
        self._remember((stored, household_id, column), plaintext)
        return stored

    def decrypt(self, stored: str, *, household_id: str, column: str) -> str:
        key = (stored, household_id, column)
        plaintext = self._opened.get(key)
        if plaintext is None:
            plaintext = self._open(stored, household_id, column)
            self._remember(key, plaintext)
        return plaintext

    def forget_opened(self) -> None:
        """Drop every value sealed or opened and kept in memory."""
        self._opened.clear()

    def _remember(self, key: tuple[str, str, str], plaintext: str) -> None:
        if len(self._opened) >= OPENED_CACHE:
            self._opened.clear()
        self._opened[key] = plaintext

    def _open(self, stored: str, household_id: str, column: str) -> str:
        prefix, kid, body = _split(stored)
        aead = self._keys.get(kid)
        if prefix != _PREFIX or aead is None:
            raise UndecryptableValue("sealed with a key this store was not given")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            opened = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                  _context(household_id, column))
        except (InvalidTag, ValueError, binascii.Error):
            raise UndecryptableValue("a stored value does not open with its key") from None
        return opened.decode()

    def is_current(self, stored: str) -> bool:
        """Sealed with the current key (rotation leaves such values as they are)."""
        return _split(stored)[1] == self.key_id


def _split(stored: str) -> tuple[str, str, str]:
    parts = stored.split(".", 2)
    if len(parts) != 3:
        raise UndecryptableValue("not a sealed value")
    return parts[0], parts[1], parts[2]


def _context(household_id: str, column: str) -> bytes:
    return f"{household_id}\x1f{column}".encode()

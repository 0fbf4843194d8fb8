"""Alexa request verification (signature, certificate chain, timestamp, application id).

Implements Amazon's "verify that the request was sent by Alexa" procedure with
``cryptography`` instead of flask-ask-sdk:

1. ``SignatureCertChainUrl`` must point at ``https://s3.amazonaws.com[:443]/echo.api/...``.
2. The PEM chain at that URL is downloaded (cached until the leaf expires) and the leaf must
   chain to a trusted root, be currently valid and carry the SAN ``echo-api.amazon.com``.
3. ``Signature-256`` (base64) must be an RSA PKCS#1 v1.5 SHA-256 signature over the raw body.
4. ``request.timestamp`` must be within the tolerance of the current time.

Every failure raises :class:`VerificationError` whose ``reason`` is a short fixed string that
never contains request content, so it is safe to log.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import posixpath
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as _X509VerificationError

__all__ = [
    "ALEXA_SAN",
    "CertificateFetcher",
    "RequestVerifier",
    "VerificationError",
    "check_application_id",
    "check_cert_url",
]

ALEXA_SAN = "echo-api.amazon.com"
CERT_HOST = "s3.amazonaws.com"
CERT_PATH_PREFIX = "/echo.api/"
FETCH_TIMEOUT_S = 3.0
MAX_CHAIN_BYTES = 64 * 1024

HEADER_CERT_URL = "signaturecertchainurl"
HEADER_SIGNATURE_256 = "signature-256"
HEADER_SIGNATURE_SHA1 = "signature"


class VerificationError(Exception):
    """A request failed verification. ``reason`` is short and safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- certificate URL


def check_cert_url(url: str) -> None:
    """Validate ``SignatureCertChainUrl`` as Amazon requires; raise on any deviation."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except (ValueError, TypeError, AttributeError) as exc:
        raise VerificationError("bad cert url") from exc
    if parts.scheme.lower() != "https":
        raise VerificationError("bad cert url")
    if (parts.hostname or "").lower() != CERT_HOST:
        raise VerificationError("bad cert url")
    if parts.username is not None or parts.password is not None:
        raise VerificationError("bad cert url")
    if port is not None and port != 443:
        raise VerificationError("bad cert url")
    path = parts.path
    if not path.startswith("/"):
        raise VerificationError("bad cert url")
    normalized = posixpath.normpath(path)
    if not normalized.startswith(CERT_PATH_PREFIX):
        raise VerificationError("bad cert url")


# --------------------------------------------------------------------------- fetching


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect would leave the validated host; treat it as an error


def _default_opener(url: str) -> bytes:
    opener = urllib.request.build_opener(_NoRedirect())
    with opener.open(url, timeout=FETCH_TIMEOUT_S) as resp:
        return resp.read(MAX_CHAIN_BYTES + 1)


class CertificateFetcher:
    """Downloads and caches the PEM certificate chain named by ``SignatureCertChainUrl``.

    Chains are cached per URL until the leaf's ``not_valid_after``. Thread-safe; concurrent
    requests for the same URL trigger only one download.
    """

    def __init__(
        self,
        opener: Callable[[str], bytes] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._opener = opener or _default_opener
        self._clock = clock
        self._cache: dict[str, tuple[float, list[x509.Certificate]]] = {}
        self._lock = threading.Lock()
        self._url_locks: dict[str, threading.Lock] = {}

    def _cached(self, url: str) -> list[x509.Certificate] | None:
        with self._lock:
            entry = self._cache.get(url)
            if entry is None:
                return None
            expires, chain = entry
            if self._clock() >= expires:
                del self._cache[url]
                return None
            return list(chain)

    def fetch(self, url: str) -> list[x509.Certificate]:
        check_cert_url(url)
        chain = self._cached(url)
        if chain is not None:
            return chain
        with self._lock:
            url_lock = self._url_locks.setdefault(url, threading.Lock())
        with url_lock:
            chain = self._cached(url)
            if chain is not None:
                return chain
            try:
                data = self._opener(url)
            except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError) as exc:
                raise VerificationError("cert fetch failed") from exc
            if len(data) > MAX_CHAIN_BYTES:
                raise VerificationError("cert chain too large")
            try:
                chain = x509.load_pem_x509_certificates(data)
            except ValueError as exc:
                raise VerificationError("bad cert chain") from exc
            if not chain:
                raise VerificationError("bad cert chain")
            expires = chain[0].not_valid_after_utc.timestamp()
            with self._lock:
                if self._clock() < expires:
                    self._cache[url] = (expires, chain)
                self._url_locks.pop(url, None)
            return list(chain)


# --------------------------------------------------------------------------- verifier


def _load_default_roots() -> list[x509.Certificate]:
    """certifi's bundle, loaded per certificate so one odd root cannot break startup."""
    import certifi

    with open(certifi.where(), "rb") as fh:
        data = fh.read()
    end = b"-----END CERTIFICATE-----"
    roots: list[x509.Certificate] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in data.split(end):
            start = block.find(b"-----BEGIN CERTIFICATE-----")
            if start < 0:
                continue
            try:
                roots.append(x509.load_pem_x509_certificate(block[start:] + end + b"\n"))
            except ValueError:
                continue
    return roots


def _parse_timestamp(value: object) -> float:
    if isinstance(value, bool):
        raise VerificationError("bad timestamp")
    if isinstance(value, int | float):
        # Some skill events carry epoch milliseconds.
        return value / 1000.0 if value > 1e11 else float(value)
    if not isinstance(value, str) or not value:
        raise VerificationError("bad timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise VerificationError("bad timestamp") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class RequestVerifier:
    """Verifies that an HTTP request really comes from Alexa. See module docstring."""

    def __init__(
        self,
        fetcher: CertificateFetcher | None = None,
        trust_roots: list[x509.Certificate] | None = None,
        clock: Callable[[], float] = time.time,
        tolerance_s: int = 150,
        skill_event_tolerance_s: int = 3600,
    ) -> None:
        self._fetcher = fetcher or CertificateFetcher(clock=clock)
        roots = trust_roots if trust_roots is not None else _load_default_roots()
        if not roots:
            raise ValueError("at least one trust root is required")
        self._store = Store(roots)
        self._clock = clock
        self._tolerance_s = tolerance_s
        self._skill_event_tolerance_s = skill_event_tolerance_s
        # Chains that passed validation, with the window in which every certificate of the
        # chain stays valid. Path validation is the costliest step of a request and its
        # answer only changes when a certificate expires, so it runs once per chain, not
        # once per request. A chain is the fetcher's cached certificate objects: they are
        # looked up by identity (kept alive here, so an id is never reused) and compared
        # with ``is``; a new download means new objects and a new validation.
        self._trusted: dict[tuple[int, ...], tuple[tuple[x509.Certificate, ...], datetime,
                                                   datetime]] = {}
        self._trusted_lock = threading.Lock()

    def _check_chain(self, chain: list[x509.Certificate], now: datetime) -> x509.Certificate:
        key = tuple(map(id, chain))
        with self._trusted_lock:
            entry = self._trusted.get(key)
        if entry is not None:
            certs, valid_from, valid_until = entry
            if all(a is b for a, b in zip(certs, chain, strict=True)) and (
                    valid_from <= now <= valid_until):
                return chain[0]
        leaf = self._validate_chain(chain, now)
        with self._trusted_lock:
            self._trusted[key] = (tuple(chain), max(c.not_valid_before_utc for c in chain),
                                  min(c.not_valid_after_utc for c in chain))
        return leaf

    def _validate_chain(self, chain: list[x509.Certificate], now: datetime) -> x509.Certificate:
        leaf = chain[0]
        if not (leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc):
            raise VerificationError("expired certificate")
        try:
            san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        except x509.ExtensionNotFound as exc:
            raise VerificationError("bad certificate san") from exc
        names = san.value.get_values_for_type(x509.DNSName)
        if ALEXA_SAN not in (n.lower() for n in names):
            raise VerificationError("bad certificate san")
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .build_server_verifier(x509.DNSName(ALEXA_SAN))
        )
        try:
            verifier.verify(leaf, chain[1:])
        except (_X509VerificationError, ValueError) as exc:
            raise VerificationError("untrusted certificate") from exc
        return leaf

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict:
        lowered = {str(k).lower(): v for k, v in headers.items()}
        cert_url = lowered.get(HEADER_CERT_URL)
        signature_b64 = lowered.get(HEADER_SIGNATURE_256)
        if not signature_b64 and lowered.get(HEADER_SIGNATURE_SHA1) and cert_url:
            raise VerificationError("sha1 signature unsupported")
        if not cert_url or not signature_b64:
            raise VerificationError("missing signature headers")

        check_cert_url(cert_url)
        chain = self._fetcher.fetch(cert_url)
        now_ts = self._clock()
        leaf = self._check_chain(chain, datetime.fromtimestamp(now_ts, tz=UTC))

        try:
            signature = base64.b64decode("".join(signature_b64.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VerificationError("bad signature") from exc
        public_key = leaf.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise VerificationError("unsupported certificate key")
        try:
            public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise VerificationError("bad signature") from exc

        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nesting
            raise VerificationError("malformed json") from exc
        if not isinstance(envelope, dict) or not isinstance(envelope.get("request"), dict):
            raise VerificationError("malformed envelope")
        request = envelope["request"]

        ts = _parse_timestamp(request.get("timestamp"))
        request_type = request.get("type")
        tolerance = (
            self._skill_event_tolerance_s
            if isinstance(request_type, str) and request_type.startswith("AlexaSkillEvent.")
            else self._tolerance_s
        )
        delta = now_ts - ts
        if delta > tolerance:
            raise VerificationError("stale timestamp")
        if -delta > tolerance:
            raise VerificationError("future timestamp")
        return envelope


# --------------------------------------------------------------------------- application id


def _dig(obj: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def check_application_id(envelope: dict, allowed: Collection[str]) -> None:
    """Reject envelopes whose application id is not in ``allowed`` (empty = accept all)."""
    if not allowed:
        return
    app_id = _dig(envelope, "context", "System", "application", "applicationId")
    if not isinstance(app_id, str) or not app_id:
        app_id = _dig(envelope, "session", "application", "applicationId")
    if not isinstance(app_id, str) or not app_id:
        raise VerificationError("missing application id")
    if app_id not in allowed:
        raise VerificationError("unknown application id")

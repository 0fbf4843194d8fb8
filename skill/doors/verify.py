"""Alexa request verification (signature, certificate chain, timestamp, application id).

Implements Amazon's "verify that the request was sent by Alexa" procedure with
``cryptography`` instead of flask-ask-sdk:

1. ``SignatureCertChainUrl`` must point at ``https://s3.amazonaws.com[:443]/echo.api/...``,
   in its plain form: no query, fragment, empty or dot segments, nor escapes of them.
2. The PEM chain at that URL is downloaded (cached until the leaf expires, in a bounded
   cache; a failed download is remembered for a while, so no URL is fetched twice in a
   row) and the leaf must chain to a trusted root, be currently valid and carry the SAN
   ``echo-api.amazon.com``.
3. ``Signature-256`` (base64) must be an RSA PKCS#1 v1.5 SHA-256 signature over the raw body.
4. ``request.timestamp`` must be within the tolerance of the current time.

Every failure raises :class:`VerificationError` whose ``reason`` is a short fixed string that
never contains request content, so it is safe to log, and whose ``kind`` classifies it.
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
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as _X509VerificationError

from skill.envelopes import Rejection, VerificationError, check_application_id

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
# Distinct certificate URLs remembered (Amazon uses a handful), and how long a failed
# download is remembered before that URL may be tried again.
MAX_CACHED_URLS = 32
FAILED_FETCH_TTL_S = 300.0

V = TypeVar("V")

HEADER_CERT_URL = "signaturecertchainurl"
HEADER_SIGNATURE_256 = "signature-256"
HEADER_SIGNATURE_SHA1 = "signature"



# --------------------------------------------------------------------------- certificate URL


def check_cert_url(url: str) -> None:
    """Validate ``SignatureCertChainUrl`` as Amazon requires; raise on any deviation.

    Beyond Amazon's rules, only the plain form of a URL is accepted (no query, fragment,
    empty or dot segments, and no percent-escapes at all): every spelling of one file would
    otherwise be a different cache key and a new download, before any signature is checked.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VerificationError("bad cert url") from exc
    plain = (
        parts.scheme.lower() == "https"
        and (parts.hostname or "").lower() == CERT_HOST
        and parts.username is None and parts.password is None
        and port in (None, 443)
        and not parts.query and not parts.fragment and "?" not in url and "#" not in url
        and "%" not in parts.path
        and parts.path.startswith(CERT_PATH_PREFIX)
        and posixpath.normpath(parts.path) == parts.path
        and "//" not in parts.path
    )
    if not plain:
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

    Chains are cached per URL until the leaf's ``not_valid_after``, and a failed download
    for ``FAILED_FETCH_TTL_S``; both caches keep the ``MAX_CACHED_URLS`` most recently used
    URLs. Thread-safe; concurrent requests for the same URL trigger only one download.
    """

    def __init__(
        self,
        opener: Callable[[str], bytes] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._opener = opener or _default_opener
        self._clock = clock
        self._chains: _Expiring[list[x509.Certificate]] = _Expiring(MAX_CACHED_URLS)
        self._failures: _Expiring[VerificationError] = _Expiring(MAX_CACHED_URLS)
        self._lock = threading.Lock()
        self._url_locks: dict[str, threading.Lock] = {}

    def fetch(self, url: str) -> list[x509.Certificate]:
        check_cert_url(url)
        found = self._remembered(url)
        if found is not None:
            return found
        with self._lock:
            url_lock = self._url_locks.setdefault(url, threading.Lock())
        try:
            with url_lock:
                found = self._remembered(url)
                if found is not None:
                    return found
                try:
                    chain = self._download(url)
                except VerificationError as error:
                    with self._lock:
                        self._failures.put(url, error, self._clock() + FAILED_FETCH_TTL_S)
                    raise
                with self._lock:
                    self._chains.put(url, chain, chain[0].not_valid_after_utc.timestamp())
                return list(chain)
        finally:
            with self._lock:
                self._url_locks.pop(url, None)

    def _remembered(self, url: str) -> list[x509.Certificate] | None:
        """The cached chain; raises the remembered failure; None when neither is known."""
        now = self._clock()
        with self._lock:
            chain = self._chains.get(url, now)
            failure = self._failures.get(url, now) if chain is None else None
        if failure is not None:
            raise VerificationError(failure.reason, failure.kind)
        return list(chain) if chain is not None else None

    def _download(self, url: str) -> list[x509.Certificate]:
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
        return chain


class _Expiring(Generic[V]):  # noqa: UP046 - Python 3.11
    """A small LRU map whose entries also expire at a given time (not thread-safe)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str, now: float) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if now >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: V, expires: float) -> None:
        self._entries[key] = (expires, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


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
        raise VerificationError("bad timestamp", Rejection.TIMESTAMP)
    if isinstance(value, int | float):
        # Some skill events carry epoch milliseconds.
        return value / 1000.0 if value > 1e11 else float(value)
    if not isinstance(value, str) or not value:
        raise VerificationError("bad timestamp", Rejection.TIMESTAMP)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise VerificationError("bad timestamp", Rejection.TIMESTAMP) from exc
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
        self._trusted: OrderedDict[tuple[int, ...], tuple[tuple[x509.Certificate, ...],
                                                          datetime, datetime]] = OrderedDict()
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
            while len(self._trusted) > MAX_CACHED_URLS:
                self._trusted.popitem(last=False)
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
            raise VerificationError("malformed json", Rejection.MALFORMED) from exc
        if not isinstance(envelope, dict):
            raise VerificationError("json body is not an object", Rejection.MALFORMED)
        if not isinstance(envelope.get("request"), dict):
            raise VerificationError("malformed envelope", Rejection.MALFORMED)
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
            raise VerificationError("stale timestamp", Rejection.TIMESTAMP)
        if -delta > tolerance:
            raise VerificationError("future timestamp", Rejection.TIMESTAMP)
        return envelope

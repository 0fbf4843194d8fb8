"""Test helpers: a throwaway PKI shaped like Alexa's, and request signing."""

from __future__ import annotations

import base64
import datetime as dt
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skill.doors.verify import CertificateFetcher, RequestVerifier

ALEXA_SAN = "echo-api.amazon.com"


@dataclass
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass
class Chain:
    root: Issued
    intermediate: Issued | None
    leaf: Issued

    @property
    def pem(self) -> bytes:
        """PEM chain as Amazon serves it: leaf first, then intermediates (root omitted)."""
        certs = [self.leaf.cert]
        if self.intermediate is not None:
            certs.append(self.intermediate.cert)
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(
    cn: str, key: rsa.RSAPrivateKey, issuer: Issued | None, now: dt.datetime
) -> x509.Certificate:
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=365))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(signer_key, hashes.SHA256())


def make_root(cn: str = "Test Root CA", now: dt.datetime | None = None) -> Issued:
    now = now or dt.datetime.now(dt.UTC)
    key = _key()
    return Issued(_ca(cn, key, None, now), key)


def make_chain(
    *,
    root: Issued | None = None,
    intermediate: bool = True,
    expired: bool = False,
    san: str | None = ALEXA_SAN,
    now: dt.datetime | None = None,
) -> Chain:
    """Root CA -> (optional intermediate) -> leaf.

    ``expired`` makes the leaf's validity end a day before ``now``; ``san=None`` omits the
    SubjectAlternativeName extension; any other ``san`` value puts that DNS name in it.
    """
    now = now or dt.datetime.now(dt.UTC)
    root = root or make_root(now=now)
    inter: Issued | None = None
    issuer = root
    if intermediate:
        ikey = _key()
        inter = Issued(_ca("Test Intermediate CA", ikey, root, now), ikey)
        issuer = inter

    lkey = _key()
    if expired:
        start, end = now - dt.timedelta(days=60), now - dt.timedelta(days=1)
    else:
        start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(san or "no-san.example"))
        .issuer_name(issuer.cert.subject)
        .public_key(lkey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(lkey.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if san is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False
        )
    leaf = Issued(builder.sign(issuer.key, hashes.SHA256()), lkey)
    return Chain(root=root, intermediate=inter, leaf=leaf)


def sign(body: bytes, key: rsa.RSAPrivateKey) -> str:
    """Base64 ``Signature-256`` value: RSA PKCS#1 v1.5 over SHA-256 of the raw body."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def sign_sha1(body: bytes, key: rsa.RSAPrivateKey) -> str:
    """Base64 legacy ``Signature`` (SHA-1) value, which the verifier must not accept."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA1())).decode("ascii")


def file_verifier(chain_pem: Path, root_pem: Path) -> RequestVerifier:
    """Amazon's verifier trusting a test root, with the certificate download for the
    (validated) s3.amazonaws.com URL replaced by reading the test chain from a file."""
    chain = chain_pem.read_bytes()
    root = x509.load_pem_x509_certificate(root_pem.read_bytes())

    def opener(url: str) -> bytes:
        if urllib.parse.urlsplit(url).hostname != "s3.amazonaws.com":
            raise OSError("unexpected certificate host")
        return chain

    return RequestVerifier(CertificateFetcher(opener=opener), trust_roots=[root])


def self_signed_server(tmp_path: Path, host: str, *, hours: int = 1,
                       stem: str = "server") -> tuple[Path, Path]:
    """A self-signed EC certificate for ``host`` (its own CA, with the host as SAN), and its
    key, as PEM files in tmp_path: for a TLS server a test trusts explicitly."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(host)
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=hours))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{stem}.pem", tmp_path / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path

"""The shared CA's certificate as `check` and `ca show` judge it: its fingerprint, its
validity, and whether certgen can keep renewing the mesh's certificates from it.

Apart from `ca` (the encrypted Secret file, sops and the age recipients) because it reads
only the certificate the file keeps in clear, and with no cryptography library: every
render and check asks, and importing cryptography's x509 cost them about 30 ms (two
interpreter starts). The validity is a few DER elements into the certificate (RFC 5280
4.1); only `ca show` imports cryptography, for the subject's RFC 4514 text.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from dataclasses import dataclass

from . import facts
from .ca import CaError, SharedCa


@dataclass(frozen=True)
class CaFacts:
    """What `check` judges and `ca show` prints: the public side of the CA."""

    fingerprint_sha256: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    recipients: tuple[str, ...]

    @property
    def renewals_stop(self) -> datetime.datetime:
        """From then on certgen refuses to issue leaves (they would outlive the CA)."""
        return self.not_after - datetime.timedelta(days=facts.LEAF_CERT_VALIDITY_DAYS)


def ca_facts(ca: SharedCa) -> CaFacts:
    """The CA certificate's fingerprint and validity; CaError when unreadable."""
    der = _certificate_der(ca)
    try:
        not_before, not_after = _der_validity(der)
    except (ValueError, IndexError) as error:
        raise CaError(f"the CA certificate does not parse: {error or 'truncated'}",
                      "recreate it with `aksmesh ca init --force`") from None
    digest = hashlib.sha256(der).hexdigest().upper()
    return CaFacts(":".join(digest[i:i + 2] for i in range(0, len(digest), 2)),
                   not_before, not_after, ca.recipients)


def ca_subject(ca: SharedCa) -> str:
    """The certificate's subject as RFC 4514 text (for `ca show`)."""
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(_certificate_der(ca)).subject.rfc4514_string()
    except ValueError as error:
        raise CaError(f"the CA certificate does not parse: {error}",
                      "recreate it with `aksmesh ca init --force`") from None


def _certificate_der(ca: SharedCa) -> bytes:
    if ca.certificate_pem is None:
        raise CaError("the CA file does not carry its certificate in clear (written by an "
                      "older aksmesh): its expiry cannot be read without the age key",
                      "recreate it with `aksmesh ca init --force`, then render and commit")
    lines = ca.certificate_pem.strip().splitlines()
    if len(lines) < 3 or lines[0] != "-----BEGIN CERTIFICATE-----" \
            or lines[-1] != "-----END CERTIFICATE-----":
        raise CaError("the CA certificate is not one PEM certificate",
                      "recreate it with `aksmesh ca init --force`")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except ValueError:
        raise CaError("the CA certificate's PEM body is not base64",
                      "recreate it with `aksmesh ca init --force`") from None


def _der_validity(der: bytes) -> tuple[datetime.datetime, datetime.datetime]:
    """notBefore and notAfter of an X.509 certificate (RFC 5280 4.1: Certificate is a
    SEQUENCE whose first element, tbsCertificate, is a SEQUENCE of an optional [0] version,
    serialNumber, signature, issuer, then validity: a SEQUENCE of two times)."""
    tag, start, _ = _der_element(der, 0)
    tag_tbs, at, _ = _der_element(der, start)
    if (tag, tag_tbs) != (0x30, 0x30):
        raise ValueError("not a DER certificate")
    tag, _, end = _der_element(der, at)
    if tag == 0xA0:  # [0] EXPLICIT version, absent for v1
        at = end
    for expected in (0x02, 0x30, 0x30):  # serialNumber, signature, issuer
        tag, _, at = _der_element(der, at)
        if tag != expected:
            raise ValueError(f"unexpected DER tag {tag:#04x} in tbsCertificate")
    tag, at, _ = _der_element(der, at)
    if tag != 0x30:
        raise ValueError("no validity in tbsCertificate")
    times = []
    for _ in range(2):
        tag, start, at = _der_element(der, at)
        times.append(_der_time(tag, der[start:at].decode("ascii")))
    return times[0], times[1]


def _der_element(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start, end) of the content of the DER element at offset `at`."""
    tag, length, at = der[at], der[at + 1], at + 2
    if length & 0x80:  # long form: the low bits count the length's bytes
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("bad DER length")
        length, at = int.from_bytes(der[at:at + count], "big"), at + count
    if at + length > len(der):
        raise ValueError("truncated")
    return tag, at, at + length


def _der_time(tag: int, text: str) -> datetime.datetime:
    """UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), the
    two forms RFC 5280 4.1.2.5 allows, always in UTC with seconds."""
    if tag == 0x17 and len(text) == 13:
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif not (tag == 0x18 and len(text) == 15):
        raise ValueError(f"a validity time that RFC 5280 does not allow: {text!r}")
    if not (text.endswith("Z") and text[:-1].isdigit()):
        raise ValueError(f"a validity time that RFC 5280 does not allow: {text!r}")
    fields = (text[0:4], text[4:6], text[6:8], text[8:10], text[10:12], text[12:14])
    return datetime.datetime(*map(int, fields), tzinfo=datetime.timezone.utc)


def lifetime_problems(found: CaFacts, now: datetime.datetime
                      ) -> list[tuple[str, str, str]]:
    """(code, message, hint) for a CA whose leaves certgen cannot, or soon cannot, renew."""
    rotate = ("rotate it: `aksmesh ca init --force` with the same --age-recipient, then "
              "render and commit (README.md, \"Rotating the shared CA\")")
    lifetime = found.not_after - found.not_before
    if lifetime < datetime.timedelta(days=facts.LEAF_CERT_VALIDITY_DAYS):
        return [("AKM611", f"the CA is valid for {lifetime.days} days, less than the "
                 f"{facts.LEAF_CERT_VALIDITY_DAYS}-day certificates certgen issues from it: "
                 "certgen always fails", rotate)]
    if now >= found.renewals_stop:
        return [("AKM611", f"the CA expires on {found.not_after:%Y-%m-%d}: since "
                 f"{found.renewals_stop:%Y-%m-%d} certgen refuses to renew the mesh and "
                 "Hubble certificates, which stop working by that expiry", rotate)]
    warning = found.renewals_stop - datetime.timedelta(days=facts.CA_ROTATION_WARNING_DAYS)
    if now >= warning:
        return [("AKM610", f"the CA expires on {found.not_after:%Y-%m-%d}; from "
                 f"{found.renewals_stop:%Y-%m-%d} certgen refuses to renew the mesh and "
                 "Hubble certificates", rotate)]
    return []

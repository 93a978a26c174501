"""The shared CA outlives the certificates certgen issues from it, `check` warns well before
certgen would refuse to renew them (AKM610/AKM611), `ca show` prints what the CA is, and
`ca add-recipient` re-encrypts the same CA to more age keys.

Before the fix the CA was valid 1095 days and the leaves 365: with the chart's
certgen.enforceCAValidityThroughoutLeavesDuration every certgen run failed from month 24,
and nothing said so. The committed example CAs were such CAs (checked).
"""

from __future__ import annotations

import base64
import datetime
import shutil

import pyrage
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from conftest import PROJECT, VALID, run_cli
from generator import ca, ca_certificate, compiler, facts
from generator.backends import ca_wiring
from generator.inputs import load_shared_ca, shared_ca_path
from test_ca import sops_decrypt

FIXTURE_KEY = PROJECT / "tests" / "fixtures" / "example.agekey"
SECRET_KEY = next(line.strip() for line in FIXTURE_KEY.read_text(encoding="utf-8").splitlines()
                  if line.startswith("AGE-SECRET-KEY-"))
EXAMPLE_CAS = sorted((PROJECT / "topologies").glob("*/cilium-ca.sops.yaml"))
UTC = datetime.timezone.utc


def _certificate(encrypted: str, secret_key: str = SECRET_KEY) -> x509.Certificate:
    values = sops_decrypt(encrypted, secret_key)["stringData"][ca.VALUES_KEY]
    cert_b64 = values.split("cert: ")[1].split()[0]
    return x509.load_pem_x509_certificate(base64.b64decode(cert_b64))


@pytest.mark.parametrize("path", EXAMPLE_CAS, ids=[p.parent.name for p in EXAMPLE_CAS])
def test_the_example_cas_outlive_their_leaves_by_years(path):
    cert = _certificate(path.read_text(encoding="utf-8"))
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime >= datetime.timedelta(days=facts.CA_VALIDITY_DAYS)
    assert lifetime - datetime.timedelta(days=facts.LEAF_CERT_VALIDITY_DAYS) > \
        datetime.timedelta(days=5 * 365)


@pytest.mark.parametrize("path", EXAMPLE_CAS, ids=[p.parent.name for p in EXAMPLE_CAS])
def test_the_clear_certificate_is_the_encrypted_one(path):
    """`ca show` and `check` read the annotation; the clusters use the encrypted values."""
    shared = ca.inspect_ca_file(path.read_text(encoding="utf-8"))
    found = ca_certificate.ca_facts(shared)
    cert = _certificate(shared.text)
    assert found.fingerprint_sha256.replace(":", "") == cert.fingerprint(hashes.SHA256()).hex().upper()
    assert found.not_after == cert.not_valid_after_utc


def _self_signed(not_before: datetime.datetime, not_after: datetime.datetime,
                 version: x509.Version = x509.Version.v3) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Cilium CA")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    if version is x509.Version.v1:  # no [0] version element in tbsCertificate
        builder._version = x509.Version.v1  # private: no public way to build a v1
    cert = builder.sign(key, hashes.SHA256())
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _shared(pem: str | None) -> ca.SharedCa:
    return ca.SharedCa("cilium-ca.sops.yaml", "", ca.SECRET_NAME, ca_wiring().secret_namespace,
                       (), pem)


@pytest.mark.parametrize("not_before, not_after", [
    (datetime.datetime(2026, 12, 1, 9, 30, 5, tzinfo=UTC),
     datetime.datetime(2036, 11, 29, 23, 59, 59, tzinfo=UTC)),   # both UTCTime
    (datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),
     datetime.datetime(2050, 1, 1, 0, 0, 0, tzinfo=UTC)),        # UTCTime, then GeneralizedTime
    (datetime.datetime(1999, 6, 1, tzinfo=UTC),
     datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),   # 19xx, and RFC 5280's "no expiry"
])
@pytest.mark.parametrize("version", [x509.Version.v3, x509.Version.v1])
def test_the_validity_read_from_der_is_what_cryptography_reads(not_before, not_after, version):
    """ca_facts reads the DER itself (cryptography's import would cost every render);
    cryptography, the consumer-grade parser, is the reference."""
    pem = _self_signed(not_before, not_after, version)
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    assert cert.version is version
    found = ca_certificate.ca_facts(_shared(pem))
    assert (found.not_before, found.not_after) == \
        (cert.not_valid_before_utc, cert.not_valid_after_utc) == (not_before, not_after)
    assert found.fingerprint_sha256.replace(":", "") == cert.fingerprint(hashes.SHA256()).hex().upper()
    assert ca_certificate.ca_subject(_shared(pem)) == "CN=Cilium CA"


def _damaged(how: str) -> str:
    pem = _self_signed(ISSUED, ISSUED + datetime.timedelta(days=3650))
    lines = pem.strip().splitlines()
    der = base64.b64decode("".join(lines[1:-1]))
    if how == "truncated":
        der = der[:60]
    elif how == "not a certificate":
        der = b"\x04\x03abc"
    elif how == "a time with a fraction":  # DER forbids it in certificates (RFC 5280 4.1.2.5)
        start = der.index(b"\x17\x0d")
        der = der[:start] + b"\x17\x0d" + b"261201000000." + der[start + 15:]
    elif how == "not base64":
        return pem.replace(lines[3], "%" * len(lines[3]))
    elif how == "two certificates":
        return pem + pem
    body = base64.b64encode(der).decode("ascii")
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("how", ["truncated", "not a certificate", "a time with a fraction",
                                 "not base64", "two certificates"])
def test_a_damaged_certificate_is_a_ca_error_not_a_crash(how):
    with pytest.raises(ca.CaError) as raised:
        ca_certificate.ca_facts(_shared(_damaged(how)))
    assert "recreate it" in raised.value.hint


def test_the_leaves_are_rendered_with_the_validity_the_check_assumes():
    result = compiler.compile_topology(PROJECT / "topologies" / "seed-demo.yaml")
    # Every cluster merges the shared values, which set both: ClusterMesh and Hubble.
    text = result.files["infrastructure/cilium-mesh/mesh-values.yaml"]
    assert text.count(f"certValidityDuration: {facts.LEAF_CERT_VALIDITY_DAYS}\n") == 2
    for cluster in result.plan.clusters:
        values = compiler_values(result, cluster.name)
        assert values["clustermesh"]["apiserver"]["tls"]["auto"]["certValidityDuration"] == \
            values["hubble"]["tls"]["auto"]["certValidityDuration"] == facts.LEAF_CERT_VALIDITY_DAYS


def compiler_values(result, cluster: str) -> dict:
    """A cluster's Cilium values as helm-controller merges them (shared, then its own)."""
    import yaml

    from generator.flux.helm_values import merged_values

    return merged_values(yaml.safe_load(result.files["infrastructure/cilium-mesh/mesh-values.yaml"]),
                         yaml.safe_load(result.files[f"clusters/{cluster}/cilium/values.yaml"]))


def _facts(days_valid: int, issued: datetime.datetime) -> ca_certificate.CaFacts:
    return ca_certificate.CaFacts("00", issued, issued + datetime.timedelta(days=days_valid), ())


ISSUED = datetime.datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("days_later, codes", [
    (0, []),
    (3650 - 365 - 181, []),
    (3650 - 365 - 179, ["AKM610"]),   # warned about half a year ahead
    (3650 - 365 + 1, ["AKM611"]),     # certgen refuses to renew now
    (3650 + 1, ["AKM611"]),
])
def test_check_warns_well_before_certgen_stops(days_later, codes):
    now = ISSUED + datetime.timedelta(days=days_later)
    assert [code for code, _, _ in ca_certificate.lifetime_problems(_facts(3650, ISSUED), now)] == codes


def test_the_old_three_year_ca_is_flagged_from_its_nineteenth_month():
    problems = ca_certificate.lifetime_problems(_facts(1095, ISSUED), ISSUED + datetime.timedelta(days=560))
    assert [code for code, _, _ in problems] == ["AKM610"]


def test_a_ca_shorter_than_a_leaf_is_an_error():
    assert [c for c, _, _ in ca_certificate.lifetime_problems(_facts(300, ISSUED), ISSUED)] == ["AKM611"]


def _topology_with_ca(tmp_path, recipient: str):
    topology = tmp_path / "mesh.yaml"
    topology.write_text(VALID, encoding="utf-8")
    target = shared_ca_path(topology)
    target.parent.mkdir()
    target.write_text(ca.init_ca(ca.SECRET_NAME, ca_wiring().secret_namespace, [recipient]), encoding="utf-8")
    return topology, target


def test_render_warns_at_the_ca_file(tmp_path):
    identity = pyrage.x25519.Identity.generate()
    topology, target = _topology_with_ca(tmp_path, str(identity.to_public()))
    later = datetime.datetime.now(UTC) + datetime.timedelta(days=3650 - 365 - 30)
    result = compiler.compile_topology(topology, compiler.Options(now=later))
    (warning,) = [d for d in result.diagnostics if d.code.startswith("AKM61")]
    assert (warning.code, warning.file) == ("AKM610", str(target))
    assert "rotate" in warning.hint
    assert result.ok  # a warning: the tree is still written (an error under --strict)


def test_an_old_ca_file_cannot_be_judged_and_says_so(tmp_path):
    """A CA file from before aksmesh kept the certificate in clear: AKM612, a warning."""
    identity = pyrage.x25519.Identity.generate()
    topology, target = _topology_with_ca(tmp_path, str(identity.to_public()))
    text = target.read_text(encoding="utf-8")
    head, _, rest = text.partition("    annotations:\n")
    target.write_text(head + rest[rest.index("type: Opaque"):], encoding="utf-8")
    result = compiler.compile_topology(topology)
    assert [(d.code, d.file) for d in result.diagnostics if d.code.startswith("AKM61")] == [
        ("AKM612", str(target))]
    assert result.ok


def test_ca_show_prints_subject_fingerprint_expiry_and_recipients(tmp_path):
    identity = pyrage.x25519.Identity.generate()
    topology, target = _topology_with_ca(tmp_path, str(identity.to_public()))
    cert = _certificate(target.read_text(encoding="utf-8"), str(identity))
    run = run_cli("ca", "show", topology)
    assert run.exit_code == 0, run.output
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    assert "CN=Cilium CA" in run.stdout
    assert ":".join(digest[i:i + 2] for i in range(0, 64, 2)) in run.stdout
    assert f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S}" in run.stdout
    assert str(identity.to_public()) in run.stdout


def test_ca_show_without_a_ca_fails_with_a_hint(tmp_path):
    topology = tmp_path / "mesh.yaml"
    topology.write_text(VALID, encoding="utf-8")
    run = run_cli("ca", "show", topology)
    assert run.exit_code == 1 and "ca init" in run.stderr


def test_ca_add_recipient_keeps_the_ca_and_adds_the_key(tmp_path, monkeypatch):
    alice, bob = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    topology, target = _topology_with_ca(tmp_path, str(alice.to_public()))
    before = _certificate(target.read_text(encoding="utf-8"), str(alice))
    key_file = tmp_path / "alice.agekey"
    key_file.write_text(str(alice) + "\n", encoding="utf-8")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    run = run_cli("ca", "add-recipient", topology, "--age-recipient", str(bob.to_public()))
    assert run.exit_code == 0, run.output
    text = target.read_text(encoding="utf-8")
    assert ca.read_age_recipients(text) == sorted([str(alice.to_public()), str(bob.to_public())])
    # The same CA for both, so the clusters are not re-keyed.
    assert _certificate(text, str(bob)) == before == _certificate(text, str(alice))
    assert load_shared_ca(topology).certificate_pem is not None


def test_ca_add_recipient_without_a_key_fails_and_keeps_the_file(tmp_path, monkeypatch):
    alice, bob = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    topology, target = _topology_with_ca(tmp_path, str(alice.to_public()))
    before = target.read_text(encoding="utf-8")
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/sops/age/keys.txt either
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    run = run_cli("ca", "add-recipient", topology, "--age-recipient", str(bob.to_public()))
    assert run.exit_code == 1 and "SOPS_AGE_KEY_FILE" in run.stderr
    assert target.read_text(encoding="utf-8") == before

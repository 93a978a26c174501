"""AKM208-AKM220: global services and segmentation (generator/rules/mesh.py): the clusters
they name, and Services the Kubernetes API server refuses, refused at `validate` at the
offending key (AKM211-AKM213; before that fix they rendered and verified as fine)."""

import pytest

from conftest import VALID, expected


SERVICES = """\
globalServices:
  - name: rebel-base
    namespace: default
    ports: [{port: 80}]
    selector: {name: rebel-base}
    backends: [ne, we]
"""


CASES = {
    "unknown backend": VALID + SERVICES.replace("[ne, we]", "[ne, wee]  # !AKM208"),
    "duplicate service": VALID + SERVICES + SERVICES.split("\n", 1)[1].replace(
        "  - name: rebel-base", "  - name: rebel-base  # !AKM209"),
    "unknown cluster in a flow": VALID + "segmentation:\n  allow:\n"
        "    - from: {cluster: ne}\n      to: {cluster: fc}  # !AKM208\n",
    "flow inside one cluster": VALID + "segmentation:\n  allow:\n"
        "    - from: {cluster: ne}  # !AKM210\n      to: {cluster: ne}\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_feature_checks(found, text):
    assert found(text) == expected(text)


SERVICE = """\
globalServices:
  - name: rebel-base
    namespace: default
    selector: {name: rebel-base}
    backends: [ne, we]
    ports:
"""


SERVICE_CASES = {
    "same port and protocol twice": VALID + SERVICE
    + "      - {name: http, port: 80}\n      - {name: web, port: 80}  # !AKM211\n",
    "same port, other protocol": VALID + SERVICE
    + "      - {name: dns, port: 53}\n      - {name: dns-udp, port: 53, protocol: UDP}\n",
    "several ports without names": VALID + SERVICE
    + "      - port: 80  # !AKM212\n      - port: 443  # !AKM212\n",
    "one unnamed port among named": VALID + SERVICE
    + "      - {name: http, port: 80}\n      - port: 443  # !AKM212\n",
    "a name twice": VALID + SERVICE
    + "      - {name: http, port: 80}\n      - {name: http, port: 8080}  # !AKM212\n",
    "one port needs no name": VALID + SERVICE + "      - port: 80\n",
    "selector value with a space": VALID + SERVICE.replace(
        "    selector: {name: rebel-base}\n", "    selector:\n      name: rebel base  # !AKM213\n")
    + "      - port: 80\n",
    "selector key with a space": VALID + SERVICE.replace(
        "    selector: {name: rebel-base}\n", "    selector:\n      app name: rebel  # !AKM213\n")
    + "      - port: 80\n",
    "selector with a prefixed key": VALID + SERVICE.replace(
        "    selector: {name: rebel-base}\n",
        "    selector:\n      app.kubernetes.io/name: rebel-base\n") + "      - port: 80\n",
}


@pytest.mark.parametrize("text", SERVICE_CASES.values(), ids=SERVICE_CASES.keys())
def test_invalid_services_are_refused_at_the_offending_key(found, text):
    assert found(text) == expected(text)


def test_findings_have_a_hint(diagnose):
    (finding,) = diagnose(SERVICE_CASES["same port and protocol twice"])
    assert finding.hint and "80/TCP" in finding.message

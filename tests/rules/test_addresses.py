"""AKM3xx: addresses (generator/rules/addresses.py), one test per rule, each with the
topology that triggers it."""

import pytest

from conftest import VALID, expected, mutate
from generator.diagnostics import Severity


CASES = {
    "host bits": mutate(("    podCidr: 10.120.0.0/16\n", "    podCidr: 10.120.1.0/16  # !AKM302\n")),
    "bad octet": mutate(("    podCidr: 10.120.0.0/16\n", "    podCidr: 10.320.0.0/16  # !AKM301\n")),
    "bad prefix": mutate(("    podCidr: 10.120.0.0/16\n", "    podCidr: 10.120.0.0/40  # !AKM301\n")),
    "bad dns ip": mutate(("    serviceCidr: 10.220.0.0/16\n",
                          "    serviceCidr: 10.220.0.0/16\n    dnsServiceIP: 10.220.0.300  # !AKM301\n")),
    "subnet outside vnet": mutate(("    nodeSubnetCidr: 10.20.0.0/22\n",
                                   "    nodeSubnetCidr: 10.21.0.0/22  # !AKM303\n")),
    "subnet too small": mutate(("    nodeSubnetCidr: 10.20.0.0/22\n",
                                "    nodeSubnetCidr: 10.20.0.0/30  # !AKM304\n")),
    "vnets overlap": mutate(("    vnetCidr: 10.20.0.0/16\n    nodeSubnetCidr: 10.20.0.0/22\n",
                             "    vnetCidr: 10.10.0.0/15  # !AKM305\n    nodeSubnetCidr: 10.11.0.0/22\n")),
    "pod range overlaps a vnet": mutate(("    podCidr: 10.120.0.0/16\n",
                                         "    podCidr: 10.10.128.0/17  # !AKM305\n")),
    "pod range overlaps its own vnet": mutate(("    podCidr: 10.120.0.0/16\n",
                                               "    podCidr: 10.20.64.0/18  # !AKM305\n")),
    "pod ranges overlap": mutate(("    podCidr: 10.120.0.0/16\n",
                                  "    podCidr: 10.110.0.0/20  # !AKM305\n")),
    "service overlaps a vnet": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                       "    serviceCidr: 10.10.0.0/16  # !AKM305\n")),
    "service overlaps a pod range": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                            "    serviceCidr: 10.110.0.0/24  # !AKM305\n")),
    "forbidden range": mutate(("    podCidr: 10.120.0.0/16\n",
                               "    podCidr: 172.31.0.0/16  # !AKM306\n")),
    "service range too large": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                       "    serviceCidr: 10.224.0.0/11  # !AKM307\n")),
    "public range": mutate(("    podCidr: 10.120.0.0/16\n",
                            "    podCidr: 198.170.0.0/16  # !AKM308\n")),
    "dns ip outside": mutate(("    serviceCidr: 10.220.0.0/16\n",
                              "    serviceCidr: 10.220.0.0/16\n    dnsServiceIP: 10.221.0.10  # !AKM309\n")),
    "dns ip is the first address": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                           "    serviceCidr: 10.220.0.0/16\n    dnsServiceIP: 10.220.0.1  # !AKM309\n")),
    "default dns ip does not fit": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                           "    serviceCidr: 10.220.0.0/29  # !AKM309\n")),
    "dns ip is the broadcast address": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                               "    serviceCidr: 10.220.0.0/16\n    dnsServiceIP: 10.220.255.255  # !AKM309\n")),
    "dns ip is the broadcast address of a /28": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                                        "    serviceCidr: 10.220.0.0/28\n    dnsServiceIP: 10.220.0.15  # !AKM309\n")),
    "vnet holds azure's platform address": mutate(
        ("    vnetCidr: 10.20.0.0/16\n    nodeSubnetCidr: 10.20.0.0/22\n",
         "    vnetCidr: 168.63.0.0/16  # !AKM311\n    nodeSubnetCidr: 168.63.128.0/22\n")),
    "a /24 vnet around azure's platform address": mutate(
        ("    vnetCidr: 10.20.0.0/16\n", "    vnetCidr: 168.63.129.0/24  # !AKM311\n"),
        ("    nodeSubnetCidr: 10.20.0.0/22\n", "    nodeSubnetCidr: 168.63.129.64/26\n")),
    "pod range holds azure's platform address": mutate(
        ("    podCidr: 10.120.0.0/16\n", "    podCidr: 168.0.0.0/8  # !AKM311\n")),
    "service range holds azure's platform address": mutate(
        ("    serviceCidr: 10.220.0.0/16\n", "    serviceCidr: 168.63.128.0/17  # !AKM311\n")),
    "pod range in loopback space": mutate(
        ("    podCidr: 10.120.0.0/16\n", "    podCidr: 127.16.0.0/16  # !AKM311\n")),
    "vnet in multicast space": mutate(
        ("    vnetCidr: 10.20.0.0/16\n    nodeSubnetCidr: 10.20.0.0/22\n",
         "    vnetCidr: 239.1.0.0/16  # !AKM311\n    nodeSubnetCidr: 239.1.0.0/22\n")),
    "mesh ip outside": mutate(("    serviceCidr: 10.220.0.0/16\n",
                               "    serviceCidr: 10.220.0.0/16\n    clustermeshIP: 10.20.8.1  # !AKM310\n")),
    "mesh ip reserved": mutate(("    serviceCidr: 10.220.0.0/16\n",
                                "    serviceCidr: 10.220.0.0/16\n    clustermeshIP: 10.20.0.3  # !AKM310\n")),
    "default mesh ip reserved in a /29": mutate(("    nodeSubnetCidr: 10.20.0.0/22\n",
                                                 "    nodeSubnetCidr: 10.20.0.0/29  # !AKM310\n")),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_rule_reports_code_and_line(found, text):
    assert found(text) == expected(text)


def test_azure_reserved_ranges_cite_the_azure_doc(diagnose):
    [d] = diagnose(CASES["pod range holds azure's platform address"])
    assert "168.63.129.16" in d.message
    assert "learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16" in d.hint
    [d] = diagnose(CASES["vnet in multicast space"])
    assert "Azure refuses the VNet" in d.message and "virtual-networks-faq" in d.hint


def test_overlap_names_both_ranges(diagnose):
    [d] = diagnose(CASES["pod range overlaps a vnet"])
    assert "10.10.128.0/17" in d.message and "`ne`'s vnetCidr 10.10.0.0/16" in d.message


def test_host_bits_hint_gives_the_network(diagnose):
    [d] = diagnose(CASES["host bits"])
    assert d.hint == "did you mean 10.120.0.0/16?"


def test_public_range_is_a_warning_and_strict_makes_it_an_error(diagnose):
    [warning] = diagnose(CASES["public range"])
    assert warning.severity is Severity.WARNING
    [error] = diagnose(CASES["public range"], strict=True)
    assert error.severity is Severity.ERROR


def test_a_single_address_service_range_with_a_dns_ip_is_reported(found):
    text = VALID.replace("    serviceCidr: 10.220.0.0/16\n",
                         "    serviceCidr: 10.220.0.0/32\n    dnsServiceIP: 10.220.0.0  # !AKM309\n")
    assert found(text) == expected(text)


@pytest.mark.parametrize("cidr, code", [("203.0.113.7/24", "AKM302"), ("203.0.113.0/33", "AKM301")])
def test_authorized_ranges_are_cidrs(found, cidr, code):
    text = VALID.replace("[203.0.113.0/24]", f"[{cidr}]  # !{code}")
    assert found(text) == expected(text)

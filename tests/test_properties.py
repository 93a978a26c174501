"""Properties of the pipeline for any input, checked with hypothesis, in process.

- `compiler.validate` never raises, whatever the file holds (random YAML structures, random
  text and bytes, damaged copies of a valid topology), and every diagnostic it returns has
  a registered code and a position inside the file.
- A topology that validates without errors also renders (`compile_topology` gives files).
- Every topology built by the `valid_topologies` strategy validates without errors, renders,
  and renders the same files twice.
"""

from __future__ import annotations

import copy
import io
import itertools
from ipaddress import IPv4Network
from pathlib import Path

import pytest
import yaml
from hypothesis import event, example, given, settings, strategies as st

from conftest import VALID
from generator import compiler, facts
from generator.diagnostics import codes, has_errors
from generator.example import example_topology

# Each example writes one small file and runs the pipeline in process: no deadline (the
# first example pays for imports and template loading), and examples kept few enough that
# the whole module takes well under a minute.
FAST = settings(max_examples=300, deadline=None)
SLOW = settings(max_examples=100, deadline=None)

_names = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    # Module-scoped: hypothesis refuses function-scoped fixtures such as tmp_path, which
    # would not be reset between the examples of one test.
    return tmp_path_factory.mktemp("properties")


def write(workdir: Path, content: str | bytes) -> Path:
    path = workdir / f"t{next(_names)}.yaml"
    if isinstance(content, str):
        content = content.encode("utf-8", errors="surrogatepass")
    path.write_bytes(content)
    return path


def assert_well_formed(result: compiler.Result, path: Path) -> None:
    """Every diagnostic has a registered code and, if it is about the topology (AKM0xx to
    AKM4xx; later ones are about the rendered tree or the CA), names the file and a place
    inside it."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = len(text.splitlines()) or 1  # splitlines knows more line breaks than YAML
    for d in result.diagnostics:
        assert d.code in codes(), d
        assert d.severity is codes()[d.code].severity, d
        if d.code >= "AKM5":
            continue
        assert d.file == str(path), d
        assert 1 <= d.line <= lines + 1, (d, lines)
        assert d.col >= 1, d
        assert d.message, d


def validate(path: Path) -> compiler.Result:
    result = compiler.validate(path)  # must not raise, whatever the file holds
    assert_well_formed(result, path)
    # For --hypothesis-show-statistics: how far the examples get.
    event("valid" if result.ok else f"first finding {result.diagnostics[0].code}")
    return result


def assert_renders(path: Path) -> dict[str, str]:
    result = compiler.compile_topology(path)
    assert_well_formed(result, path)
    assert result.ok and result.files, [d.format_text() for d in result.diagnostics]
    return result.files


# ------------------------------------------------------------------ random structures

CLUSTER_KEYS = ["name", "id", "region", "vnetCidr", "nodeSubnetCidr", "podCidr",
                "serviceCidr", "dnsServiceIP", "clustermeshIP"]
TOPOLOGY_KEYS = CLUSTER_KEYS + [
    "kubernetesVersion", "cilium", "version", "maxConnectedClusters", "aks", "tier",
    "systemPool", "vmSize", "count", "zones", "maxPods", "osSku", "privateCluster",
    "disableLocalAccounts", "azureRbac", "workloadIdentity", "azurePolicy", "upgradeChannel",
    "nodeOsUpgradeChannel", "gitops", "path", "clusters",
]
PLAUSIBLE = [
    "mesh", "ne", "default", "1.36", "1.27", "1.20.0", "westeurope", "mars", "Standard",
    "10.10.0.0/16", "10.10.0.0/22", "10.10.1.0/16", "10.0.0.0/8", "0.0.0.0/0", "10.0.0.0/32",
    "10.0.0.0/33", "300.1.1.1/8", "fd00::/64", "10.210.0.10", "10.10.3.250", "../x", "",
    "~", "\ufeff", "а", "１",
]
keys = st.sampled_from(TOPOLOGY_KEYS) | st.text(max_size=12)
scalars = (st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=24)
           | st.sampled_from(PLAUSIBLE))
structures = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=5)
                      | st.dictionaries(keys | st.integers(-3, 3), children, max_size=6)),
    max_leaves=40)


@FAST
@given(data=st.dictionaries(keys, structures, max_size=8) | structures,
       flow=st.sampled_from([None, True, False]), unicode=st.booleans())
def test_random_structures_never_raise(workdir, data, flow, unicode):
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode)
    validate(write(workdir, text))


# YAML's own punctuation, so that random text is often almost YAML.
YAML_ALPHABET = st.sampled_from(list(
    "abcdefghijklmnopqrstuvwxyz0123456789 \n\n\n:-?[]{},&*|>'\"#%@`.~/\\<=\r\x85\u2028\ufeff"))
yaml_text = st.text(YAML_ALPHABET, max_size=300)
any_text = st.text(max_size=300)


@FAST
@given(text=yaml_text | any_text)
def test_random_text_never_raises(workdir, text):
    validate(write(workdir, text))


@FAST
@given(content=st.binary(max_size=400))
def test_random_bytes_never_raise(workdir, content):
    validate(write(workdir, content))


# Pieces of YAML syntax to insert into a valid topology.
FRAGMENTS = st.sampled_from([
    "!!int x", "!!binary aGk=", "!x ", "!!set {a}", "<<: *c\n", "? ", "2026-11-01", "\t",
    "&c ", "*c", "*nope", "- ", "{", "}", "[", "]", ", ", ": ", "---\n", "...\n",
    "%YAML 1.1\n", "# ", "|\n", ">-\n", "'", '"', "~", "null", ".nan", ".inf", "0x1F",
    "0o17", "1e3", "1.0", "-1", "\n", "  ", "\ufeff", "\r\n", "\\", "id: 1\n",
    "name: ne\n", "name: default\n", "region: mars\n", "podCidr: 10.10.0.0/16\n",
    "clusters: []\n", "- *c\n",
])
# VALID with an anchor on its first cluster, for the aliases above to refer to.
ANCHORED = VALID.replace("  - name: ne\n", "  - &c\n    name: ne\n")


@FAST
@given(data=st.data())
def test_damaged_text_of_a_valid_topology_never_raises(workdir, data):
    """Insert, delete or replace a few characters or pieces of syntax anywhere."""
    text = data.draw(st.sampled_from([VALID, ANCHORED]), "base")
    for _ in range(data.draw(st.integers(1, 4), "edits")):
        start = data.draw(st.integers(0, len(text)), "start")
        end = data.draw(st.integers(start, min(len(text), start + 12)), "end")
        insert = "".join(data.draw(st.lists(FRAGMENTS | st.text(YAML_ALPHABET, max_size=3),
                                            max_size=3), "insert"))
        text = text[:start] + insert + text[end:]
    path = write(workdir, text)
    if validate(path).ok:
        assert_renders(path)


# ------------------------------------------------------------------ mutations of a valid topology


def _paths(node, prefix=()):
    """Every path into a structure of dicts and lists."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(data, path):
    node = data
    for step in path[:-1]:
        node = node[step]
    return node


octets = st.integers(0, 255) | st.sampled_from([256, 300, 999])
cidrs = st.builds(lambda a, b, c, d, n: f"{a}.{b}.{c}.{d}/{n}", octets, octets, octets, octets,
                  st.integers(8, 32) | st.sampled_from([0, 33, 40]))
# A CIDR without host bits, anywhere in 10.0.0.0/8: often valid, sometimes overlapping.
networks = st.builds(lambda b, c, n: str(IPv4Network(f"10.{b}.{c}.0/{n}", strict=False)),
                     st.integers(0, 255), st.integers(0, 255), st.integers(12, 28))
addresses = st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", octets, octets, octets, octets)
mutation_scalars = (st.none() | st.booleans() | st.integers(-5, 600)
                    | st.sampled_from([0.5, 1.36, -2.5, 1e-9, 3.0, float("nan"), float("inf")])
                    | st.floats(-1e6, 1e6)
                    | st.text(max_size=40) | st.sampled_from(PLAUSIBLE) | cidrs | addresses)
mutation_values = st.recursive(
    mutation_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8)
names = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?\Z") | st.text(max_size=40)


@st.composite
def mutated_topologies(draw):
    base = draw(st.sampled_from(["valid", 3, 4, 5, 6]))
    data = yaml.safe_load(VALID if base == "valid" else example_topology(base))
    for _ in range(draw(st.integers(1, 3), "mutations")):
        paths = [p for p in _paths(data) if p]
        clusters = data.get("clusters") if isinstance(data, dict) else None
        operation = draw(st.sampled_from(["delete", "replace", "add", "duplicate cluster",
                                          "swap fields", "id", "cidr", "address", "name"]))
        if operation == "delete" and paths:
            path = draw(st.sampled_from(paths))
            del _parent(data, path)[path[-1]]
        elif operation == "replace" and paths:
            path = draw(st.sampled_from(paths))
            _parent(data, path)[path[-1]] = draw(mutation_values)
        elif operation == "add":
            targets = [p for p in _paths(data) if isinstance(_parent(data, (*p, None)), dict)]
            target = _parent(data, (*draw(st.sampled_from(targets)), None))
            target[draw(keys)] = draw(mutation_values)
        elif not isinstance(clusters, list) or len(clusters) < 2:
            continue
        elif operation == "duplicate cluster":
            clusters.insert(draw(st.integers(0, len(clusters))),
                            copy.deepcopy(draw(st.sampled_from(clusters))))
        elif operation == "swap fields":
            i, j = draw(st.lists(st.integers(0, len(clusters) - 1), min_size=2, max_size=2,
                                 unique=True))
            a, b = clusters[i], clusters[j]
            if isinstance(a, dict) and isinstance(b, dict):
                for key in draw(st.lists(st.sampled_from(CLUSTER_KEYS), max_size=4)):
                    if key in a and key in b:
                        a[key], b[key] = b[key], a[key]
        else:
            cluster = draw(st.sampled_from(clusters))
            if not isinstance(cluster, dict):
                continue
            if operation == "id":
                cluster["id"] = draw(st.integers(-1, 520) | st.sampled_from(
                    [c.get("id") for c in clusters if isinstance(c, dict)]))
            elif operation == "cidr":
                key = draw(st.sampled_from(["vnetCidr", "nodeSubnetCidr", "podCidr",
                                            "serviceCidr"]))
                value = draw(networks | cidrs | st.sampled_from(
                    [c.get(k) for c in clusters if isinstance(c, dict)
                     for k in ("vnetCidr", "podCidr", "serviceCidr")]))
                cluster[key] = value
            elif operation == "address":
                cluster[draw(st.sampled_from(["dnsServiceIP", "clustermeshIP"]))] = draw(addresses)
            else:
                cluster["name"] = draw(names | st.sampled_from(
                    [c.get("name") for c in clusters if isinstance(c, dict)]))
    return data


@SLOW
@given(data=mutated_topologies(), flow=st.sampled_from([None, False]))
def test_mutated_topologies_never_raise_and_render_when_valid(workdir, data, flow):
    path = write(workdir, yaml.safe_dump(data, sort_keys=False, default_flow_style=flow,
                                         allow_unicode=True))
    result = validate(path)
    if result.ok:
        assert_renders(path)


# YAML 1.2 breaks lines at LF and CR only: in a comment, NEL, LS and PS are characters like
# any other, and every position after them stays where a YAML 1.2 reader puts it.
_comment_chars = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl",
                                                                        "Zp")), max_size=12)
# At least one of the three in every comment, text (often YAML syntax) on both sides.
comment_text = st.builds(lambda parts: "".join(parts), st.lists(
    st.tuples(_comment_chars | st.sampled_from(["a: [", "- {", "x: y", " &a *b"]),
              st.sampled_from("\x85\u2028\u2029")).map("".join), min_size=1, max_size=3))


@SLOW
@given(data=mutated_topologies(), comment=comment_text)
# Found by hypothesis: findings about the whole document (at 1:1) and about `clusters` on
# the line after the comment.
@example(data={k: v for k, v in yaml.safe_load(VALID).items() if k != "name"}, comment="\x85")
@example(data={"clusters": yaml.safe_load(VALID)["clusters"][1:]}, comment="\u2028")
def test_a_comment_with_nel_ls_or_ps_moves_no_position(workdir, data, comment):
    """The same file with the comment's NEL, LS and PS replaced by `x`: same positions."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    plain = comment.translate({ord(char): "x" for char in "\x85\u2028\u2029"})

    def places(comment_text):
        result = validate(write(workdir, f"# {comment_text}\n{text}"))
        return [(d.code, d.line, d.col) for d in result.diagnostics if d.code < "AKM5"]

    assert places(comment) == places(plain)


# ------------------------------------------------------------------ valid topologies


cluster_names = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?\Z").filter(
    lambda name: name != "default")


@st.composite
def valid_topologies(draw):
    """A valid topology: 2 to 12 clusters with disjoint private VNets and pod ranges."""
    count = draw(st.integers(2, 12), "clusters")
    max_connected = draw(st.sampled_from([255, 511]))
    names = draw(st.lists(cluster_names, min_size=count, max_size=count, unique=True))
    ids = draw(st.lists(st.integers(1, max_connected), min_size=count, max_size=count,
                        unique=True))
    # Every VNet and pod range gets its own /16 of 10.0.0.0/8 (or of 100.64.0.0/10 for
    # pods), so they are disjoint; service ranges come from 172.16.0.0/12 or
    # 192.168.0.0/16, clear of them all, and may repeat between clusters.
    blocks = draw(st.lists(st.integers(0, 255), min_size=2 * count, max_size=2 * count,
                           unique=True))
    clusters = []
    for i in range(count):
        vnet = IPv4Network(f"10.{blocks[i]}.0.0/{draw(st.integers(16, 24))}")
        subnet = next(vnet.subnets(new_prefix=draw(st.integers(vnet.prefixlen, 28))))
        pod_block = blocks[count + i]
        pod = IPv4Network(draw(st.sampled_from([f"10.{pod_block}.0.0",
                                                f"100.{64 + pod_block % 64}.0.0"]))
                          + f"/{draw(st.integers(16, 24))}")
        if pod.network_address.packed[0] == 100 and any(
                IPv4Network(c["podCidr"]).overlaps(pod) for c in clusters):
            pod = IPv4Network(f"10.{pod_block}.0.0/16")
        service = IPv4Network(draw(st.sampled_from(
            [f"172.{draw(st.integers(16, 29))}.0.0/16", "192.168.0.0/16",
             f"192.168.{draw(st.integers(0, 255))}.0/24"])))
        cluster = {"name": names[i], "id": ids[i],
                   "region": draw(st.sampled_from(sorted(facts.AZURE_REGIONS))),
                   "vnetCidr": str(vnet), "nodeSubnetCidr": str(subnet),
                   "podCidr": str(pod), "serviceCidr": str(service)}
        if draw(st.booleans()):
            # Not the network, first or broadcast address (AKM309).
            cluster["dnsServiceIP"] = str(service[draw(st.integers(2, service.num_addresses - 2))])
        if draw(st.booleans()):
            cluster["clustermeshIP"] = str(subnet[draw(st.integers(4, subnet.num_addresses - 2))])
        clusters.append(cluster)
    topology = {"name": draw(cluster_names),
                "kubernetesVersion": draw(st.sampled_from(facts.AKS_SUPPORTED_MINORS)),
                "clusters": clusters}
    if draw(st.booleans()):
        topology["cilium"] = {"version": facts.CILIUM_DEFAULT_VERSION,
                              "maxConnectedClusters": max_connected}
    elif max_connected == 511:
        topology["cilium"] = {"maxConnectedClusters": 511}
    # Who administers the clusters and who reaches their API servers: required (AKM431,
    # AKM432) in every valid topology.
    topology["aks"] = {"adminGroupObjectIds": ["00000000-0000-0000-0000-000000000000"],
                       "authorizedIpRanges": ["203.0.113.0/24"]}
    if draw(st.booleans()):
        topology["aks"] |= {
            "tier": draw(st.sampled_from(["Free", "Standard", "Premium"])),
            "privateCluster": draw(st.booleans()),
            "upgradeChannel": draw(st.sampled_from(["none", "patch", "stable", "rapid",
                                                    "node-image"])),
            "systemPool": {"count": draw(st.integers(1, 100)),
                           "maxPods": draw(st.integers(10, 250)),
                           "zones": draw(st.lists(st.sampled_from(["1", "2", "3"]),
                                                  unique=True)),
                           "osSku": draw(st.sampled_from(["AzureLinux", "Ubuntu"]))},
        }
        if topology["aks"]["systemPool"]["zones"]:
            for cluster in clusters:  # zones asked for where the region has none: AKM430
                if not facts.REGION_ZONES[cluster["region"]]:
                    cluster["zones"] = []
    if draw(st.booleans()):
        topology["gitops"] = {"path": draw(st.sampled_from(["fleet/mesh", "clusters",
                                                            "a/b/c"]))}
    return topology


def dump_yaml_1_2(data, flow: bool | None) -> str:
    """YAML as aksmesh reads it (1.2). PyYAML writes YAML 1.1, where `08` is a string and
    may stay unquoted; in YAML 1.2 it is the integer 8."""
    from ruamel.yaml import YAML

    dumper = YAML(typ="safe", pure=True)
    dumper.default_flow_style = flow
    text = io.StringIO()
    dumper.dump(data, text)
    return text.getvalue()


@settings(max_examples=60, deadline=None)
@given(topology=valid_topologies(), flow=st.sampled_from([None, False]))
def test_valid_topologies_validate_and_render_deterministically(workdir, topology, flow):
    path = write(workdir, dump_yaml_1_2(topology, flow))
    result = validate(path)
    assert not has_errors(result.diagnostics), [d.format_text() for d in result.diagnostics]
    assert result.plan is not None
    assert [c.name for c in result.plan.clusters] == [c["name"] for c in topology["clusters"]]
    first = assert_renders(path)
    assert first == assert_renders(path)
    for cluster in topology["clusters"]:
        assert f"clusters/{cluster['name']}/cilium/values.yaml" in first

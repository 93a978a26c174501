"""Diagnostics are data: one frozen record per finding, one registry of codes.

Rules never compute line numbers: they yield a `Finding` that names a topology path, and
`locate` (in `load`) turns the path into a position. The registry, `codes()`, is the single
source of codes, severities and explanations; docs are generated from it. Each rule family
in `rules/` declares the codes its rules yield next to them, and so do the day-2
classifications (`state_changes`, `aks_changes`); the codes of the other stages are declared
below, and the registry joins them all, refusing a code declared twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Iterable


class Severity(enum.IntEnum):
    NOTE = 0  # says what was not checked; never fails a run, not even under --strict
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Code:
    id: str
    severity: Severity
    title: str
    explanation: str
    example: str  # input that triggers it: a topology fragment or a command


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A finding placed in a file. Ordering sorts by position, then code."""

    file: str
    line: int
    col: int
    code: str
    message: str = field(compare=False)
    hint: str = field(default="", compare=False)
    severity: Severity = field(default=Severity.ERROR, compare=False)
    path: tuple[str | int, ...] = field(default=(), compare=False)

    def format_text(self) -> str:
        label = "" if self.severity is Severity.ERROR else f"{self.severity}: "
        text = f"{self.file}:{self.line}:{self.col}: {self.code} {label}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_error(self) -> Diagnostic:
        if self.severity is Severity.WARNING:
            return replace(self, severity=Severity.ERROR)
        return self


@dataclass(frozen=True)
class Finding:
    """What a check yields: a code, where in the topology, what and how to fix it."""

    code: str
    path: tuple[str | int, ...]
    message: str
    hint: str = ""
    # Point at the key of a mapping entry rather than its value (unknown keys, names).
    at_key: bool = False
    # A number where text belongs: the hint quotes the value as written (YAML reads 1.30
    # as 1.3, and 08 as 8), which only the located document knows.
    quote_as_written: bool = False


def registry(codes: Iterable[Code]) -> dict[str, Code]:
    """The codes by id; a code declared twice is refused."""
    by_id: dict[str, Code] = {}
    for code in codes:
        if code.id in by_id:
            raise ValueError(f"duplicate diagnostic code {code.id}")
        by_id[code.id] = code
    return by_id


E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE

# 0xx: reading the file (load)
READING = (
    Code("AKM001", E, "file cannot be read",
         "The topology path does not exist, is a directory, or is not UTF-8 text.",
         "aksmesh validate topologies/  # a directory, not a file"),
    Code("AKM002", E, "YAML syntax error",
         "The file is not valid YAML 1.2 (this includes tab indentation).",
         "clusters:\n\t- name: ne  # a tab indents this line"),
    Code("AKM003", E, "duplicate key",
         "A mapping names the same key twice; YAML parsers disagree on which value wins, "
         "so aksmesh refuses the file.",
         "name: mesh\nname: mesh2"),
    Code("AKM004", E, "not a topology document",
         "The file is empty, holds several YAML documents, or its root is not a mapping.",
         "- name: ne  # the root is a list"),
    Code("AKM005", E, "file too large or too deeply nested",
         "The file exceeds aksmesh's size, depth or alias-expansion limits; a topology "
         "is a few kilobytes even for hundreds of clusters.",
         "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n# ... nine levels: a billion nodes"),
)

# load's too, numbered after the schema's codes (rules/schema.py)
READING_NUMBERS = (
    Code("AKM106", E, "number too long to read",
         "A plain number with more digits than any topology value could need (an id "
         "of thousands of digits). It is refused where it stands, before it is "
         "converted.",
         "clusters:\n  - name: ne\n    id: 1000000000000000000000000000000000000000...  # 5000 digits"),
)

# 44x, 5xx: verification of the rendered tree (a failure here is a bug in aksmesh, but for
# the note AKM440)
VERIFYING = (
    Code("AKM440", N, "Bicep resource type without type data",
         "aksmesh has no type data for a resource type it emits "
         "(facts.TYPES_WITHOUT_REFERENCE_DATA): its body is not checked offline, only "
         "its syntax. The Bicep compiler itself has the data.",
         "resource logs 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {...}"),
    Code("AKM441", E, "generated Bicep declares an unused parameter",
         "A parameter of a generated Bicep file is referenced nowhere in it (the Bicep "
         "linter rule no-unused-params).",
         "param authorizedIpRanges string[]  # in a private cluster's module"),
    Code("AKM442", E, "generated Bicep shadows a built-in function",
         "A symbol of a generated Bicep file has the name of a Bicep function, which it "
         "hides in that file (resourceGroup() can then no longer be called).",
         "resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {...}"),
    Code("AKM443", E, "main.bicepparam does not fit main.bicep",
         "The parameters file must name main.bicep in `using`, set every parameter "
         "main.bicep requires, only those it declares, with values of the declared "
         "type and within its decorators, as the Bicep compiler checks them.",
         "using 'main.bicep'\nparam adminGroupObjectIds = []  # @minLength(1)"),
    Code("AKM501", E, "generated Bicep does not parse",
         "tree-sitter-bicep found a syntax error in a generated Bicep file.",
         "resource x 'Microsoft.Network/virtualNetworks@2025-09-01' = {  # never closed"),
    Code("AKM502", E, "generated Bicep violates the Azure type data",
         "A resource body does not match the Bicep type data (unknown, read-only or "
         "missing properties, wrong types, patterns or ranges).",
         "properties: {\n  enableRbac: true  # the type data spells it enableRBAC\n}"),
    Code("AKM511", E, "generated manifest violates its schema",
         "A rendered Flux object does not validate strictly against its CRD schema "
         "(from --crd-schemas), or no schema exists for its API version.",
         "apiVersion: helm.toolkit.fluxcd.io/v2beta2  # removed in Flux 2.8"),
    Code("AKM512", E, "generated Cilium values violate the chart's schema",
         "A rendered values.yaml does not validate against the Cilium chart's "
         "values.schema.json (from --cilium-values-schema).",
         'hubble:\n  relay:\n    enabled: "yes"  # the chart expects a boolean'),
    Code("AKM514", E, "generated Cilium values disagree with the plan",
         "A cluster's values.yaml does not carry its planned name, id, pod range, "
         "ClusterMesh IP or exactly its planned mesh peers.",
         "clustermesh:\n  config:\n    clusters:\n      we: ...  # the cluster itself, or a peer at the wrong IP"),
    Code("AKM515", E, "secret in clear in the output",
         "A rendered file holds a private key or an unencrypted Secret value.",
         "a PEM private key block, or a Secret with stringData in clear, in a rendered file"),
    Code("AKM520", E, "a Kustomization's objects do not apply in order",
         "Applied as kustomize-controller does (staged server-side apply: Namespaces "
         "and CRDs first, every object dry-run before any is applied, dependsOn "
         "honoured), an object is refused: its namespace does not exist, its kind is "
         "not served yet, or an encrypted Secret is not decrypted. One refusal fails "
         "the whole Kustomization.",
         "kind: Service\nmetadata:\n  namespace: rebel-base  # no Namespace rebel-base "
         "on this cluster"),
    Code("AKM521", E, "a rendered Namespace is not left to its owners",
         "A Namespace aksmesh renders for the mesh's objects must carry "
         "`kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` and "
         "`kustomize.toolkit.fluxcd.io/prune: disabled`, so Flux never takes over or "
         "deletes an app team's namespace.",
         "kind: Namespace\nmetadata:\n  name: rebel-base  # no annotations"),
    Code("AKM522", E, "a rendered core object the API server refuses",
         "Validated as the Kubernetes API server does (k8s_validation, from "
         "pkg/apis/core/validation): names, port names and numbers, unique ports, "
         "label and annotation keys and values. A JSON schema checks none of these.",
         "kind: Service\nspec:\n  ports:\n    - {port: 80}\n    - {port: 80}"),
    Code("AKM523", E, "a rendered file that flux bootstrap owns",
         "gotk-components.yaml and gotk-sync.yaml are written by `flux bootstrap` on "
         "every run; aksmesh must never render them.",
         "clusters/ne/flux-system/gotk-sync.yaml  # in the rendered tree"),
    Code("AKM540", E, "rendered policies disagree with the declared flows",
         "The reachability model (Cilium's policy semantics applied to the rendered "
         "objects) found pods of one cluster admitted into another where no flow "
         "declares it, or refused where one does.",
         "ingressDeny:\n  - fromEndpoints:\n      - matchLabels: {io.cilium.k8s.policy.cluster: ne}  # denies a declared flow"),
    Code("AKM541", E, "rendered policies change traffic segmentation leaves alone",
         "The reachability model found that aksmesh's policies change what a pod admits "
         "from its own cluster, from nodes or from outside the mesh, or widen what a "
         "user's own policy admits.",
         "ingress:\n  - fromEntities: [cluster, world]  # an allow widens every user policy"),
    Code("AKM542", E, "rendered global service load-balances other than declared",
         "The reachability model found a cluster whose global Service sends clients to "
         "clusters other than the service's backends, or in another order than its "
         "affinity says.",
         "spec:\n  selector: {name: rebel-base}  # in a cluster outside backends"),
    Code("AKM543", E, "rendered mesh object outside the reachability model",
         "A rendered policy or Service uses a field the reachability model does not "
         "evaluate, so aksmesh cannot prove what it does.",
         "spec:\n  ingress:\n    - toPorts: [...]  # not modelled"),
    Code("AKM560", E, "a HelmRelease does not merge the values verify checked",
         "Each cluster's Cilium values are the shared infrastructure/cilium-mesh "
         "values, then the cluster's own: its HelmRelease must take valuesFrom the "
         "cilium-mesh-values and cilium-values ConfigMaps, whole and in that order, and "
         "its cilium kustomization must list the shared directory.",
         "valuesFrom:\n  - kind: ConfigMap\n    name: cilium-values  # cilium-mesh-values "
         "missing"),
)

# 6xx: inputs besides the topology: the shared CA, schema and type data
INPUTS = (
    Code("AKM601", W, "no shared Cilium CA",
         "Without the CA file that `aksmesh ca init` creates, every cluster generates "
         "its own CA and the clusters cannot authenticate each other. render still "
         "writes everything else.",
         "aksmesh render topologies/mesh.yaml  # no topologies/mesh/cilium-ca.sops.yaml"),
    Code("AKM602", E, "CA file not usable",
         "The CA file beside the topology must be the sops-encrypted Secret in "
         "flux-system that `aksmesh ca init` writes; aksmesh never copies a CA in clear.",
         "topologies/mesh/cilium-ca.sops.yaml  # a Secret in clear"),
    Code("AKM610", W, "the shared CA must be rotated soon",
         "Cilium's certgen refuses to issue a certificate that would outlive the CA "
         "(certgen.enforceCAValidityThroughoutLeavesDuration): from the CA's expiry "
         "minus the 365-day leaf validity on, no mesh or Hubble certificate is renewed "
         "and the mesh stops when the last ones expire. `check` and `render` warn 180 "
         "days before that date.",
         "aksmesh check topologies/mesh.yaml  # a CA that expires in 500 days"),
    Code("AKM611", E, "the shared CA can no longer renew the mesh's certificates",
         "certgen already refuses to issue leaves from this CA (it expires within "
         "their 365 days), or the CA is valid for less than one leaf's lifetime.",
         "aksmesh check topologies/mesh.yaml  # a CA that expires in 300 days"),
    Code("AKM612", W, "the shared CA's expiry cannot be read",
         "The CA file does not carry the CA certificate in clear (an older aksmesh "
         "wrote it), so its lifetime cannot be checked without the age key.",
         "topologies/mesh/cilium-ca.sops.yaml  # no aksmesh.io/ca-certificate annotation"),
    Code("AKM603", E, "schema or type data not usable",
         "A file given with --bicep-types, --crd-schemas or --cilium-values-schema is "
         "not JSON, a schema is not a draft 7 JSON Schema, or a types.json is not what "
         "Azure/bicep-types-az writes (a list of types whose `$ref`s point inside it). "
         "The check it was for cannot run, so nothing is written.",
         '[{"$type": "ResourceType", "name": ...  # a types.json cut short'),
    Code("AKM604", E, "shipped verification data damaged",
         "A file of the verification data inside the aksmesh package cannot be read or "
         "is not what scripts/derive_data.py writes: the installation is damaged. The "
         "check it was for cannot run, so nothing is written.",
         "generator/data/cilium/values.schema.json  # truncated by a failed copy"),
)

# 9xx: the output tree
OUTPUT = (
    Code("AKM901", E, "output tree out of date",
         "`aksmesh check` found a file that differs from what `aksmesh render` writes, "
         "one it would create, or one it would remove.",
         "aksmesh check topologies/mesh.yaml  # out/mesh/README.md was edited by hand"),
    Code("AKM902", E, "output path is not a tree aksmesh wrote",
         "OUT/<name> is a file, a symlink, or a directory that is not empty and has no "
         ".aksmesh-files record. aksmesh replaces only trees it wrote; it moves nothing.",
         "aksmesh render topologies/mesh.yaml  # out/mesh is a symlink to ../common"),
    Code("AKM903", E, "output tree cannot be replaced",
         "The directory that holds OUT/<name>, or a directory inside the tree, is not "
         "writable: the swap, or the removal of the old tree after it, would fail "
         "half-way. Nothing is moved.",
         "chmod -R a-w out/mesh && aksmesh render topologies/mesh.yaml"),
    Code("AKM904", E, "another render is writing the tree",
         "Renders of one tree take turns on the lock file OUT/.<name>.aksmesh-lock; "
         "this one waited for the other longer than aksmesh's limit and gave up.",
         "aksmesh render topologies/mesh.yaml & aksmesh render topologies/mesh.yaml"),
    Code("AKM905", E, "a user's entry is in the way",
         "A file or symlink aksmesh does not own stands where it writes a directory, or "
         "a directory where it writes a file. aksmesh never writes through a user's "
         "symlink, and never removes what it does not own.",
         "ln -s ../common out/mesh/bicep  # aksmesh writes bicep/main.bicep"),
)


def code_sections() -> tuple[tuple[str, tuple[Code, ...]], ...]:
    """Every code, under the stage or rule family that yields it, in the registry's order
    (a heading comes back where numbers interleave: load's AKM106 follows the schema's)."""
    # Imported here: the rule families and the day-2 classification import this module's
    # records.
    from . import aks_changes, state_changes
    from .rules import addresses, day2, mesh, names, platform, schema

    return (("Reading the file", READING), ("The schema", schema.CODES),
            ("Reading the file", READING_NUMBERS), ("Names and ids", names.CODES),
            ("Global services and segmentation", mesh.CODES),
            ("Addresses", addresses.CODES), ("Platform support", platform.CODES),
            ("Verification of the rendered tree", VERIFYING),
            ("Inputs besides the topology", INPUTS),
            ("Changes to a running mesh", state_changes.CODES + aks_changes.CODES),
            ("Rollout waves and extra Cilium values", day2.CODES),
            ("The output tree", OUTPUT))


@cache
def codes() -> dict[str, Code]:
    """The registry: every code by id, in the order the docs list them. Built on first use,
    once the rule families (which import this module) can be."""
    return registry(code for _, section in code_sections() for code in section)


def diagnostic(code: str, file: str, line: int, col: int, message: str, hint: str = "",
               path: tuple[str | int, ...] = ()) -> Diagnostic:
    return Diagnostic(file=file, line=line, col=col, code=code, message=message, hint=hint,
                      severity=codes()[code].severity, path=path)


def did_you_mean(word: str, candidates: list[str]) -> str:
    """A hint naming the candidate `word` was probably meant as: same letters in another
    case first, else the closest spelling; empty when nothing is close."""
    import difflib  # only a run with findings needs it

    by_case = {c.lower(): c for c in candidates}
    match = by_case.get(word.lower()) or next(
        iter(difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)), None)
    return f"did you mean `{match}`?" if match else ""


def dotted(path: Iterable[object], root: str = "") -> str:
    """A path as a message names it: `clusters[0].name`, `properties.subnets[1]`; `root`
    names the empty path."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text or root


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def strict(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """--strict: every warning becomes an error."""
    return [d.as_error() for d in diagnostics]

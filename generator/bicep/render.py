"""The Bicep backend's render: the Azure side of the tree (resource groups, VNets, the AKS
clusters, the VNet mesh, the Fleet), from the plan; templates under templates/bicep/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import facts
from ..backend import Output

if TYPE_CHECKING:
    from ..ca import SharedCa
    from ..plan_records import Plan
    from ..render import CaContext
    from ..templating import Templates

# Output path → template, for files rendered once per topology; then by kind of peering.
BICEP_FILES = {
    "bicep/main.bicep": "bicep/main.bicep.j2",
    "bicep/main.bicepparam": "bicep/main.bicepparam.j2",
    "bicep/modules/cluster-stack.bicep": "bicep/modules/cluster-stack.bicep.j2",
    "bicep/modules/cluster.bicep": "bicep/modules/cluster.bicep.j2",
}
PEERING_FILES = {
    "full-mesh": {"bicep/modules/peerings.bicep": "bicep/modules/peerings.bicep.j2"},
    "avnm": {"bicep/modules/network-manager.bicep": "bicep/modules/network-manager.bicep.j2"},
}
# With rollout waves: the Fleet Manager fleet whose update strategy stages them.
FLEET_FILES = {"bicep/modules/fleet.bicep": "bicep/modules/fleet.bicep.j2"}


def render_bicep(plan: Plan, env: Templates, ca: SharedCa | None,
                 ca_context: CaContext) -> Output:
    """The Bicep files of `plan` (the CA is not Azure's: Bicep never sees it)."""
    bicep = {**BICEP_FILES, **PEERING_FILES[plan.peering], **(FLEET_FILES if plan.fleet else {})}
    return Output({path: env.get_template(template).render(plan=plan, facts=facts)
                   for path, template in bicep.items()})


def api(resource_type: str) -> str:
    """`type@apiVersion` from the one table of API versions."""
    return f"{resource_type}@{facts.API_VERSIONS[resource_type]}"


def bicep_literal(value: bool) -> str:
    return "true" if value else "false"


_BICEP_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r",
                                "\t": "\\t"})


def bicep_string(text: str) -> str:
    """Text for inside a single-quoted Bicep string: quotes, backslashes and line breaks
    escaped, and `${`, which would start an interpolation, written `\\${`."""
    return text.translate(_BICEP_ESCAPES).replace("${", "\\${")

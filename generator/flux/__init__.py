"""The GitOps backend: Flux manifests and Cilium Helm values, and the models of their
consumers that verify runs on them:

- `render`: each cluster's Flux tree and Cilium values (`cilium_values`, merged as
  `helm_values` models helm-controller), the shared files, the CA's Secret;
- `verify`: every object against its schema, the values against the chart and the plan;
- `verify_apply`: kustomize-controller's staged apply (`apply_model`), with the API
  server's validation of core kinds (`k8s_validation`);
- `verify_mesh`: the mesh apps as Cilium reads them (`cilium_policy`, `rendered_objects`,
  `reachability`) against the plan's intent;
- `yaml_text`: the values files, written from the data with comments that say why;
- `manifests`: the rendered files parsed once, for all of them.
"""

from __future__ import annotations

from ..backend import Backend
from . import yaml_text
from .render import CA_WIRING, NAME, render_flux
from .verify import verify_flux_files
from .verify_apply import verify_apply_order
from .verify_mesh import verify_mesh_intent

FLUX = Backend(
    name=NAME,
    render=render_flux,
    checks=(verify_flux_files,
            lambda plan, rendered, sources: verify_apply_order(plan, rendered.files),
            lambda plan, rendered, sources: verify_mesh_intent(plan, rendered.files)),
    template_filters={"yaml_scalar": yaml_text.scalar},
    ca=CA_WIRING,
)

"""The Bicep backend: the Azure side of the tree, and its offline verifier in parts, as
cfn-lint keeps them apart:

- `render`: the plan into Bicep files (templates/bicep/);
- `verify`: the checks verify runs on them, with the parts below;
- `read`: tree-sitter-bicep parsing; bodies, declarations and decorators as data, with positions;
- `syntax`: syntax findings;
- `type_data`: the bicep-types-az type library and its cache;
- `typecheck`: resource bodies checked against the type data;
- `lint`: linter rules over a whole file (no-unused-params, no name hiding a function);
- `params`: a `.bicepparam` file checked against its template.

Importing the package stays light: tree-sitter is imported by the checks, when they run.
"""

from __future__ import annotations

from ..backend import Backend
from .render import api, bicep_literal, bicep_string, render_bicep
from .verify import verify_bicep_files

BICEP = Backend(
    name="bicep",
    render=render_bicep,
    checks=(lambda plan, rendered, sources:
            verify_bicep_files(plan, rendered.files, sources.bicep_types),),
    template_filters={"bicep": bicep_literal, "bicep_string": bicep_string},
    # A global the templates call: api("Microsoft.Network/virtualNetworks").
    template_globals={"api": api},
)

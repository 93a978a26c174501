"""Offline verification of generated Bicep, in parts as cfn-lint keeps them apart:

- `read`: tree-sitter-bicep parsing; bodies, declarations and decorators as data, with positions;
- `syntax`: syntax findings;
- `type_data`: the bicep-types-az type library and its cache;
- `typecheck`: resource bodies checked against the type data;
- `lint`: linter rules over a whole file (no-unused-params, no name hiding a function);
- `params`: a `.bicepparam` file checked against its template.

This module re-exports the public names of each part.
"""

from __future__ import annotations

from .lint import shadowed_functions, unused_parameters
from .params import ParameterSignature, bicepparam_findings, parameter_signatures
from .read import (BicepFinding, Declaration, Expression, ResourceDeclaration,
                   declaration_decorators, resource_declarations, top_level_declarations)
from .syntax import syntax_errors
from .type_data import TypeLibrary
from .typecheck import bicep_findings, check_body, verify_bicep

__all__ = [
    "BicepFinding",
    "Declaration",
    "Expression",
    "ParameterSignature",
    "ResourceDeclaration",
    "TypeLibrary",
    "bicep_findings",
    "bicepparam_findings",
    "check_body",
    "declaration_decorators",
    "parameter_signatures",
    "resource_declarations",
    "shadowed_functions",
    "syntax_errors",
    "top_level_declarations",
    "unused_parameters",
    "verify_bicep",
]

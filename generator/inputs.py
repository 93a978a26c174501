"""Stage 1, load, for every input but the topology: the files the compiler reads beside it.

aksmesh's own schema and templates, the schema and type data files a user gives verify,
the shared CA kept beside a topology, and the state record a committed tree holds. Apart
from `load.py` because they need none of the topology's reading (source positions,
limits against hostile input, YAML 1.2): a path, and JSON or the CA file's own reader in
`ca.py`. A reference file that cannot be used still becomes a located `Diagnostic`
(AKM603), raised as `LoadError`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .diagnostics import diagnostic
from .load import LoadError

# aksmesh's own inputs, shipped inside the package (pyproject's package-data).
SCHEMA_PATH = Path(__file__).resolve().parent / "topology.schema.json"
TEMPLATES_DIR = SCHEMA_PATH.parent / "templates"


@cache  # read once however many topologies a command is given
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def shared_ca_path(topology: Path) -> Path:
    """Where `aksmesh ca init` keeps a topology's CA: a folder named like the topology file,
    beside it, so that `topologies/*.yaml` never takes it for a topology."""
    from .ca import CA_FILE_NAME

    return topology.parent / topology.stem / CA_FILE_NAME


def load_shared_ca(topology: Path):
    """The topology's encrypted CA, or None when `ca init` has not been run.

    Raises CaError when the file exists but is not an encrypted Secret in flux-system.
    """
    from .ca import inspect_ca_file

    path = shared_ca_path(topology)
    if not path.is_file():
        return None
    return inspect_ca_file(path.read_text(encoding="utf-8"), path.name)


def load_state(tree: Path) -> Any:
    """The state record a committed output tree holds (state.STATE_FILE), parsed; None
    when the tree has none yet. Raises ValueError when it is not JSON, OSError when it
    cannot be read."""
    from .state import STATE_FILE

    path = tree / STATE_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def load_reference_json(path: str | Path) -> Any:
    """A schema or type data file the user gave, parsed; LoadError when it is not JSON.
    OSError is the caller's to handle."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except ValueError as error:  # JSONDecodeError, or UnicodeDecodeError
        raise unusable_reference(str(path), f"not JSON: {getattr(error, 'msg', error)}",
                                 getattr(error, "lineno", 1), getattr(error, "colno", 1)
                                 ) from None


def unusable_reference(path: str, message: str, line: int = 1, col: int = 1) -> LoadError:
    """The error for a schema or type data file, given by the user, that cannot be used."""
    return LoadError(diagnostic("AKM603", path, line, col, message,
                                "use the file as its project publishes it "
                                "(Azure/bicep-types-az, a Flux or Cilium release)"))

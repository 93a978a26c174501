"""Golden trees: out/ holds exactly what render writes for every example topology.

Regenerate with `make render` and review the diff like a user would.
"""

import pytest
from conftest import PROJECT, run_cli

EXAMPLES = sorted((PROJECT / "topologies").glob("*.yaml"))


@pytest.mark.parametrize("topology", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_committed_output_is_current(topology):
    result = run_cli("check", "-o", PROJECT / "out", topology)
    assert result.exit_code == 0, result.output + "\nrun `make render` and review the diff"

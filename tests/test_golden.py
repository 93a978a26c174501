"""Golden trees: out/ holds exactly what render writes for every example topology.

Regenerate with `make render` and review the diff like a user would.
"""

import pytest
from click.testing import CliRunner

from conftest import PROJECT
from generator.cli import cli

EXAMPLES = sorted((PROJECT / "topologies").glob("*.yaml"))


@pytest.mark.parametrize("topology", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_committed_output_is_current(topology):
    result = CliRunner().invoke(cli, ["check", "-o", str(PROJECT / "out"), str(topology)])
    assert result.exit_code == 0, result.output + "\nrun `make render` and review the diff"

"""CI runs the property tests derandomized; local runs explore (profiles in conftest.py)."""

import os

from hypothesis import given, settings, strategies as st

from conftest import PROJECT


def _draws(profile: str) -> list[str]:
    seen: list[str] = []

    @settings(settings.get_profile(profile), max_examples=25)
    @given(st.text())
    def record(text: str) -> None:
        seen.append(text)

    record()
    return seen


def test_the_ci_profile_draws_the_same_examples_on_every_run():
    assert settings.get_profile("ci").derandomize
    assert settings.get_profile("ci").database is None  # nothing replayed from an earlier run
    assert _draws("ci") == _draws("ci")


def test_local_runs_explore():
    assert not settings.get_profile("dev").derandomize


def test_ci_selects_the_ci_profile_and_the_properties_inherit_it():
    lines = (PROJECT / ".ci" / "run").read_text().splitlines()
    assert "export HYPOTHESIS_PROFILE=ci" in [line.split("#")[0].strip() for line in lines]
    import test_properties

    expected = os.environ.get("HYPOTHESIS_PROFILE", "dev") == "ci"
    assert settings.default.derandomize is expected
    assert test_properties.FAST.derandomize is expected
    assert test_properties.SLOW.derandomize is expected

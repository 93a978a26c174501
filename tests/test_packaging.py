"""The built wheel is enough to run aksmesh: its schema, compiled templates and
verification data ship inside it, and a render from the wheel alone verifies everything."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import PROJECT


def test_a_built_wheel_renders_on_its_own(tmp_path):
    # As pip builds it for a user: in an isolated environment with the declared backend.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(tmp_path), str(PROJECT)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("aksmesh-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    sources = PROJECT / "generator"
    wanted = {p.relative_to(PROJECT).as_posix() for p in (sources / "data").rglob("*")
              if p.is_file()} | {"generator/topology.schema.json",
                                 "generator/compiled_templates.py"}
    assert wanted <= shipped, sorted(wanted - shipped)
    data = [info for info in zipfile.ZipFile(wheel).infolist()
            if info.filename.startswith("generator/data/")]
    assert sum(info.file_size for info in data) <= 2 * 1024 * 1024
    assert any(name.endswith(".dist-info/licenses/NOTICE") for name in shipped)

    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    # The unpacked wheel first on the path, run from elsewhere: nothing of the checkout.
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
         "from generator.__main__ import run; run()", str(installed), "render", "-o",
         str(tmp_path / "out"), str(PROJECT / "topologies" / "eu-three-regions.yaml")],
        cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # Nothing said about what was not checked: bodies, objects and values all were.
    assert "AKM" not in result.stdout + result.stderr
    readme = (tmp_path / "out" / "eu-three-regions" / "README.md").read_text()
    assert readme == (PROJECT / "out" / "eu-three-regions" / "README.md").read_text()
    assert "shipped with aksmesh" in readme

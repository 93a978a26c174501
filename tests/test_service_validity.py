"""verify validates every rendered core object the way the Kubernetes API server does
(generator/flux/k8s_validation.py, AKM522); the Services it would refuse are refused at
`validate` already (AKM211-AKM213, tests/rules/test_mesh.py). Before the fix all of these
rendered and verified as fine (checked on the tree of this issue's start).
"""

from __future__ import annotations

import pytest

from generator import compiler
from generator.flux import k8s_validation
from generator.flux.verify_apply import verify_apply_order
from bootstrap_model import example_topologies


@pytest.mark.parametrize("name", sorted(example_topologies()))
def test_no_rendered_core_object_is_refused(name):
    result = compiler.compile_topology(example_topologies()[name], compiler.Options())
    assert result.ok
    assert not [d for d in result.diagnostics if d.code == "AKM522"]


def _service(**spec):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"type": "ClusterIP", "selector": {"app": "web"}, **spec}}


@pytest.mark.parametrize("spec, field", [
    ({"ports": [{"port": 80}, {"port": 80}]}, ("spec", "ports", 1)),
    ({"ports": [{"name": "a", "port": 80}, {"port": 81}]}, ("spec", "ports", 1, "name")),
    ({"ports": [{"name": "HTTP", "port": 80}]}, ("spec", "ports", 0, "name")),
    ({"ports": [{"port": 80, "targetPort": "http--alt"}]}, ("spec", "ports", 0, "targetPort")),
    ({"ports": [{"port": 80, "targetPort": "8080"}]}, ("spec", "ports", 0, "targetPort")),
    ({"ports": [{"port": 80, "targetPort": "a-very-long-port-name"}]},
     ("spec", "ports", 0, "targetPort")),
    ({"ports": [{"port": 0}]}, ("spec", "ports", 0, "port")),
    ({"ports": [{"port": 80, "protocol": "HTTP"}]}, ("spec", "ports", 0, "protocol")),
    ({"ports": []}, ("spec", "ports")),
    ({"ports": [{"port": 80}], "selector": {"app": "a b"}}, ("spec", "selector", "app")),
])
def test_the_model_refuses_what_the_api_server_refuses(spec, field):
    assert field in [path for path, _ in k8s_validation.validate_object(_service(**spec))]


def test_the_model_accepts_a_valid_service():
    service = _service(ports=[{"name": "http", "port": 80, "targetPort": "http"},
                              {"name": "dns", "port": 53, "protocol": "UDP"},
                              {"name": "dns-tcp", "port": 53, "protocol": "TCP"}])
    assert list(k8s_validation.validate_object(service)) == []


def test_verify_reports_a_refused_rendered_service():
    result = compiler.compile_topology(example_topologies()["seed-demo"], compiler.Options())
    files = dict(result.files)
    path = "clusters/ne/mesh-apps/global-services.yaml"
    files[path] = files[path].replace("      name: http\n", "      name: HTTP\n", 1)
    assert [d.code for d in verify_apply_order(result.plan, files)] == ["AKM522"]

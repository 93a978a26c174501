"""The GitOps backend: Flux manifests and Cilium Helm values, and the models of their
consumers (kustomize-controller's staged apply, helm-controller's values merge, the
Kubernetes API's validation, Cilium's policy semantics) that verify runs on them."""

"""aksmesh: compile one topology file into Bicep and Flux for a Cilium ClusterMesh on AKS."""

"""Adopt: import what runs today (Kubernetes YAML, a live cluster, Terraform) as manifests."""

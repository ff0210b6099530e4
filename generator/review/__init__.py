"""Review: the privilege diff between two states of the manifests (`cgen diff`)."""

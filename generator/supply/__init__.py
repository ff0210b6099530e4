"""The supply chain: admission policies that verify image signatures and attestations,
and the CI workflow that builds, signs and attests the images."""

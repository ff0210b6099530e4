"""Scaffold: a first manifest for a service from its source folder (`cgen init`)."""

"""Terraform (hashicorp/kubernetes provider v3) equivalents of the Kubernetes objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..artifact import Artifact
from ..errors import UserError
from ..project import Project

if TYPE_CHECKING:
    from ..render import Folder


def artifacts(project: Project, folders: list[Folder]) -> list[Artifact]:
    """The .tf files beside the YAML layout."""
    raise UserError("the terraform format is not available yet")

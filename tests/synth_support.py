"""Apps configured like the sample app, and access to its synthesized templates."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk

REPO = Path(__file__).resolve().parent.parent


def recommended_app(**kwargs: object) -> cdk.App:
    """An App with the feature flags of cdk.json, so tests see what users' apps produce."""
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    return cdk.App(context=context, **kwargs)

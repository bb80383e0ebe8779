"""The sample app's existing-cluster stack alone (app.py also builds the demo stack), so that
`make bench` compares `cdk synth` of the same stack with ElasticClusterSnapshot and with
AwsCustomResource (acr_app.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk

from app import build

app = cdk.App()
build(app)
app.synth()

"""The restore drill as an app of its own: restore the newest snapshot of -c clusterArn=...,
output RestoreSeconds, SnapshotArn and ClusterEndpoint, then tear it down (removal policy
DESTROY: the drill's cluster is deleted without a final snapshot).

    make drill CLUSTER_ARN=arn:aws:docdb-elastic:...   # deploy, print the recovery time, destroy
    python3 examples/restore_drill_app.py --report cdk.out.drill/outputs.json
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk

from app import RestoreDrillStack, build_drill

STACK = "DocDbElasticRestoreDrill"


def report(outputs_file: str) -> str:
    """The recovery time, from `cdk deploy --outputs-file`."""
    outputs = json.loads(Path(outputs_file).read_text())[STACK]
    return (
        f"Restore drill: {outputs['SnapshotArn']} restored and ACTIVE in {outputs['RestoreSeconds']} s "
        f"(endpoint {outputs['ClusterEndpoint']})"
    )


def build(app: cdk.App) -> RestoreDrillStack:
    return build_drill(app)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        print(report(sys.argv[2]))
    else:
        app = cdk.App()
        build(app)
        app.synth()

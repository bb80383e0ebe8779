"""Using the constructs in a CDK Pipelines stage: every time the pipeline deploys a change to
the stage's cluster, SnapshotBeforeChange snapshots it first, and FinalSnapshot keeps its data
if the stage ever deletes or replaces it.

    npx cdk synth --app "python3 examples/pipeline_app.py" -c connectionArn=arn:aws:codeconnections:...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk
from aws_cdk import pipelines

from app import ProtectedClusterDemoStack
from constructs import Construct

PLACEHOLDER_CONNECTION = (
    "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
)


class OrdersDataStage(cdk.Stage):
    """The stage a pipeline deploys: a cluster protected by every snapshot construct."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data = ProtectedClusterDemoStack(self, "OrdersData")


class PipelineStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, connection_arn: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = pipelines.CodePipelineSource.connection("my-org/orders-infra", "main", connection_arn=connection_arn)
        pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=pipelines.ShellStep("Synth", input=source, commands=["make synth"]),
        )
        self.stage = OrdersDataStage(self, "Prod")
        pipeline.add_stage(self.stage)


def build(app: cdk.App) -> PipelineStack:
    return PipelineStack(
        app,
        "OrdersPipeline",
        connection_arn=app.node.try_get_context("connectionArn") or PLACEHOLDER_CONNECTION,
        env=cdk.Environment(account="111111111111", region="us-east-1"),
    )


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()

"""Using the constructs in a CDK Pipelines stage: every time the pipeline deploys a change to
the stage's cluster, SnapshotBeforeChange snapshots it first, and FinalSnapshot keeps its data
if the stage ever deletes or replaces it. After the production stage, a restore-drill stage
restores the cluster's newest snapshot, and a step reports the recovery time and tears the drill
stack down: every release proves the backups restore, and measures how long that takes.

    npx cdk synth --app "python3 examples/pipeline_app.py" -c connectionArn=arn:aws:codeconnections:...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from aws_cdk import pipelines

from app import ProtectedClusterDemoStack, RestoreDrillStack
from constructs import Construct

CLUSTER_ARN_PARAMETER = "/orders-data/cluster-arn"
PLACEHOLDER_CONNECTION = (
    "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
)


class OrdersDataStage(cdk.Stage):
    """The stage a pipeline deploys: a cluster protected by every snapshot construct."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data = ProtectedClusterDemoStack(self, "OrdersData")
        # Stages cannot reference each other's resources: the drill finds the cluster through SSM.
        ssm.StringParameter(
            self.data,
            "ClusterArnParameter",
            parameter_name=CLUSTER_ARN_PARAMETER,
            string_value=self.data.cluster.attr_cluster_arn,
            description="ARN of the orders cluster, for the restore drill",
        )


class RestoreDrillStage(cdk.Stage):
    """Restores the newest snapshot of the production cluster (DESTROY: no final snapshot)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.drill = RestoreDrillStack(self, "Drill", source_cluster_arn_parameter=CLUSTER_ARN_PARAMETER)


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
        self.drill = RestoreDrillStage(self, "RestoreDrill")
        pipeline.add_stage(self.drill, post=[self._report_and_tear_down(self.drill.drill)])

    def _report_and_tear_down(self, drill: RestoreDrillStack) -> pipelines.CodeBuildStep:
        """Print the recovery time, then delete the drill stack (through the CDK's CloudFormation
        execution role, which may delete what the stack made)."""
        exec_role = self.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name=f"cdk-hnb659fds-cfn-exec-role-{self.account}-{self.region}",
        )
        stack_arn = self.format_arn(service="cloudformation", resource="stack", resource_name=f"{drill.stack_name}/*")
        return pipelines.CodeBuildStep(
            "ReportAndTearDown",
            env_from_cfn_outputs={
                "RESTORE_SECONDS": drill.restore_seconds,
                "SNAPSHOT_ARN": drill.snapshot_arn,
                "CLUSTER_ENDPOINT": drill.cluster_endpoint,
            },
            commands=[
                'echo "Restore drill: ${SNAPSHOT_ARN} ACTIVE again in ${RESTORE_SECONDS} s at ${CLUSTER_ENDPOINT}"',
                f"aws cloudformation delete-stack --stack-name {drill.stack_name} --role-arn {exec_role}",
                f"aws cloudformation wait stack-delete-complete --stack-name {drill.stack_name}",
            ],
            role_policy_statements=[
                iam.PolicyStatement(
                    actions=["cloudformation:DeleteStack", "cloudformation:DescribeStacks"], resources=[stack_arn]
                ),
                iam.PolicyStatement(actions=["iam:PassRole"], resources=[exec_role]),
            ],
        )


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

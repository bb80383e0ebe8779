"""cdk-nag acknowledgements that work with every aws-cdk-lib this library supports.

``Validations.of(scope).acknowledge`` is the public API, but before aws-cdk-lib 2.271 it rejects
any rule id with ``::`` after the first one, and cdk-nag's granular ids have them
(``AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:...]``). There, the same acknowledgement is
recorded as the metadata the API itself writes (``Validations.ACKNOWLEDGED_RULES_METADATA_KEY``,
an ``Annotation::`` id), which is what cdk-nag 3 reads.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations

from constructs import IConstruct

_METADATA_KEY = "aws:cdk:acknowledged-rules"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    try:
        Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
    except RuntimeError as error:
        if "InvalidValidationId" not in str(error):
            raise
        scope.node.add_metadata(_METADATA_KEY, {f"Annotation::{rule}": reason})


def as_nag_text(value: object) -> str:
    """Render a resolved value as cdk-nag names it in a finding: {"Ref": "X"} becomes <X>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(as_nag_text(part) for part in parts)
    raise ValueError(f"unexpected ARN shape {value!r}")

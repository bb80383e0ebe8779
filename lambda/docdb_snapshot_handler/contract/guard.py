"""What ElasticClusterBackupGuard (an organization's service control policy) recognises the
library's own resources by, without knowing any stack: the IAM path of every role the library
makes, the tag on the provider's function and role, and the request tag on every recovery point
(``common.REQUEST_TAG_KEY``). Pure Python: no boto3, no aws-cdk."""

from __future__ import annotations

from typing import Final

from .common import RESERVED_TAG_PREFIX

__all__ = [
    "LIBRARY_ROLE_PATH",
    "PROVIDER_TAG_KEY",
    "PROVIDER_TAG_VALUE",
    "SCP_MAX_CHARACTERS",
]

#: Every role the library makes (the provider's, each schedule's) lives under this path, so a
#: policy can name them all by ARN: arn:<partition>:iam::<account>:role/docdb-elastic-snapshot/<name>.
LIBRARY_ROLE_PATH: Final = "/docdb-elastic-snapshot/"
#: On the provider's function and role: the guard denies changing or invoking what carries it.
PROVIDER_TAG_KEY: Final = RESERVED_TAG_PREFIX + "provider"
PROVIDER_TAG_VALUE: Final = "true"
#: AWS Organizations: a service control policy's maximum size, every character counted.
SCP_MAX_CHARACTERS: Final = 5120

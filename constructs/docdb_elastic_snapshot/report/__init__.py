"""The recovery report (the ``docdb-elastic-backup report`` console script): which clusters the
backup plans protect, their newest recovery points and copies, and their last restore tests.

A command-line tool, not a construct: it imports boto3 and rich, never aws_cdk, and of the handler
only its contract.
"""

"""Deploy-time handler of the DocumentDB elastic cluster snapshot custom resource.

Runs in Lambda with the standard library, the runtime's boto3 and crhelper only. The entry point
is ``docdb_snapshot_handler.entrypoint.handler``.
"""

"""The shared contract agrees with the service's own model (botocore's docdb-elastic)."""

from __future__ import annotations

import botocore.session

from docdb_snapshot_handler import contract

MODEL = botocore.session.get_session().get_service_model("docdb-elastic")


def test_tag_limits_are_the_api_models():
    tag_map = MODEL.shape_for("TagMap")
    assert tag_map.key.metadata == {
        "min": contract.TAG_KEY_MIN_LENGTH,
        "max": contract.TAG_KEY_MAX_LENGTH,
        "pattern": contract.TAG_KEY_PATTERN,
    }
    assert tag_map.value.metadata["max"] == contract.TAG_VALUE_MAX_LENGTH


def test_snapshot_name_length_is_the_api_models():
    request = MODEL.operation_model("CreateClusterSnapshot").input_shape
    assert request.members["snapshotName"].metadata["max"] == contract.SNAPSHOT_NAME_MAX_LENGTH
    assert set(request.required_members) == {"clusterArn", "snapshotName"}


def test_a_generated_name_from_the_longest_prefix_is_still_a_valid_name():
    from docdb_snapshot_handler.once import request_token
    from docdb_snapshot_handler.snapshots import generate_snapshot_name

    prefix = "p" * contract.SNAPSHOT_NAME_PREFIX_MAX_LENGTH
    name = generate_snapshot_name(prefix, request_token("stack", "Snapshot", "request-1"))
    assert len(name) == contract.SNAPSHOT_NAME_MAX_LENGTH
    assert contract.snapshot_name_errors("name", name) == []


def test_a_generated_name_is_the_requests_own_and_differs_between_requests():
    from docdb_snapshot_handler.once import request_token
    from docdb_snapshot_handler.snapshots import generate_snapshot_name, generated_name_pattern

    first = generate_snapshot_name("orders", request_token("stack", "Snapshot", "request-1"))
    again = generate_snapshot_name("orders", request_token("stack", "Snapshot", "request-1"))
    other = generate_snapshot_name("orders", request_token("stack", "Snapshot", "request-2"))
    assert first == again and first != other
    # Both this scheme and 0.1.0's (PREFIX-YYYYMMDDhhmmss-xxxxxx) are recognised for retention.
    pattern = generated_name_pattern("orders")
    assert pattern.match(first) and pattern.match("orders-20261128070000-abc123")
    assert not pattern.match("orders-by-hand") and not pattern.match("ordersx-20261128070000-abc123")

"""The shared contract agrees with the service's own model (botocore's docdb-elastic)."""

from __future__ import annotations

from datetime import UTC

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
    from datetime import datetime

    from docdb_snapshot_handler.snapshots import generate_snapshot_name

    prefix = "p" * contract.SNAPSHOT_NAME_PREFIX_MAX_LENGTH
    name = generate_snapshot_name(prefix, "request-1", datetime(2026, 11, 28, tzinfo=UTC))
    assert len(name) == contract.SNAPSHOT_NAME_MAX_LENGTH
    assert contract.snapshot_name_errors("name", name) == []

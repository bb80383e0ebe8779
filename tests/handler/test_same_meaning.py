"""An Update takes no snapshot only when the old and new properties mean the same: each property
the handler reads, changed, is a change; defaults spelled out or left out, and what CloudFormation
adds itself, are not."""

from __future__ import annotations

import pytest

from docdb_snapshot_handler.contract import Prop
from docdb_snapshot_handler.kinds.snapshot.properties import parse_properties, same_meaning

CLUSTER = "arn:aws:docdb-elastic:us-east-1:123456789012:cluster/0f1e2d3c"
BASE = {Prop.CLUSTER_ARN: CLUSTER, Prop.SNAPSHOT_NAME_PREFIX: "orders"}
BEFORE_CHANGE = {Prop.MODE: "before-change", Prop.CLUSTER_NAME: "orders", Prop.SNAPSHOT_NAME_PREFIX: "orders"}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (BASE, {**BASE, Prop.CLUSTER_ARN: CLUSTER + "x"}),
        (BASE, {**BASE, Prop.SNAPSHOT_NAME_PREFIX: "orders-v2"}),
        (BASE, {Prop.CLUSTER_ARN: CLUSTER, Prop.SNAPSHOT_NAME: "orders-once"}),
        (BASE, {**BASE, Prop.TAGS: {"team": "data"}}),
        ({**BASE, Prop.TAGS: {"team": "data"}}, {**BASE, Prop.TAGS: {"team": "ops"}}),
        (BASE, {**BASE, Prop.TRIGGER: "2"}),
        (BASE, {**BASE, Prop.WAIT_FOR_COMPLETION: "false"}),
        (BASE, {**BASE, Prop.TIMEOUT_SECONDS: "600"}),
        (BASE, {**BASE, Prop.REMOVAL_POLICY: "destroy"}),
        (BASE, {**BASE, Prop.RETAIN_LAST: "3", Prop.OWNER: "S/Snap"}),
        ({**BASE, Prop.RETAIN_LAST: "3", Prop.OWNER: "S/Snap"}, {**BASE, Prop.RETAIN_LAST: "3", Prop.OWNER: "S/Other"}),
        (BEFORE_CHANGE, {**BEFORE_CHANGE, Prop.ON_CLUSTER_NOT_ACTIVE: "skip"}),
        (BEFORE_CHANGE, {**BEFORE_CHANGE, Prop.CLUSTER_NAME: "orders-v2"}),
        (BASE, {**BASE, Prop.MODE: "final"}),
    ],
    ids=lambda props: "",
)
def test_a_real_change_of_any_property_is_a_change(old, new):
    assert not same_meaning(old, parse_properties(new))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # 0.1.0 spelled every default out
        (
            {
                **BASE,
                Prop.MODE: "snapshot",
                Prop.WAIT_FOR_COMPLETION: "true",
                Prop.TIMEOUT_SECONDS: "3600",
                Prop.REMOVAL_POLICY: "retain",
                Prop.OWNER: "S/Snap",
                "ServiceTimeout": "3600",
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:old",
            },
            {**BASE, "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:old"},
        ),
        ({**BEFORE_CHANGE, Prop.ON_CLUSTER_NOT_ACTIVE: "fail"}, BEFORE_CHANGE),
        ({**BASE, Prop.TIMEOUT_SECONDS: "600", "ServiceTimeout": "660"}, {**BASE, Prop.TIMEOUT_SECONDS: "600"}),
    ],
)
def test_the_same_meaning_written_differently_is_no_change(old, new):
    assert same_meaning(old, parse_properties(new))


def test_old_properties_that_do_not_parse_are_a_change():
    assert not same_meaning({Prop.CLUSTER_ARN: "not-an-arn"}, parse_properties(BASE))
    assert not same_meaning(None, parse_properties(BASE))

"""Property-based: whatever ResourceProperties CloudFormation hands over, the handler answers
once, in valid JSON of at most 4096 bytes; a property that breaks a rule gives FAILED naming it,
with no API call; valid properties give SUCCESS. Values are generated valid or invalid by
construction, so the expectation never depends on the handler's own checks."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docdb_snapshot_handler import entrypoint
from docdb_snapshot_handler.contract import CLOUDFORMATION_PROPS, OUR_PROPS, RESERVED_TAG_PREFIX
from standins.docdb_elastic import ACCOUNT, DocDbElasticStandIn, cluster_arn_for
from standins.events import cfn_event
from standins.lambda_context import FakeLambdaContext
from standins.response_receiver import ResponseReceiver

ALNUM = string.ascii_letters + string.digits
TAG_KEY_CHARS = string.ascii_letters + "".join(chr(c) for c in range(ord("+"), ord("=") + 1)) + "._:/"

Field = tuple[bool, Any]  # (valid, value)


def valid_name(max_length: int) -> st.SearchStrategy[str]:
    segment = st.text(ALNUM, min_size=1, max_size=12)
    return st.builds(
        lambda first, head, segments: first + head + "".join("-" + s for s in segments),
        st.sampled_from(string.ascii_letters),
        st.text(ALNUM, max_size=20),
        st.lists(segment, max_size=4),
    ).filter(lambda name: len(name) <= max_length)


def invalid_name(max_length: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.integers(max_length + 1, max_length + 40).flatmap(
            lambda n: st.text(ALNUM, min_size=n - 1, max_size=n - 1).map(lambda t: "a" + t)
        ),
        st.builds(lambda c, name: c + name[: max_length - 1], st.sampled_from(string.digits + "-é"), valid_name(20)),
        st.builds(
            lambda name, c, pos: name[:pos] + c + name[pos:],
            valid_name(max_length - 1),
            st.characters(blacklist_characters=ALNUM + "-"),
            st.integers(1, 5),
        ).filter(lambda n: len(n) > 1),
        valid_name(max_length - 3).map(lambda name: name[:1] + "--" + name[1:]),
        valid_name(max_length - 1).map(lambda name: name + "-"),
    )


def name_field(max_length: int) -> st.SearchStrategy[Field]:
    return st.one_of(
        valid_name(max_length).map(lambda v: (True, v)), invalid_name(max_length).map(lambda v: (False, v))
    )


valid_tag_key = st.text(TAG_KEY_CHARS, min_size=1, max_size=128).filter(
    lambda k: not k.startswith(("aws:", RESERVED_TAG_PREFIX))
)
valid_tags = st.dictionaries(valid_tag_key, st.text(max_size=256), max_size=48)
invalid_tags = st.one_of(
    st.builds(
        lambda tags, key: {**tags, key: "x"},
        valid_tags,
        st.one_of(
            st.just("aws:owner"),
            st.just(RESERVED_TAG_PREFIX + "request"),
            st.just("team name"),
            st.text(TAG_KEY_CHARS, min_size=129, max_size=140),
            st.just("ünïcode"),
        ),
    ),
    st.builds(lambda tags, value: {**tags, "team": value}, valid_tags, st.text(min_size=257, max_size=300)),
    st.dictionaries(st.text(string.ascii_lowercase, min_size=8, max_size=8), st.just("v"), min_size=49, max_size=55),
    st.lists(st.text(), max_size=3),
)
bool_field = st.one_of(
    st.sampled_from(["true", "false", "True", "FALSE", " true "]).map(lambda v: (True, v)),
    st.text(max_size=10).filter(lambda t: t.strip().lower() not in ("true", "false")).map(lambda v: (False, v)),
)
timeout_field = st.one_of(
    st.integers(30, 3600).map(lambda n: (True, str(n))),
    st.one_of(st.integers(-100, 29), st.integers(3601, 10**6)).map(lambda n: (False, str(n))),
    st.sampled_from(["", "60.5", "1e3", "forever", "0x3c"]).map(lambda v: (False, v)),
)
removal_field = st.one_of(
    st.sampled_from(["retain", "destroy"]).map(lambda v: (True, v)),
    st.text(max_size=12).filter(lambda t: t not in ("retain", "destroy")).map(lambda v: (False, v)),
)
cluster_field = st.one_of(
    st.just((True, cluster_arn_for("orders"))),
    st.sampled_from(
        [
            "",
            "orders",
            cluster_arn_for("orders").replace("docdb-elastic", "rds"),
            cluster_arn_for("orders").replace("us-east-1", "eu-west-1"),
            cluster_arn_for("orders").replace(ACCOUNT, "999999999999"),
            cluster_arn_for("orders").replace(":cluster/", ":cluster-snapshot/"),
        ]
    ).map(lambda v: (False, v)),
    st.text(max_size=80).map(lambda v: (False, v)),
)
extra_keys = st.dictionaries(
    # Unknown to the handler: not one of its properties (this test sets only some), nor CloudFormation's.
    st.text(min_size=1, max_size=60).filter(lambda k: k not in OUR_PROPS | CLOUDFORMATION_PROPS),
    st.text(max_size=20),
    max_size=3,
)


@st.composite
def resource_properties(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """Properties, and the keys that break a rule."""
    props: dict[str, Any] = {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ServiceTimeout": "900",
    }
    invalid: set[str] = set()
    fields = {
        "ClusterArn": cluster_field,
        "WaitForCompletion": bool_field,
        "TimeoutSeconds": timeout_field,
        "RemovalPolicy": removal_field,
        "Tags": st.one_of(valid_tags.map(lambda v: (True, v)), invalid_tags.map(lambda v: (False, v))),
        "Trigger": st.text(max_size=30).map(lambda v: (True, v)),
    }
    for key, strategy in fields.items():
        if key == "ClusterArn" or draw(st.booleans()):
            valid, value = draw(strategy)
            props[key] = value
            if not valid:
                invalid.add(key)
    naming = draw(st.sampled_from(["name", "prefix", "both", "neither"]))
    if naming in ("name", "both"):
        valid, props["SnapshotName"] = draw(name_field(63))
        invalid |= set() if valid and naming == "name" else {"SnapshotName"}
    if naming in ("prefix", "both"):
        valid, props["SnapshotNamePrefix"] = draw(name_field(41))
        invalid |= set() if valid and naming == "prefix" else {"SnapshotNamePrefix"}
    if naming == "neither":
        invalid.add("SnapshotName")
    extras = draw(extra_keys)
    props.update(extras)
    invalid |= set(extras)
    return props, invalid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=resource_properties(), request_type=st.sampled_from(["Create", "Update"]))
def test_any_properties_get_exactly_one_bounded_answer_naming_every_broken_field(
    case, request_type, docdb: DocDbElasticStandIn, receiver: ResponseReceiver
):
    props, invalid = case
    docdb.reset()
    docdb.add_cluster("orders")
    event = cfn_event(request_type, receiver.new_url(), props)
    event["ResourceProperties"] = props  # exactly these, nothing from the fixture

    entrypoint.handler(event, FakeLambdaContext())  # nothing may escape

    (received,) = receiver.received_for(event["ResponseURL"])
    answer = received.body
    assert received.size <= 4096 and answer["PhysicalResourceId"]
    if invalid:
        assert answer["Status"] == "FAILED"
        for key in invalid:
            assert repr(key[:40]) in answer["Reason"] or key in answer["Reason"], (key, answer["Reason"])
        assert docdb.calls == []
    else:
        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert list(docdb.snapshots) == [answer["PhysicalResourceId"]]

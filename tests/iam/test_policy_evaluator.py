"""The tests' policy evaluator (tests/policy_evaluator.py) against the examples of AWS's own
documentation of policy evaluation, each with the answer the page gives:

- IAM User Guide, "Creating a condition with multiple keys or values"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html),
- "IAM JSON policy elements: Condition operators"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html),
- "IAM JSON policy elements: Action"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html),
- "Policy evaluation logic"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import pytest

from policy_evaluator import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Request, arn_like, evaluate

THREAD = "arn:aws:dynamodb:us-east-1:123456789012:table/Thread"


def _get_item_only(attributes: list[str]) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": "arn:aws:dynamodb:*:*:table/Thread",
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": attributes}},
            }
        ],
    }


DENY_PUT_OF_ID_OR_DATE = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Deny",
        "Action": "dynamodb:PutItem",
        "Resource": "arn:aws:dynamodb:*:*:table/Thread",
        "Condition": {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}},
    },
}


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        # "the request is allowed because the user's requested attributes all match values specified"
        (["ID", "Message", "Tags"], ALLOW),
        # "if the user's request includes the UserName attribute, the request fails"
        (["ID", "Message", "UserName"], IMPLICIT_DENY),
    ],
)
def test_for_all_values_allows_only_when_every_requested_value_is_listed(requested, expected):
    # GIVEN the guide's policy allowing GetItem of only ID, Message and Tags
    policy = _get_item_only(["ID", "Message", "Tags"])
    # WHEN a GetItem asks for `requested`
    decision = evaluate([policy], Request("dynamodb:GetItem", THREAD, {"dynamodb:Attributes": requested}))
    # THEN the guide's answer
    assert decision == expected


def test_for_all_values_is_false_when_one_value_has_no_match():
    # GIVEN the guide's second ForAllValues policy (PostDateTime, Message, Tags)
    policy = _get_item_only(["PostDateTime", "Message", "Tags"])
    # WHEN the request asks for PostDateTime and UserName
    decision = evaluate(
        [policy], Request("dynamodb:GetItem", THREAD, {"dynamodb:Attributes": ["PostDateTime", "UserName"]})
    )
    # THEN "There's no match for UserName, so the condition operator returns false"
    assert decision == IMPLICIT_DENY


def test_for_all_values_is_true_when_the_request_has_no_value():
    # GIVEN a ForAllValues policy; WHEN the request has no value for the key
    decision = evaluate([_get_item_only(["ID"])], Request("dynamodb:GetItem", THREAD))
    # THEN "it returns true if there are no keys in the request" (the guide's warning)
    assert decision == ALLOW


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        # "there is one match (PostDateTime), so the condition is true ... the request is denied"
        (["PostDateTime", "Message"], EXPLICIT_DENY),
        # "None of the attributes in the request (just UserName) match ... not denied by this policy"
        (["UserName"], IMPLICIT_DENY),
        # "For no matching key or a null dataset, the condition returns false"
        (None, IMPLICIT_DENY),
    ],
)
def test_for_any_value_denies_when_any_requested_value_is_listed(requested, expected):
    # GIVEN the guide's Deny of PutItem touching ID or PostDateTime
    context = {} if requested is None else {"dynamodb:Attributes": requested}
    # WHEN a PutItem names `requested`
    decision = evaluate([DENY_PUT_OF_ID_OR_DATE], Request("dynamodb:PutItem", THREAD, context))
    # THEN the guide's answer
    assert decision == expected


def _run_instances(operator: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "ec2:RunInstances",
            "Resource": "*",
            "Condition": {operator: {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
        },
    }


IMAGE = "arn:aws:ec2:us-east-1::image/ami-0abcdef1234567890"
INSTANCE = "arn:aws:ec2:us-east-1:123456789012:instance/*"


@pytest.mark.parametrize(
    ("operator", "resource", "context", "expected"),
    [
        # THISPOLICYDOESNOTWORK: "These additional resources do not have the ec2:InstanceType
        # condition key, so the StringLike check fails"
        ("StringLike", IMAGE, {}, IMPLICIT_DENY),
        ("StringLike", INSTANCE, {"ec2:InstanceType": "t2.micro"}, ALLOW),
        # "If the resource being checked does not have that condition key, then don't worry about it"
        ("StringLikeIfExists", IMAGE, {}, ALLOW),
        ("StringLikeIfExists", INSTANCE, {"ec2:InstanceType": "t2.micro"}, ALLOW),
        # "allow the action only if the key value begins with t1., t2., or m3."
        ("StringLikeIfExists", INSTANCE, {"ec2:InstanceType": "m5.large"}, IMPLICIT_DENY),
    ],
)
def test_if_exists_passes_a_missing_key_and_checks_a_present_one(operator, resource, context, expected):
    # GIVEN the guide's RunInstances policy, with StringLike or StringLikeIfExists
    # WHEN RunInstances touches `resource` (an image has no ec2:InstanceType)
    decision = evaluate([_run_instances(operator)], Request("ec2:RunInstances", resource, context))
    # THEN the guide's answer
    assert decision == expected


def test_a_deny_with_a_negated_if_exists_operator_still_denies_when_the_key_is_missing():
    # GIVEN a Deny unless the tag equals a value, with ...IfExists
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Deny",
            "Action": "ec2:*",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:ResourceTag/team": "data"}},
        },
    }
    # WHEN the resource has no such tag
    decision = evaluate([policy], Request("ec2:TerminateInstances", INSTANCE))
    # THEN "the request is still denied even if the tag is missing"
    assert decision == EXPLICIT_DENY


@pytest.mark.parametrize(
    ("context", "expected"), [({}, ALLOW), ({"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, IMPLICIT_DENY)]
)
def test_null_checks_whether_the_key_is_in_the_request(context, expected):
    # GIVEN the guide's EC2 policy for long-term credentials only (Null aws:TokenIssueTime true)
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Action": "ec2:*",
            "Effect": "Allow",
            "Resource": "*",
            "Condition": {"Null": {"aws:TokenIssueTime": "true"}},
        },
    }
    # WHEN the caller uses (or does not use) temporary credentials
    decision = evaluate([policy], Request("ec2:DescribeInstances", "*", context))
    # THEN the key "must not exist" for the Allow to apply
    assert decision == expected


def test_arn_like_matches_each_part_between_colons_and_string_like_the_whole_string():
    # GIVEN the guide's pattern and request value
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"

    # WHEN each operator compares them
    def decide(operator: str) -> str:
        policy = {
            "Statement": {
                "Effect": "Allow",
                "Action": "s:A",
                "Resource": "*",
                "Condition": {operator: {"aws:SourceArn": pattern}},
            }
        }
        return evaluate([policy], Request("s:A", "*", {"aws:SourceArn": value}))

    # THEN "With a StringLike condition, the match succeeds ... With an ArnLike condition ... the match fails"
    assert decide("StringLike") == ALLOW
    assert decide("ArnLike") == IMPLICIT_DENY
    assert not arn_like(pattern, value)


@pytest.mark.parametrize("operator", ["StringNotLike", "ArnNotLike", "StringNotEquals"])
def test_a_negated_operator_is_true_when_the_key_is_missing(operator):
    # GIVEN an Allow whose condition requires the key not to match
    policy = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s:A",
            "Resource": "*",
            "Condition": {operator: {"aws:SourceArn": "arn:aws:sns:*:*:t"}},
        }
    }
    # WHEN the key is not in the request
    # THEN "If the policy condition requires that the key is not matched ... and the right key is not
    # present, the condition is true"
    assert evaluate([policy], Request("s:A", "*")) == ALLOW


def test_values_of_a_negated_operator_work_like_and():
    # GIVEN StringNotEquals with two accounts
    policy = {
        "Statement": {
            "Effect": "Deny",
            "Action": "s:A",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["111111111111", "222222222222"]}},
        }
    }
    # THEN "the string cannot match any of the aws:PrincipalAccount values listed to resolve the condition to true"
    assert evaluate([policy], Request("s:A", "*", {"aws:PrincipalAccount": "222222222222"})) == IMPLICIT_DENY
    assert evaluate([policy], Request("s:A", "*", {"aws:PrincipalAccount": "333333333333"})) == EXPLICIT_DENY


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {
                "aws:PrincipalTag/department": "Finance",
                "aws:PrincipalTag/role": "audit",
                "aws:PrincipalAccount": "123456789012",
            },
            ALLOW,
        ),
        # every key must match (AND) ...
        (
            {
                "aws:PrincipalTag/department": "finance",
                "aws:PrincipalTag/role": "audit",
                "aws:PrincipalAccount": "111111111111",
            },
            IMPLICIT_DENY,
        ),
        # ... one of each key's values is enough (OR)
        (
            {
                "aws:PrincipalTag/department": "legal",
                "aws:PrincipalTag/role": "security",
                "aws:PrincipalAccount": "123456789012",
            },
            ALLOW,
        ),
        (
            {
                "aws:PrincipalTag/department": "sales",
                "aws:PrincipalTag/role": "audit",
                "aws:PrincipalAccount": "123456789012",
            },
            IMPLICIT_DENY,
        ),
    ],
)
def test_conditions_and_keys_are_anded_and_values_ored(context, expected):
    # GIVEN the guide's condition block (StringEqualsIgnoreCase on two principal tags, StringEquals on the account)
    policy = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s:A",
            "Resource": "*",
            "Condition": {
                "StringEqualsIgnoreCase": {
                    "aws:PrincipalTag/department": ["finance", "hr", "legal"],
                    "aws:PrincipalTag/role": ["audit", "security"],
                },
                "StringEquals": {"aws:PrincipalAccount": "123456789012"},
            },
        }
    }
    # THEN "All conditions must resolve to true"
    assert evaluate([policy], Request("s:A", "*", context)) == expected


def test_action_names_are_case_insensitive():
    # GIVEN a policy naming iam:ListAccessKeys; THEN "iam:ListAccessKeys is the same as IAM:listaccesskeys"
    policy = {"Statement": {"Effect": "Allow", "Action": "iam:ListAccessKeys", "Resource": "*"}}
    assert evaluate([policy], Request("IAM:listaccesskeys", "arn:aws:iam::123456789012:user/bob")) == ALLOW
    assert evaluate([policy], Request("iam:ListAccessKey", "arn:aws:iam::123456789012:user/bob")) == IMPLICIT_DENY


def test_an_explicit_deny_in_any_policy_overrides_any_allow():
    # GIVEN an Allow of everything and, in another policy, a Deny of one action
    allow = {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    deny = {"Statement": {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::bucket/*"}}
    # THEN "An explicit deny in any policy overrides any allows", and nothing else is denied
    assert evaluate([allow, deny], Request("s3:DeleteObject", "arn:aws:s3:::bucket/key")) == EXPLICIT_DENY
    assert evaluate([allow, deny], Request("s3:GetObject", "arn:aws:s3:::bucket/key")) == ALLOW
    assert evaluate([deny], Request("s3:GetObject", "arn:aws:s3:::bucket/key")) == IMPLICIT_DENY


def test_an_unknown_operator_is_an_error_not_a_pass():
    policy = {
        "Statement": {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
        }
    }
    with pytest.raises(ValueError, match="DateLessThan"):
        evaluate([policy], Request("s:A", "*", {"aws:CurrentTime": "2019-01-01T00:00:00Z"}))

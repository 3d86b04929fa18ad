"""IAM roles through boto3 (IAM's query protocol) against a real eddy: what deployment
tools do before CreateFunction. Roles and policies are stored, not enforced."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, error_code, make_client

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
LOGS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": "*"}],
}


@pytest.fixture(scope="module")
def iam(eddy_endpoint):
    return make_client("iam", eddy_endpoint)


@pytest.fixture
def role_name() -> str:
    return f"role-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def role(iam, role_name) -> str:
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    return role_name


def test_create_role_returns_the_role_as_aws_does(iam, role_name):
    created = iam.create_role(
        RoleName=role_name,
        Path="/service-role/",
        AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
        Description="lambda execution",
        Tags=[{"Key": "team", "Value": "payments"}],
    )["Role"]
    assert created["RoleName"] == role_name
    assert created["Path"] == "/service-role/"
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/service-role/{role_name}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["MaxSessionDuration"] == 3600
    assert created["Description"] == "lambda execution"
    # botocore URL-decodes and parses the document, as it does against AWS.
    assert created["AssumeRolePolicyDocument"] == TRUST_POLICY
    assert created["CreateDate"].tzinfo is not None

    got = iam.get_role(RoleName=role_name)["Role"]
    assert got["RoleId"] == created["RoleId"]
    assert got["CreateDate"] == created["CreateDate"]
    assert got["AssumeRolePolicyDocument"] == TRUST_POLICY
    assert got["Tags"] == [{"Key": "team", "Value": "payments"}]


def test_create_existing_role_is_entity_already_exists(iam, role):
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName=role.upper(), AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    assert error_code(excinfo) == "EntityAlreadyExists"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_list_roles_paginates_with_marker_and_path_prefix(iam):
    path = f"/list-{uuid.uuid4().hex[:8]}/"
    names = sorted(f"r{i}-{uuid.uuid4().hex[:6]}" for i in range(5))
    for name in names:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))

    first = iam.list_roles(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True
    assert [r["RoleName"] for r in first["Roles"]] == names[:2]
    second = iam.list_roles(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert [r["RoleName"] for r in second["Roles"]] == names[2:4]

    paginated = [
        role["RoleName"]
        for page in iam.get_paginator("list_roles").paginate(PathPrefix=path, PaginationConfig={"PageSize": 2})
        for role in page["Roles"]
    ]
    assert paginated == names
    last = iam.list_roles(PathPrefix=path, MaxItems=10)
    assert last["IsTruncated"] is False
    assert "Marker" not in last


def test_attach_list_and_detach_managed_policies(iam, role):
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    attached = iam.list_attached_role_policies(RoleName=role)
    assert attached["AttachedPolicies"] == [
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC_EXECUTION}
    ]
    assert attached["IsTruncated"] is False
    iam.detach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    with pytest.raises(ClientError) as excinfo:
        iam.detach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    assert error_code(excinfo) == "NoSuchEntity"


def test_put_get_list_and_delete_inline_policies(iam, role):
    iam.put_role_policy(RoleName=role, PolicyName="logs", PolicyDocument=json.dumps(LOGS_POLICY))
    got = iam.get_role_policy(RoleName=role, PolicyName="logs")
    assert got["RoleName"] == role
    assert got["PolicyName"] == "logs"
    assert got["PolicyDocument"] == LOGS_POLICY
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["logs"]
    iam.delete_role_policy(RoleName=role, PolicyName="logs")
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []
    with pytest.raises(ClientError) as excinfo:
        iam.get_role_policy(RoleName=role, PolicyName="logs")
    assert error_code(excinfo) == "NoSuchEntity"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_role_conflicts_while_policies_remain(iam, role):
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    iam.put_role_policy(RoleName=role, PolicyName="logs", PolicyDocument=json.dumps(LOGS_POLICY))
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName=role)
    assert error_code(excinfo) == "DeleteConflict"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    iam.detach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName=role)
    assert error_code(excinfo) == "DeleteConflict"

    iam.delete_role_policy(RoleName=role, PolicyName="logs")
    iam.delete_role(RoleName=role)
    with pytest.raises(ClientError) as excinfo:
        iam.get_role(RoleName=role)
    assert error_code(excinfo) == "NoSuchEntity"


def test_missing_roles_are_no_such_entity(iam):
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    calls = [
        lambda: iam.get_role(RoleName=missing),
        lambda: iam.delete_role(RoleName=missing),
        lambda: iam.attach_role_policy(RoleName=missing, PolicyArn=BASIC_EXECUTION),
        lambda: iam.put_role_policy(RoleName=missing, PolicyName="p", PolicyDocument="{}"),
        lambda: iam.list_role_policies(RoleName=missing),
        lambda: iam.list_attached_role_policies(RoleName=missing),
    ]
    for call in calls:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_code(excinfo) == "NoSuchEntity"
        assert excinfo.value.response["Error"]["Message"] == f"The role with name {missing} cannot be found."


def test_malformed_documents_and_names_are_rejected(iam, role_name, role):
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument="not json")
    assert error_code(excinfo) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as excinfo:
        iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument="{")
    assert error_code(excinfo) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName="bad/name", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    assert error_code(excinfo) == "ValidationError"
    with pytest.raises(ClientError) as excinfo:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:s3:::some-bucket/some-key")
    assert error_code(excinfo) == "InvalidInput"


def test_tag_untag_and_list_role_tags(iam, role):
    iam.tag_role(RoleName=role, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}])
    iam.untag_role(RoleName=role, TagKeys=["team"])
    tags = iam.list_role_tags(RoleName=role)
    assert tags["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert tags["IsTruncated"] is False

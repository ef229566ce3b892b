"""Deployment, checked offline: `chalice package` for each stage, cfn-lint, IAM, Gateway Responses."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from openindex_ops import deploy
from openindex_ops.gateway import gateway_responses
from openindex_ops.table import load_template, table_properties

from .conftest import ROOT, TABLE, Api

STAGES = ("dev", "prod")
BIN = Path(sys.executable).parent


def run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], dict[str, Any]]:
    """sam.json of `chalice package` per stage, plain (`make deploy`) and merged (`make package`)."""
    out = tmp_path_factory.mktemp("packages")
    templates = {}
    for stage in STAGES:
        merge = out / f"merge-{stage}.json"
        merge.write_text(json.dumps(deploy.merge_template(stage)))
        for merged in (False, True):
            target = out / f"{stage}-{'merged' if merged else 'plain'}"
            extra = ["--merge-template", str(merge)] if merged else []
            run(str(BIN / "chalice"), "package", "--stage", stage, *extra, str(target))
            templates[(stage, merged)] = json.loads((target / "sam.json").read_text())
            templates[(stage, merged)]["__path__"] = str(target / "sam.json")
    return templates


ALL = [(stage, merged) for stage in STAGES for merged in (False, True)]
IDS = [f"{stage}-{'merged' if merged else 'plain'}" for stage, merged in ALL]


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_the_authorizer_verdict_is_never_cached(packages, key) -> None:
    definition = packages[key]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizers = [d["x-amazon-apigateway-authorizer"] for d in definition["securityDefinitions"].values()]
    assert authorizers and all(a["authorizerResultTtlInSeconds"] == 0 for a in authorizers)


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_both_functions_know_the_table(packages, key) -> None:
    stage, merged = key
    resources = packages[key]["Resources"]
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(functions) == set(deploy.FUNCTIONS)
    expected = {"Ref": "AuthTable"} if merged else f"openindex-auth-{stage}"
    for function in functions.values():
        assert function["Properties"]["Environment"]["Variables"]["TABLE_NAME"] == expected


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_each_role_grants_only_named_dynamodb_actions_on_the_stages_table(packages, key) -> None:
    stage, _ = key
    roles = [r for r in packages[key]["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 2
    for role in roles:
        statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in _list(s["Action"]))]
        assert dynamo
        for statement in dynamo:
            assert not {"*", "dynamodb:*"} & set(_list(statement["Action"]))
            for resource in _list(statement["Resource"]):
                assert resource != "*"
                assert resource.split(":table/")[1].split("/")[0] == f"openindex-auth-{stage}"


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stage", STAGES)
def test_the_merged_stack_has_a_durable_encrypted_table_with_ttl(packages, stage: str) -> None:
    template = packages[(stage, True)]
    table = template["Resources"]["AuthTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert template["Parameters"]["Stage"]["Default"] == stage
    assert table["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


@pytest.mark.parametrize("stage", STAGES)
def test_gateway_responses_answer_like_the_app(packages, stage: str, api: Api) -> None:
    definition = packages[(stage, True)]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = definition["x-amazon-apigateway-gateway-responses"]
    app_401 = api.get("/me", "oi_pat_nope")
    unauthorized = responses["UNAUTHORIZED"]
    assert unauthorized["statusCode"] == "401"
    assert json.loads(unauthorized["responseTemplates"]["application/json"]) == app_401.body
    assert unauthorized["responseParameters"]["gatewayresponse.header.WWW-Authenticate"] == (
        f"'{app_401.headers['WWW-Authenticate']}'"
    )
    denied = responses["ACCESS_DENIED"]
    assert denied["statusCode"] == "403"
    assert json.loads(denied["responseTemplates"]["application/json"])["error"]["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in denied["responseParameters"]["gatewayresponse.header.WWW-Authenticate"]


def test_cfn_lint_passes_on_infra_and_every_merged_package(packages) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(BIN))
    assert cfn_lint, "cfn-lint is a dev dependency"
    run(cfn_lint, "infra/table.yaml", *(packages[(stage, True)]["__path__"] for stage in STAGES))


def test_stage_configuration_agrees_with_the_infra_naming() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["autogen_policy"] is False
    assert table_properties()["TableName"] == {"Fn::Sub": "openindex-auth-${Stage}"}
    for stage in STAGES:
        settings = config["stages"][stage]
        assert settings["environment_variables"]["TABLE_NAME"] == f"openindex-auth-{stage}"
        assert settings["iam_policy_file"] == f"policy-{stage}.json"
        assert settings["environment_variables"]["APP_URL"].startswith("https://")


def test_the_test_table_is_the_infra_table(dynamodb) -> None:
    described = dynamodb.describe_table(TableName=TABLE)["Table"]
    infra = table_properties()
    assert described["KeySchema"] == infra["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=str) == sorted(infra["AttributeDefinitions"], key=str)
    assert [(i["IndexName"], i["KeySchema"]) for i in described["GlobalSecondaryIndexes"]] == [
        (i["IndexName"], i["KeySchema"]) for i in infra["GlobalSecondaryIndexes"]
    ]
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


def test_the_deploy_path_installs_the_same_gateway_responses(tmp_path: Path, monkeypatch) -> None:
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        api_id = client.create_rest_api(name="openindex-auth")["id"]
        root = client.get_resources(restApiId=api_id)["items"][0]["id"]
        client.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
        client.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
        deployed = tmp_path / "deployed"
        deployed.mkdir()
        (deployed / "prod.json").write_text(json.dumps(
            {"resources": [{"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api_id}]}
        ))
        shutil.copy(ROOT / ".chalice" / "config.json", tmp_path / "config.json")
        monkeypatch.setattr(deploy, "CHALICE_DIR", tmp_path)
        assert deploy.install_gateway_responses("prod", client) == api_id
        for response_type, expected in gateway_responses().items():
            installed = client.get_gateway_response(restApiId=api_id, responseType=response_type)
            assert installed["statusCode"] == expected["statusCode"]
            assert installed["responseTemplates"] == expected["responseTemplates"]
            assert installed["responseParameters"] == expected["responseParameters"]
        assert client.get_deployments(restApiId=api_id)["items"]


def test_set_table_name_writes_the_stage_environment(tmp_path: Path, monkeypatch) -> None:
    shutil.copy(ROOT / ".chalice" / "config.json", tmp_path / "config.json")
    monkeypatch.setattr(deploy, "CHALICE_DIR", tmp_path)
    deploy.set_table_name("prod", "openindex-auth-prod-x")
    assert deploy.stage_env("prod", "TABLE_NAME") == "openindex-auth-prod-x"
    assert deploy.stage_env("dev", "TABLE_NAME") == "openindex-auth-dev"


def test_the_infra_template_is_the_one_the_tools_read() -> None:
    assert load_template()["Resources"]["AuthTable"]["Type"] == "AWS::DynamoDB::Table"

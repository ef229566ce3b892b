"""Deployment, checked offline: `chalice package` for each stage, cfn-lint, IAM, Gateway Responses."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from openindex_ops import deploy
from openindex_ops.gateway import (
    CLIENT_LIMIT,
    CLIENT_LIMITED,
    PUBLIC_ACTION_THROTTLE,
    STAGE_THROTTLE,
    client_limit_headers,
    client_limits_web_acl,
    gateway_responses,
    public_actions,
    response_body,
)
from openindex_ops.table import load_template, table_properties

from .conftest import ROOT, TABLE, Api

# One worker runs every `chalice package` (they share the project's .chalice/deployments/ cache).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chalice_package")]

STAGES = ("dev", "prod")
BIN = Path(sys.executable).parent
# `make test` builds it with Python 3.13: chalice packages for the Python it runs on.
LAMBDA_BIN = ROOT / ".venv-lambda" / "bin"


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
            run(str(LAMBDA_BIN / "chalice"), "package", "--stage", stage, *extra, str(target))
            if merged:  # as `make package` does
                run(str(LAMBDA_BIN / "python"), "-m", "openindex_ops.bytecode", str(target / "deployment.zip"))
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
def test_every_function_runs_python_3_13(packages, key) -> None:
    functions = [r for r in packages[key]["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions and {f["Properties"]["Runtime"] for f in functions} == {"python3.13"}


def test_the_package_ships_bytecode_that_python_3_13_imports_without_compiling(packages, tmp_path: Path) -> None:
    package = Path(packages[("dev", True)]["__path__"]).parent / "deployment.zip"
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    sources = {name for name in names if name.endswith(".py")}
    assert "app.py" in sources and "chalicelib/services/authentication.py" in sources
    assert {name for name in sources if _pyc_313(name) not in names} == set()
    verbose = subprocess.run(
        [str(LAMBDA_BIN / "python"), "-v", "-c", "import app"], cwd=tmp_path, capture_output=True, text=True,
        env={"TABLE_NAME": "t", "APP_URL": "https://x", "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin"},
        timeout=120,
    )
    assert verbose.returncode == 0, verbose.stderr[-2000:]
    loaded_from_bytecode = {line.split("'")[1] for line in verbose.stderr.splitlines()
                            if line.startswith("# code object from")}
    for module in ("app", "chalicelib/services/authentication", "chalicelib/storage/tokens", "chalice/app"):
        assert str(tmp_path / _pyc_313(f"{module}.py")) in loaded_from_bytecode, module


def _pyc_313(source: str) -> str:
    """Where Python 3.13 looks for a source's bytecode (this test runs on another Python)."""
    return importlib.util.cache_from_source(source).replace(sys.implementation.cache_tag, "cpython-313")


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_the_authorizer_has_a_role_of_its_own_that_reads_tokens_and_records_their_use(packages, key) -> None:
    resources = packages[key]["Resources"]
    statements = {
        function: _statements(resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]])
        for function in deploy.FUNCTIONS
    }
    actions = {function: {a for s in found for a in _list(s["Action"])} for function, found in statements.items()}
    # one read per request; a use (last-used) and a refusal its owner is told of, rarely
    assert {a for a in actions["BearerToken"] if a.startswith("dynamodb:")} == {
        "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert "dynamodb:PutItem" in actions["APIHandler"]
    assert {a for a in actions["SweepRevokedTokens"] if a.startswith("dynamodb:")} == {
        "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query"
    }
    events = resources["SweepRevokedTokens"]["Properties"]["Events"].values()
    assert [event["Properties"]["Schedule"] for event in events] == ["rate(1 hour)"]


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_the_expiry_notices_run_daily_and_may_only_read_the_index_tell_owners_and_put_token_expiring(
    packages, key
) -> None:
    stage, _ = key
    resources = packages[key]["Resources"]
    function = resources["AnnounceExpiringTokens"]["Properties"]
    assert [event["Properties"]["Schedule"] for event in function["Events"].values()] == ["cron(0 9 * * ? *)"]
    assert function["Timeout"] == 300
    table = f"arn:aws:dynamodb:*:*:table/openindex-auth-{stage}"
    granted = [{key: value for key, value in statement.items() if key != "Sid"}
               for statement in _statements(resources[function["Role"]["Fn::GetAtt"][0]])
               if not any(action.startswith("logs:") for action in _list(statement["Action"]))]
    assert granted == [
        {"Effect": "Allow", "Action": ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:PutItem",
                                       "dynamodb:UpdateItem"], "Resource": [table]},
        {"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": [f"{table}/index/expiry"]},
        {"Effect": "Allow", "Action": ["events:PutEvents"], "Resource": ["arn:aws:events:*:*:event-bus/default"],
         "Condition": {"StringEquals": {"events:source": "openindex.auth", "events:detail-type": "Token Expiring"}}},
    ]


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_each_function_writes_only_to_its_own_log_group(packages, key) -> None:
    stage, merged = key
    resources = packages[key]["Resources"]
    for function, name in deploy.FUNCTIONS.items():
        properties = resources[function]["Properties"]
        log_group = name.replace("${Stage}", stage)
        if merged:
            assert properties["FunctionName"] == log_group
        role = resources[properties["Role"]["Fn::GetAtt"][0]]
        logs = [s for s in _statements(role) if any(a.startswith("logs:") for a in _list(s["Action"]))]
        assert logs
        for statement in logs:
            assert set(_list(statement["Resource"])) == {
                f"arn:aws:logs:*:*:log-group:/aws/lambda/{log_group}",
                f"arn:aws:logs:*:*:log-group:/aws/lambda/{log_group}:*",
            }


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_each_role_grants_only_named_dynamodb_actions_on_the_stages_table(packages, key) -> None:
    stage, _ = key
    roles = [r for r in packages[key]["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == len(deploy.FUNCTIONS)  # one role per function
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
    assert table["DeletionProtectionEnabled"] is (stage == "prod")


def test_the_expiry_index_holds_keys_only_so_a_tokens_frequent_writes_never_reach_it() -> None:
    (expiry,) = [index for index in table_properties()["GlobalSecondaryIndexes"] if index["IndexName"] == "expiry"]
    assert expiry["KeySchema"] == [{"AttributeName": "expiresOn", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert expiry["Projection"] == {"ProjectionType": "KEYS_ONLY"}


@pytest.mark.parametrize("stage", STAGES)
def test_a_package_is_for_one_stage_and_every_name_in_it_is_that_stages(packages, stage: str) -> None:
    # The IAM policies (.chalice/policy-*.json) name one stage's table and log groups: a parameter
    # that renamed the table or the functions at deploy time would leave them pointing elsewhere.
    template = {key: value for key, value in packages[(stage, True)].items() if key != "__path__"}
    assert not template.get("Parameters") and not template.get("Conditions")
    text = json.dumps(template)
    assert "${Stage}" not in text and '{"Ref": "Stage"}' not in text
    named = re.findall(r"openindex-auth-([^-/\"*:]+)", text)
    assert named and set(named) == {stage}


@pytest.mark.parametrize("stage", STAGES)
def test_gateway_responses_answer_like_the_app(packages, stage: str, api: Api) -> None:
    definition = packages[(stage, True)]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = definition["x-amazon-apigateway-gateway-responses"]
    app_401 = api.get("/me", "oi_pat_nope")  # make run's gateway answers from the same definitions
    unauthorized = responses["UNAUTHORIZED"]
    assert unauthorized["statusCode"] == "401"
    assert json.loads(unauthorized["responseTemplates"]["application/json"]) == app_401.body
    assert unauthorized["responseParameters"]["gatewayresponse.header.WWW-Authenticate"] == (
        f"'{app_401.headers['WWW-Authenticate']}'"
    )
    assert "token-check" in app_401.body["error"]["message"]  # where its holder learns why
    denied = responses["ACCESS_DENIED"]
    assert denied["statusCode"] == "403"
    # the authorizer's context fills the body in: what the route needs, in the app's error shape
    assert json.loads(denied["responseTemplates"]["application/json"]) == {"error": {
        "code": "$context.authorizer.errorCode", "message": "$context.authorizer.errorMessage",
        "requiredScope": "$context.authorizer.requiredScope"}}
    assert 'error="insufficient_scope"' in denied["responseParameters"]["gatewayresponse.header.WWW-Authenticate"]


@pytest.mark.parametrize("stage", STAGES)
def test_every_answer_api_gateway_gives_itself_is_in_the_api_error_shape(packages, stage: str) -> None:
    definition = packages[(stage, True)]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = definition["x-amazon-apigateway-gateway-responses"]
    assert set(responses) >= {
        "MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED",
        "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR", "UNAUTHORIZED", "ACCESS_DENIED",
    }
    expected = {
        "MISSING_AUTHENTICATION_TOKEN": ("404", "route_not_found"),
        "THROTTLED": ("429", "too_many_requests"),
        "AUTHORIZER_FAILURE": ("503", "service_unavailable"),
        "AUTHORIZER_CONFIGURATION_ERROR": ("503", "service_unavailable"),
        "DEFAULT_4XX": (None, "invalid_request"),
        "DEFAULT_5XX": (None, "service_unavailable"),
    }
    for response_type, (status, code) in expected.items():
        response = responses[response_type]
        template = response["responseTemplates"]["application/json"]
        assert response.get("statusCode") == status
        assert json.loads(template)["error"]["code"] == code
        # Nothing the client sent (such as the Authorization header) can be echoed.
        assert "$" not in template
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'"
    assert responses["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert responses["AUTHORIZER_FAILURE"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


@pytest.mark.parametrize("stage", STAGES)
def test_the_package_runs_a_request_authorizer_that_other_apis_of_the_account_may_attach(packages, stage) -> None:
    template = packages[(stage, True)]
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    (authorizer,) = [d["x-amazon-apigateway-authorizer"] for d in definition["securityDefinitions"].values()]
    assert (authorizer["type"], authorizer["identitySource"]) == ("request", "method.request.header.Authorization")
    assert template["Outputs"]["AuthorizerArn"] == {
        "Description": template["Outputs"]["AuthorizerArn"]["Description"],
        "Value": {"Fn::GetAtt": ["BearerToken", "Arn"]},
        "Export": {"Name": f"openindex-auth-{stage}-authorizer-arn"},
    }
    permission = template["Resources"]["BearerTokenInvokeByAccountApis"]["Properties"]
    assert (permission["Principal"], permission["SourceAccount"]) == ("apigateway.amazonaws.com",
                                                                      {"Ref": "AWS::AccountId"})
    # authorizers of this account's APIs in this region only: not a method, not another account
    assert permission["SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/authorizers/*"}
    assert deploy.authorizer_template(stage)["Resources"] == deploy.authorizer_resources({"Ref": "AuthorizerArn"})


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_is_throttled_and_public_actions_more_tightly(packages, stage: str) -> None:
    settings = packages[(stage, True)]["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    by_path = {(s["ResourcePath"], s["HttpMethod"]): s for s in settings}
    stage_wide = by_path[("/*", "*")]
    claim = by_path[("/~1auth~1invites~1claim", "POST")]
    assert 0 < claim["ThrottlingRateLimit"] < stage_wide["ThrottlingRateLimit"]
    assert 0 < claim["ThrottlingBurstLimit"] < stage_wide["ThrottlingBurstLimit"]
    # Every route that needs no token and changes something has the tighter limit.
    assert set(by_path) == {("/*", "*")} | {(_escaped(path), method) for path, method in public_actions()}
    assert {("/auth/invites/claim", "POST"), ("/credentials/revoke", "POST")} <= set(public_actions())


def _escaped(path: str) -> str:
    return "/" + path.replace("/", "~1")


@pytest.mark.parametrize("stage", STAGES)
def test_the_merged_stack_limits_each_client_of_each_public_action_in_front_of_the_stage(packages, stage) -> None:
    resources = packages[(stage, True)]["Resources"]
    web_acl = resources["ClientLimits"]
    assert web_acl["Type"] == "AWS::WAFv2::WebACL"
    assert web_acl["Properties"] == client_limits_web_acl(f"openindex-auth-{stage}-client-limits")
    assert (web_acl["Properties"]["Scope"], web_acl["Properties"]["DefaultAction"]) == ("REGIONAL", {"Allow": {}})
    association = resources["ClientLimitsAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ClientLimits", "Arn"]}
    arn, names = association["ResourceArn"]["Fn::Sub"]
    assert arn.endswith("::/restapis/${RestApi}/stages/${ApiStage}")
    assert names == {"RestApi": {"Ref": "RestAPI"}, "ApiStage": {"Ref": "RestAPI.Stage"}}  # SAM's stage of the API


def test_the_webacl_has_one_rule_per_public_action_from_gateway_definitions() -> None:
    web_acl = client_limits_web_acl("openindex-auth-test-client-limits")
    # WAF's own bounds on a rate-based rule.
    assert CLIENT_LIMIT.requests >= 10 and CLIENT_LIMIT.window_seconds in (60, 120, 300, 600)
    scoped = set()
    for rule in web_acl["Rules"]:
        statement = rule["Statement"]["RateBasedStatement"]
        assert (statement["Limit"], statement["EvaluationWindowSec"], statement["AggregateKeyType"]) == (
            CLIENT_LIMIT.requests, CLIENT_LIMIT.window_seconds, "IP")
        scope_down = statement["ScopeDownStatement"]["AndStatement"]["Statements"]
        method, path = (match["ByteMatchStatement"] for match in scope_down)
        assert (method["FieldToMatch"], method["PositionalConstraint"]) == ({"Method": {}}, "EXACTLY")
        assert (path["FieldToMatch"], path["PositionalConstraint"]) == ({"UriPath": {}}, "CONTAINS")
        scoped.add((path["SearchString"], method["SearchString"]))
        answer = rule["Action"]["Block"]["CustomResponse"]
        assert answer["ResponseCode"] == CLIENT_LIMITED.status == 429
        assert {header["Name"]: header["Value"] for header in answer["ResponseHeaders"]} == client_limit_headers()
        assert web_acl["CustomResponseBodies"][answer["CustomResponseBodyKey"]] == {
            "ContentType": "APPLICATION_JSON", "Content": response_body(CLIENT_LIMITED)}
    assert scoped == set(public_actions()) and len(web_acl["Rules"]) == len(scoped)
    # A path parameter could not be matched as a plain string.
    assert all("{" not in path for path, _ in public_actions())
    assert {"Retry-After", "Cache-Control", "X-Content-Type-Options"} <= set(client_limit_headers())
    assert json.loads(response_body(CLIENT_LIMITED))["error"]["code"] == "too_many_requests"


def test_cfn_lint_passes_on_infra_every_merged_package_and_the_client_limits_stack(packages, tmp_path) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(BIN))
    assert cfn_lint, "cfn-lint is a dev dependency"
    limits = []
    for stage in STAGES:
        limits.append(tmp_path / f"client-limits-{stage}.json")
        limits[-1].write_text(json.dumps(deploy.client_limits_template(stage)))
    exported = [tmp_path / f"authorizer-{stage}.json" for stage in STAGES]
    for stage, path in zip(STAGES, exported, strict=True):
        path.write_text(json.dumps(deploy.authorizer_template(stage)))
    run(cfn_lint, "infra/table.yaml", *(packages[(stage, True)]["__path__"] for stage in STAGES), *map(str, limits),
        *map(str, exported))


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


DEPLOYED_AUTHORIZER = "arn:aws:lambda:us-east-1:123456789012:function:openindex-auth-prod-bearer_token"


@pytest.fixture
def chalice_deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """(apigateway client, API id) in moto, as `chalice deploy --stage prod` leaves them in .chalice/."""
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        api_id = client.create_rest_api(name="openindex-auth")["id"]
        root = client.get_resources(restApiId=api_id)["items"][0]["id"]
        client.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
        client.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
        client.create_authorizer(  # as chalice deploy makes it: a TOKEN authorizer, cached unless told
            restApiId=api_id, name="bearer_token", type="TOKEN", identitySource="method.request.header.Authorization",
            authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:"
                          "123456789012:function:openindex-auth-prod-bearer_token/invocations",
            authorizerResultTtlInSeconds=300)
        deployed = tmp_path / "deployed"
        deployed.mkdir()
        (deployed / "prod.json").write_text(json.dumps({"resources": [
            {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api_id},
            {"name": "bearer_token", "resource_type": "lambda_function", "lambda_arn": DEPLOYED_AUTHORIZER},
        ]}))
        shutil.copy(ROOT / ".chalice" / "config.json", tmp_path / "config.json")
        monkeypatch.setattr(deploy, "CHALICE_DIR", tmp_path)
        yield client, api_id


def test_the_deploy_path_installs_the_same_gateway_responses_and_throttling(chalice_deployed) -> None:
    client, api_id = chalice_deployed
    (token_authorizer,) = [a["id"] for a in client.get_authorizers(restApiId=api_id)["items"]]
    assert deploy.finish_api("prod", client) == api_id
    authorizer = client.get_authorizer(restApiId=api_id, authorizerId=token_authorizer)
    assert (authorizer["type"], authorizer["identitySource"]) == ("REQUEST", "method.request.header.Authorization")
    assert authorizer["authorizerResultTtlInSeconds"] == 0
    for response_type, expected in gateway_responses().items():
        installed = client.get_gateway_response(restApiId=api_id, responseType=response_type)
        assert installed.get("statusCode") == expected.get("statusCode")
        assert installed["responseTemplates"] == expected["responseTemplates"]
        assert installed["responseParameters"] == expected["responseParameters"]
    assert client.get_deployments(restApiId=api_id)["items"]
    method_settings = client.get_stage(restApiId=api_id, stageName="api")["methodSettings"]
    assert method_settings["*/*"]["throttlingRateLimit"] == STAGE_THROTTLE.rate
    assert method_settings["~1auth~1invites~1claim/POST"]["throttlingBurstLimit"] == PUBLIC_ACTION_THROTTLE.burst


def test_the_deploy_path_puts_the_client_limits_on_the_stage_chalice_deployed(chalice_deployed, capsys) -> None:
    # What `make deploy` does after finish-api: a stack from client-limits-template, with the
    # parameters `api-stage` prints. moto runs no WAFv2 stack, so this plays the stack's two
    # resources through WAFv2's API (botocore checks every field against the API's model).
    client, api_id = chalice_deployed
    deploy.finish_api("prod", client)
    assert deploy.main(["api-stage", "--stage", "prod"]) == 0
    parameters = dict(pair.split("=") for pair in capsys.readouterr().out.split())
    assert parameters == {"RestApiId": api_id, "StageName": "api"}
    template = deploy.client_limits_template("prod")
    assert set(template["Parameters"]) == set(parameters)
    web_acl = template["Resources"]["ClientLimits"]["Properties"]
    assert web_acl == client_limits_web_acl("openindex-auth-prod-client-limits")
    association = template["Resources"]["ClientLimitsAssociation"]["Properties"]
    arn, names = association["ResourceArn"]["Fn::Sub"]
    values = {"AWS::Partition": "aws", "AWS::Region": "us-east-1",
              **{name: parameters[ref["Ref"]] for name, ref in names.items()}}
    stage_arn = re.sub(r"\$\{([^}]+)\}", lambda found: values[found[1]], arn)

    wafv2 = boto3.client("wafv2", region_name="us-east-1")
    created = wafv2.create_web_acl(**web_acl)["Summary"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ClientLimits", "Arn"]}
    wafv2.associate_web_acl(WebACLArn=created["ARN"], ResourceArn=stage_arn)
    assert client.get_stage(restApiId=api_id, stageName="api")["webAclArn"] == created["ARN"]
    installed = wafv2.get_web_acl_for_resource(ResourceArn=stage_arn)["WebACL"]
    # botocore gives the rules' search strings back as bytes.
    assert json.loads(json.dumps(installed["Rules"], default=bytes.decode)) == web_acl["Rules"]
    assert installed["CustomResponseBodies"] == web_acl["CustomResponseBodies"]


def test_finishing_an_api_without_the_authorizer_fails_loudly(chalice_deployed) -> None:
    client, api_id = chalice_deployed  # no authorizer named bearer_token: a TOKEN one would stay otherwise
    for authorizer in client.get_authorizers(restApiId=api_id)["items"]:
        client.delete_authorizer(restApiId=api_id, authorizerId=authorizer["id"])
    with pytest.raises(SystemExit, match="no authorizer named bearer_token"):
        deploy.finish_api("prod", client)


def test_the_deploy_path_exports_the_authorizer_chalice_deployed(chalice_deployed, capsys) -> None:
    # What `make deploy` does last: a stack from authorizer-template, with what authorizer-arn prints.
    assert deploy.main(["authorizer-arn", "--stage", "prod"]) == 0
    parameters = dict(pair.split("=", 1) for pair in capsys.readouterr().out.split())
    assert parameters == {"AuthorizerArn": DEPLOYED_AUTHORIZER}
    template = deploy.authorizer_template("prod")
    assert set(template["Parameters"]) == set(parameters)
    assert template["Outputs"]["AuthorizerArn"]["Export"] == {"Name": "openindex-auth-prod-authorizer-arn"}


def test_the_example_service_packages_as_its_own_stack_attaching_the_exported_authorizer(tmp_path: Path) -> None:
    merge = tmp_path / "merge.json"
    merge.write_text(json.dumps(deploy.example_merge_template("prod")))
    run(str(LAMBDA_BIN / "chalice"), "package", "--stage", "prod", "--merge-template", str(merge),
        str(tmp_path / "out"), cwd=ROOT / "examples" / "work_items")
    template = json.loads((tmp_path / "out" / "sam.json").read_text())
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    (authorizer,) = [d["x-amazon-apigateway-authorizer"] for d in definition["securityDefinitions"].values()]
    assert (authorizer["type"], authorizer["authorizerResultTtlInSeconds"]) == ("request", 0)
    exported = {"Arn": {"Fn::ImportValue": "openindex-auth-prod-authorizer-arn"}}
    assert authorizer["authorizerUri"]["Fn::Sub"][1] == exported
    assert all(method.get("security") == [{"openindex": []}]
               for path in definition["paths"].values() for method in path.values())
    assert definition["x-amazon-apigateway-gateway-responses"] == gateway_responses()
    with zipfile.ZipFile(tmp_path / "out" / "deployment.zip") as archive:
        assert not [name for name in archive.namelist() if name.startswith(("chalicelib/", "openindex_"))]
    cfn_lint = shutil.which("cfn-lint", path=str(BIN))
    assert cfn_lint
    run(cfn_lint, str(tmp_path / "out" / "sam.json"))


def test_another_service_attaches_the_authorizer_under_its_own_name_with_the_same_answers() -> None:
    body = deploy.attach_merge_template("dev", "queues_gate")["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    (name,) = body["securityDefinitions"]
    authorizer = body["securityDefinitions"][name]["x-amazon-apigateway-authorizer"]
    assert name == "queues_gate" and authorizer["type"] == "request"
    assert authorizer["authorizerResultTtlInSeconds"] == 0  # whatever the service's CustomAuthorizer says
    imported = {"Arn": {"Fn::ImportValue": "openindex-auth-dev-authorizer-arn"}}
    assert authorizer["authorizerUri"]["Fn::Sub"][1] == imported
    assert body["x-amazon-apigateway-gateway-responses"] == gateway_responses()


def test_set_table_name_writes_the_stage_environment(tmp_path: Path, monkeypatch) -> None:
    shutil.copy(ROOT / ".chalice" / "config.json", tmp_path / "config.json")
    monkeypatch.setattr(deploy, "CHALICE_DIR", tmp_path)
    deploy.set_table_name("prod", "openindex-auth-prod-x")
    assert deploy.stage_env("prod", "TABLE_NAME") == "openindex-auth-prod-x"
    assert deploy.stage_env("dev", "TABLE_NAME") == "openindex-auth-dev"


def test_the_infra_template_is_the_one_the_tools_read() -> None:
    assert load_template()["Resources"]["AuthTable"]["Type"] == "AWS::DynamoDB::Table"

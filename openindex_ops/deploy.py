"""Deploy helpers behind `make deploy`, `make package` and `make bootstrap`.

    python -m openindex_ops.deploy merge-template --stage prod      the table, Gateway Responses,
                                                                    per-client limits and TABLE_NAME
                                                                    wiring that `chalice package
                                                                    --merge-template` adds
    python -m openindex_ops.deploy set-table-name --stage prod --table NAME
    python -m openindex_ops.deploy stage-env --stage prod TABLE_NAME
    python -m openindex_ops.deploy finish-api --stage prod          after `chalice deploy`: the
                                                                    Gateway Responses and the
                                                                    stage's throttling
    python -m openindex_ops.deploy client-limits-template --stage prod   the per-client limits'
                                                                    stack (after `chalice deploy`)
    python -m openindex_ops.deploy api-stage --stage prod           its parameters: the API and
                                                                    stage `chalice deploy` made
    python -m openindex_ops.deploy authorizer-template --stage prod the authorizer's export and
                                                                    invoke permission for other
                                                                    APIs (after `chalice deploy`)
    python -m openindex_ops.deploy authorizer-arn --stage prod      its parameter: the authorizer
                                                                    `chalice deploy` made
    python -m openindex_ops.deploy example-merge-template --stage prod   what `make package-example`
                                                                    adds to examples/work_items
    python -m openindex_ops.deploy attach-merge-template --stage prod --name openindex
                                                                    what another service's package
                                                                    adds to attach the authorizer
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3

from openindex_ops import example_service
from openindex_ops.gateway import client_limits_web_acl, gateway_responses, method_settings, throttle_patches
from openindex_ops.table import load_template

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHALICE_DIR = PROJECT_DIR / ".chalice"
# The logical ids chalice package gives the two Lambdas, and the names `chalice deploy` gives them
# (the merged stack uses the same names, so each IAM policy can name its own log group).
FUNCTIONS = {
    "APIHandler": "openindex-auth-${Stage}",
    "BearerToken": "openindex-auth-${Stage}-bearer_token",
    "SweepRevokedTokens": "openindex-auth-${Stage}-sweep_revoked_tokens",
    "AnnounceExpiringTokens": "openindex-auth-${Stage}-announce_expiring_tokens",
}
STAGES = ("dev", "prod")
CLIENT_LIMITS = "ClientLimits"  # the WebACL's logical id, in the merged stack and in its own
AUTHORIZER = "BearerToken"  # the authorizer function's logical id in the package
AUTHORIZER_LAMBDA = "bearer_token"  # its name in app.py and in .chalice/deployed
# The export another stack attaches the authorizer by: Fn::ImportValue openindex-auth-prod-authorizer-arn
AUTHORIZER_EXPORT = "openindex-auth-{stage}-authorizer-arn"
# The REQUEST authorizer API Gateway runs (chalice writes a TOKEN one): it sees the request's
# address and headers as well as the token, and refuses a request without the header itself. Its
# answers are never cached, whatever the service's code says (chalice's CustomAuthorizer caches
# for 300 s by default): a cached Allow would keep a revoked token working, and each answer names
# one route, so a cached one would refuse the token's other routes.
REQUEST_AUTHORIZER = {"type": "request", "identitySource": "method.request.header.Authorization",
                      "authorizerResultTtlInSeconds": 0}


def merge_template(stage: str) -> dict[str, Any]:
    """What `chalice package --merge-template` adds: one stack with the table and the functions.

    The stage is written into every name, not left as a parameter: the IAM policies of
    .chalice/ name one stage's table and log groups, and a ``Stage`` parameter could rename the
    table and the functions at deploy time but not them (a prod package deployed as dev would
    give dev's functions prod's table). So a package is for exactly one stage.
    """
    infra = load_template()
    (table_id,) = [name for name, r in infra["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    resources: dict[str, Any] = dict(infra["Resources"])
    for function, name in FUNCTIONS.items():
        resources[function] = {"Properties": {
            "FunctionName": {"Fn::Sub": name},
            "Environment": {"Variables": {"TABLE_NAME": {"Ref": table_id}}},
        }}
    resources["RestAPI"] = {"Properties": {
        "DefinitionBody": {
            "x-amazon-apigateway-gateway-responses": gateway_responses(),
            "securityDefinitions": {AUTHORIZER_LAMBDA: {"x-amazon-apigateway-authorizer": REQUEST_AUTHORIZER}},
        },
        "MethodSettings": method_settings(),
    }}
    # "RestAPI.Stage": the stage SAM makes for the API (a reference SAM resolves).
    resources.update(client_limits_resources(stage, {"Ref": "RestAPI"}, {"Ref": "RestAPI.Stage"}))
    authorizer_arn = {"Fn::GetAtt": [AUTHORIZER, "Arn"]}
    resources.update(authorizer_resources(authorizer_arn))
    parameters = {"Stage": stage}
    conditions = {name: _resolved(c, parameters, {}) for name, c in infra["Conditions"].items()}
    return {
        "Resources": _resolved(resources, parameters, conditions),
        "Outputs": {**_resolved(infra["Outputs"], parameters, conditions), **authorizer_outputs(stage, authorizer_arn)},
    }


def authorizer_resources(function_arn: Any) -> dict[str, Any]:
    """Let every API Gateway API of this account and region call the authorizer: other
    OpenIndex services attach it (chalice's own permission names only this service's API)."""
    return {f"{AUTHORIZER}InvokeByAccountApis": {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction",
        "FunctionName": function_arn,
        "Principal": "apigateway.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/authorizers/*"},
    }}}


def authorizer_outputs(stage: str, function_arn: Any) -> dict[str, Any]:
    """The authorizer's ARN, exported under one name per stage for other stacks to import."""
    return {"AuthorizerArn": {
        "Description": "The OpenIndex bearer-token authorizer: attach it to any OpenIndex API (docs/integrate.md)",
        "Value": function_arn,
        "Export": {"Name": AUTHORIZER_EXPORT.format(stage=stage)},
    }}


def attach_merge_template(stage: str, name: str) -> dict[str, Any]:
    """What `chalice package --merge-template` adds to another OpenIndex service whose routes use
    ``CustomAuthorizer(name, …)``: that authorizer made the exported OpenIndex one, as a REQUEST
    authorizer (``Fn::ImportValue``, so its stack needs this service's stack of the same stage),
    and the same Gateway Responses, so its refusals are in the OpenIndex error shape."""
    uri = {"Fn::Sub": [
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Arn}/invocations",
        {"Arn": {"Fn::ImportValue": AUTHORIZER_EXPORT.format(stage=stage)}},
    ]}
    return {"Resources": {"RestAPI": {"Properties": {"DefinitionBody": {
        "securityDefinitions": {name: {"x-amazon-apigateway-authorizer": {**REQUEST_AUTHORIZER, "authorizerUri": uri}}},
        "x-amazon-apigateway-gateway-responses": gateway_responses(),
    }}}}}


def example_merge_template(stage: str) -> dict[str, Any]:
    """What `make package-example` adds to the example service (examples/work_items/): the
    attachment (:func:`attach_merge_template`) and the example's own table."""
    template = attach_merge_template(stage, "openindex")
    template["Resources"].update({
        "WorkItemsTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                           "Properties": {
                               "TableName": f"openindex-work-items-{stage}", "BillingMode": "PAY_PER_REQUEST",
                               "AttributeDefinitions": example_service.ATTRIBUTES,
                               "KeySchema": example_service.KEYS,
                               "SSESpecification": {"SSEEnabled": True},
                               "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}},
    })
    return template


def authorizer_template(stage: str) -> dict[str, Any]:
    """For `make deploy`: the authorizer's export and permission as a stack of their own, on the
    function `chalice deploy` made (``authorizer-arn`` gives it), as `make package` has them."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"OpenIndex Auth ({stage}): the bearer-token authorizer, attachable by other APIs",
        "Parameters": {"AuthorizerArn": {"Type": "String", "Description": "the authorizer chalice deploy made"}},
        "Resources": authorizer_resources({"Ref": "AuthorizerArn"}),
        "Outputs": authorizer_outputs(stage, {"Ref": "AuthorizerArn"}),
    }


def _resolved(value: Any, parameters: dict[str, str], conditions: dict[str, bool]) -> Any:
    """``value`` with the parameters written in: ``Ref``, ``${…}`` in ``Fn::Sub``, and the
    ``Fn::Equals``/``Fn::If`` that only depended on them (what infra/table.yaml uses)."""
    if isinstance(value, list):
        return [_resolved(item, parameters, conditions) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" and argument in parameters:
            return parameters[argument]
        if function == "Fn::Sub" and isinstance(argument, str):
            for name, literal in parameters.items():
                argument = argument.replace("${" + name + "}", literal)
            return {function: argument} if "${" in argument else argument
        if function == "Fn::Equals":
            left, right = _resolved(argument, parameters, conditions)
            if isinstance(left, str) and isinstance(right, str):
                return left == right
        if function == "Fn::If" and argument[0] in conditions:
            _, when_true, when_false = argument
            return _resolved(when_true if conditions[argument[0]] else when_false, parameters, conditions)
    return {key: _resolved(item, parameters, conditions) for key, item in value.items()}


def client_limits_resources(stage: str, rest_api: Any, api_stage: Any) -> dict[str, Any]:
    """The WebACL of the per-client limits (``openindex_ops.gateway``) and its association with
    the API's stage: WAF inspects every request to the stage before API Gateway does."""
    return {
        CLIENT_LIMITS: {"Type": "AWS::WAFv2::WebACL",
                        "Properties": client_limits_web_acl(f"openindex-auth-{stage}-client-limits")},
        f"{CLIENT_LIMITS}Association": {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {
            "ResourceArn": {"Fn::Sub": [
                "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestApi}/stages/${ApiStage}",
                {"RestApi": rest_api, "ApiStage": api_stage},
            ]},
            "WebACLArn": {"Fn::GetAtt": [CLIENT_LIMITS, "Arn"]},
        }},
    }


def client_limits_template(stage: str) -> dict[str, Any]:
    """For `make deploy`: the per-client limits as a stack of their own, on the API and stage
    that `chalice deploy` made (``api_stage`` gives them), since chalice deploy makes no WAF."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"OpenIndex Auth ({stage}): per-client limits of the public operations",
        "Parameters": {
            "RestApiId": {"Type": "String", "Description": "the REST API chalice deploy made"},
            "StageName": {"Type": "String", "Description": "its stage (api_gateway_stage)"},
        },
        "Resources": client_limits_resources(stage, {"Ref": "RestApiId"}, {"Ref": "StageName"}),
    }


def load_config() -> dict[str, Any]:
    return json.loads((CHALICE_DIR / "config.json").read_text())


def set_table_name(stage: str, table: str) -> None:
    """Write the deployed table's name into the stage's environment in .chalice/config.json."""
    config = load_config()
    config["stages"][stage]["environment_variables"]["TABLE_NAME"] = table
    (CHALICE_DIR / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def stage_env(stage: str, name: str) -> str:
    """One environment variable of a stage, as .chalice/config.json sets it."""
    return str(load_config()["stages"][stage]["environment_variables"][name])


def _deployed(stage: str) -> list[dict[str, Any]]:
    """The resources `chalice deploy` recorded for ``stage``."""
    return list(json.loads((CHALICE_DIR / "deployed" / f"{stage}.json").read_text())["resources"])


def authorizer_arn(stage: str) -> str:
    """The authorizer function `chalice deploy` made for ``stage``."""
    (function,) = [r for r in _deployed(stage) if r.get("resource_type") == "lambda_function"
                   and r.get("name") == AUTHORIZER_LAMBDA]
    return str(function["lambda_arn"])


def api_stage(stage: str) -> tuple[str, str]:
    """(REST API id, API Gateway stage name) that `chalice deploy` made for ``stage``."""
    (api,) = [r for r in _deployed(stage) if r.get("resource_type") == "rest_api"]
    config = load_config()
    stage_name = config["stages"][stage].get("api_gateway_stage", config.get("api_gateway_stage", "api"))
    return str(api["rest_api_id"]), str(stage_name)


def finish_api(stage: str, client: Any = None) -> str:
    """Make the authorizer a REQUEST one, put the Gateway Responses and the throttling on the API
    `chalice deploy` made, and redeploy its stage (chalice deploy does none of these)."""
    rest_api_id, stage_name = api_stage(stage)
    client = client or boto3.client("apigateway")
    found = [a for a in client.get_authorizers(restApiId=rest_api_id)["items"] if a["name"] == AUTHORIZER_LAMBDA]
    if not found:
        raise SystemExit(f"no authorizer named {AUTHORIZER_LAMBDA} on API {rest_api_id}: did chalice deploy make it?")
    for authorizer in found:
        client.update_authorizer(restApiId=rest_api_id, authorizerId=authorizer["id"], patchOperations=[
            {"op": "replace", "path": "/type", "value": str(REQUEST_AUTHORIZER["type"]).upper()},
            {"op": "replace", "path": "/identitySource", "value": str(REQUEST_AUTHORIZER["identitySource"])},
            {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"},
        ])
    for response_type, response in gateway_responses().items():
        client.put_gateway_response(restApiId=rest_api_id, responseType=response_type, **response)
    client.create_deployment(restApiId=rest_api_id, stageName=stage_name)
    client.update_stage(restApiId=rest_api_id, stageName=stage_name, patchOperations=throttle_patches())
    return rest_api_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("merge-template", "set-table-name", "stage-env", "finish-api", "client-limits-template", "api-stage",
                 "authorizer-template", "authorizer-arn", "example-merge-template", "attach-merge-template"):
        command = commands.add_parser(name)
        command.add_argument("--stage", required=True, choices=STAGES)
        if name == "attach-merge-template":
            command.add_argument("--name", required=True, help="the CustomAuthorizer's name in the service's app.py")
        if name == "set-table-name":
            command.add_argument("--table", required=True)
        if name == "stage-env":
            command.add_argument("name")
    args = parser.parse_args(argv)
    if args.command == "merge-template":
        print(json.dumps(merge_template(args.stage), indent=2))
    elif args.command == "set-table-name":
        set_table_name(args.stage, args.table)
    elif args.command == "stage-env":
        print(stage_env(args.stage, args.name))
    elif args.command == "client-limits-template":
        print(json.dumps(client_limits_template(args.stage), indent=2))
    elif args.command == "api-stage":  # as `aws cloudformation deploy --parameter-overrides` takes them
        print("RestApiId={} StageName={}".format(*api_stage(args.stage)))
    elif args.command == "attach-merge-template":
        print(json.dumps(attach_merge_template(args.stage, args.name), indent=2))
    elif args.command == "example-merge-template":
        print(json.dumps(example_merge_template(args.stage), indent=2))
    elif args.command == "authorizer-template":
        print(json.dumps(authorizer_template(args.stage), indent=2))
    elif args.command == "authorizer-arn":
        print(f"AuthorizerArn={authorizer_arn(args.stage)}")
    else:
        print(f"Gateway Responses and throttling set on API {finish_api(args.stage)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

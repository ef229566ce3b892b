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
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3

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
}
STAGES = ("dev", "prod")
CLIENT_LIMITS = "ClientLimits"  # the WebACL's logical id, in the merged stack and in its own


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
        "DefinitionBody": {"x-amazon-apigateway-gateway-responses": gateway_responses()},
        "MethodSettings": method_settings(),
    }}
    # "RestAPI.Stage": the stage SAM makes for the API (a reference SAM resolves).
    resources.update(client_limits_resources(stage, {"Ref": "RestAPI"}, {"Ref": "RestAPI.Stage"}))
    parameters = {"Stage": stage}
    conditions = {name: _resolved(c, parameters, {}) for name, c in infra["Conditions"].items()}
    return {
        "Resources": _resolved(resources, parameters, conditions),
        "Outputs": _resolved(infra["Outputs"], parameters, conditions),
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


def api_stage(stage: str) -> tuple[str, str]:
    """(REST API id, API Gateway stage name) that `chalice deploy` made for ``stage``."""
    deployed = json.loads((CHALICE_DIR / "deployed" / f"{stage}.json").read_text())
    (api,) = [r for r in deployed["resources"] if r.get("resource_type") == "rest_api"]
    config = load_config()
    stage_name = config["stages"][stage].get("api_gateway_stage", config.get("api_gateway_stage", "api"))
    return str(api["rest_api_id"]), str(stage_name)


def finish_api(stage: str, client: Any = None) -> str:
    """Put the Gateway Responses and the throttling on the API `chalice deploy` made, and
    redeploy its stage (chalice deploy sets neither)."""
    rest_api_id, stage_name = api_stage(stage)
    client = client or boto3.client("apigateway")
    for response_type, response in gateway_responses().items():
        client.put_gateway_response(restApiId=rest_api_id, responseType=response_type, **response)
    client.create_deployment(restApiId=rest_api_id, stageName=stage_name)
    client.update_stage(restApiId=rest_api_id, stageName=stage_name, patchOperations=throttle_patches())
    return rest_api_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("merge-template", "set-table-name", "stage-env", "finish-api", "client-limits-template", "api-stage"):
        command = commands.add_parser(name)
        command.add_argument("--stage", required=True, choices=STAGES)
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
    else:
        print(f"Gateway Responses and throttling set on API {finish_api(args.stage)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

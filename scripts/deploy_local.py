"""Deploys template.yaml on a local AWS-API server (moto), as `sam deploy` would on AWS.

    deploy_local.py --endpoint URL --stack NAME [--template template.yaml] [--out FILE]

Steps, each what SAM or CloudFormation does in AWS:
1. package: every function's CodeUri becomes an S3 object (a placeholder zip in a bucket made
   here), as `sam package` uploads the built code;
2. translate: the SAM translator (the library `sam` and cfn-lint use) turns the template into
   plain CloudFormation;
3. create the stack in the server's CloudFormation and wait for CREATE_COMPLETE;
4. subscribe: moto accepts AWS::SNS::Subscription but does not create it, so each one is made
   from the template's own properties (topic, endpoint, raw delivery, filter policy);
5. describe: print (or write to --out) a JSON document of what was created, by logical id:
   queues (URL, ARN, redrive policy), topics, the table, subscriptions, and each function's
   SQS event source mapping (batch size, function response types) and environment. The
   mappings are then disabled: the caller polls the queues as they say, with the real code.

Credentials and region come from the environment (scripts/lib.sh exports dummy ones).
"""

import argparse
import io
import json
import sys
import time
import zipfile

import boto3
import yaml
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form functions (!Ref, !GetAtt, !Sub) as their long form."""


def _long_form(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _long_form)


def client(name, endpoint):
    return boto3.client(name, endpoint_url=endpoint)


def package(template, endpoint, bucket):
    """Points every function's CodeUri at a placeholder zip in `bucket`."""
    s3 = client("s3", endpoint)
    # S3 refuses a location constraint naming its default region, us-east-1.
    location = {}
    if s3.meta.region_name != "us-east-1":
        location = {"CreateBucketConfiguration": {"LocationConstraint": s3.meta.region_name}}
    try:
        s3.create_bucket(Bucket=bucket, **location)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass  # a run before this one made it; the objects below are overwritten
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("bootstrap", "#!/bin/sh\n# placeholder: built by `sam build`\n")
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            key = f"{logical_id}.zip"
            s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())
            resource.setdefault("Properties", {})["CodeUri"] = f"s3://{bucket}/{key}"
    globals_function = template.get("Globals", {}).get("Function", {})
    globals_function.pop("CodeUri", None)


class NoManagedPolicies(ManagedPolicyLoader):
    """The translator asks IAM for AWS managed policies only when a function names one by
    name; the template gives every function a role of its own, so there is nothing to load."""

    def __init__(self):
        pass

    def load(self):
        return {}


def translate(template, parameters):
    try:
        return transform(template, parameters, NoManagedPolicies())
    except InvalidDocumentException as error:
        messages = "; ".join(str(cause) for cause in error.causes)
        sys.exit(f"error: the SAM translator refused the template: {messages}")


def create_stack(cloudformation, stack, body, parameters):
    existing = [
        summary["StackName"]
        for page in cloudformation.get_paginator("list_stacks").paginate()
        for summary in page["StackSummaries"]
        if summary["StackStatus"] != "DELETE_COMPLETE"
    ]
    if stack in existing:
        sys.exit(
            f"error: a stack called {stack} exists already on this server: "
            "choose another --stack name, or restart the local server"
        )
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if status.endswith("FAILED") or status.startswith("ROLLBACK"):
            events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
            reasons = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
                for e in events
                if e["ResourceStatus"].endswith("FAILED")
            ]
            sys.exit(f"error: stack {stack} is {status}: {'; '.join(reasons)}")
        time.sleep(0.5)
    sys.exit(f"error: stack {stack} was not created within 120 s")


def resolve(value, physical, attributes):
    """`value` with Ref and Fn::GetAtt of the stack's resources resolved."""
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if key == "Ref":
            return physical[inner]
        if key == "Fn::GetAtt":
            resource, attribute = inner
            return attributes(resource, attribute)
    if isinstance(value, dict):
        return {k: resolve(v, physical, attributes) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, physical, attributes) for v in value]
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--architecture", default="x86_64")
    parser.add_argument("--out")
    args = parser.parse_args()

    with open(args.template) as f:
        template = yaml.load(f, Loader=CfnLoader)
    parameters = {"Architecture": args.architecture}
    package(template, args.endpoint, f"{args.stack}-artifacts")
    cloudformation_body = translate(template, parameters)

    cloudformation = client("cloudformation", args.endpoint)
    create_stack(cloudformation, args.stack, cloudformation_body, parameters)
    # moto lists the resource types it does not model (subscriptions, queue policies)
    # without ids: only the modelled ones can be looked up.
    resources = [
        r
        for r in cloudformation.describe_stack_resources(StackName=args.stack)["StackResources"]
        if "LogicalResourceId" in r and "PhysicalResourceId" in r
    ]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    kinds = {r["LogicalResourceId"]: r["ResourceType"] for r in resources}

    sqs, sns = client("sqs", args.endpoint), client("sns", args.endpoint)
    lambdas, dynamodb = client("lambda", args.endpoint), client("dynamodb", args.endpoint)

    queues = {}
    for logical_id, kind in kinds.items():
        if kind == "AWS::SQS::Queue":
            url = physical[logical_id]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            redrive = attributes.get("RedrivePolicy")
            queues[logical_id] = {
                "url": url,
                "arn": attributes["QueueArn"],
                "visibilityTimeout": int(attributes["VisibilityTimeout"]),
                "redrivePolicy": json.loads(redrive) if redrive else None,
            }

    def attribute_of(logical_id, attribute):
        if attribute == "Arn" and logical_id in queues:
            return queues[logical_id]["arn"]
        if attribute == "Arn" and kinds.get(logical_id) == "AWS::DynamoDB::Table":
            return dynamodb.describe_table(TableName=physical[logical_id])["Table"]["TableArn"]
        sys.exit(f"error: cannot resolve Fn::GetAtt {logical_id}.{attribute}")

    subscriptions = {}
    for logical_id, resource in cloudformation_body["Resources"].items():
        if resource["Type"] != "AWS::SNS::Subscription":
            continue
        properties = resolve(resource["Properties"], physical, attribute_of)
        subscription_attributes = {}
        if properties.get("RawMessageDelivery") in (True, "true"):
            subscription_attributes["RawMessageDelivery"] = "true"
        if "FilterPolicy" in properties:
            subscription_attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
            subscription_attributes["FilterPolicyScope"] = properties.get(
                "FilterPolicyScope", "MessageAttributes"
            )
        arn = sns.subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=subscription_attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        subscriptions[logical_id] = {
            "arn": arn,
            "topicArn": properties["TopicArn"],
            "endpoint": properties["Endpoint"],
            "filterPolicy": properties.get("FilterPolicy"),
            "rawMessageDelivery": properties.get("RawMessageDelivery") in (True, "true"),
        }

    functions = {}
    for logical_id, kind in kinds.items():
        if kind != "AWS::Lambda::Function":
            continue
        name = physical[logical_id]
        configuration = lambdas.get_function_configuration(FunctionName=name)
        mappings = lambdas.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        # The test plays the event source mapping, with the function's real code. Left
        # enabled, moto would also run one on every message sent, invoking the placeholder
        # code (through Docker, when there is one) and raising the receive count of every
        # message it hands back.
        for mapping in mappings:
            lambdas.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
        functions[logical_id] = {
            "name": name,
            "environment": {
                key: value
                for key, value in configuration.get("Environment", {}).get("Variables", {}).items()
            },
            "eventSources": [
                {
                    "queueArn": m["EventSourceArn"],
                    "batchSize": m.get("BatchSize"),
                    "functionResponseTypes": m.get("FunctionResponseTypes", []),
                }
                for m in mappings
            ],
        }

    described = {
        "stack": args.stack,
        "queues": queues,
        "topics": {k: physical[k] for k, kind in kinds.items() if kind == "AWS::SNS::Topic"},
        "tables": {k: physical[k] for k, kind in kinds.items() if kind == "AWS::DynamoDB::Table"},
        "subscriptions": subscriptions,
        "functions": functions,
    }
    text = json.dumps(described, indent=2, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()

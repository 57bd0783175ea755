"""Create the local run's AWS resources from the same definitions as `infra/template.yaml`.

The table (keys, indexes, TTL), the queues (attributes, redrive to their DLQs), the bucket (with
its `incoming/` notification to the ingest queue) and the SES sender identity are read from the
CloudFormation template that `make package` deploys, so the local run cannot drift from AWS.

    python -m scripts.provision --endpoint-url http://127.0.0.1:4566 --region eu-west-1

With `endpoint_url=None` the calls go wherever boto3 points (inside `mock_aws` in tests).
Calling `provision` twice is harmless.
"""

from __future__ import annotations

import argparse
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"

# logical id in the template -> (key in the returned dict, queue name suffix)
QUEUES = {
    "IngestDeadLetterQueue": ("ingest_dlq_url", "ingest-dlq"),
    "IngestQueue": ("ingest_queue_url", "ingest"),
    "ActivationDeadLetterQueue": ("activation_dlq_url", "activation-dlq"),
    "ActivationQueue": ("activation_queue_url", "activation"),
}
# CloudFormation queue properties that are SQS attributes of the same name.
QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "DelaySeconds",
)


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (`!Ref`, `!GetAtt`, `!Sub`, ...) as their long form."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise ValueError(f"unexpected YAML node {node!r}")
    return {name: value}


TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The merge template as plain data, intrinsic functions in their long (JSON) form."""
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=TemplateLoader)
    return loaded


@lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    return load_template()


def resource_properties(logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = _template()["Resources"][logical_id]["Properties"]
    return properties


def queue_name(stage: str, logical_id: str) -> str:
    return f"polisregister-{stage}-{QUEUES[logical_id][1]}"


def _stage_sender(stage: str) -> str:
    """SES_SENDER of the stage in .chalice/config.json (the administrators' configuration), else
    of the environment (the test stage has no entry there)."""
    try:
        config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
        sender: str = config["stages"][stage]["environment_variables"]["SES_SENDER"]
    except (OSError, KeyError, ValueError):
        return os.environ.get("SES_SENDER", "noreply@polisregister.local")
    return sender


def _resolve(value: Any, arns: dict[str, str]) -> Any:
    """Resolve the few intrinsics the provisioned properties use: `!GetAtt <queue>.Arn`."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute != "Arn" or logical_id not in arns:
            raise ValueError(f"cannot resolve {value} locally")
        return arns[logical_id]
    if isinstance(value, dict):
        return {k: _resolve(v, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, arns) for v in value]
    return value


def queue_attributes(logical_id: str, arns: dict[str, str]) -> dict[str, str]:
    """SQS attributes of a queue of the template (RedrivePolicy with the DLQ's ARN resolved)."""
    properties = resource_properties(logical_id)
    attributes = {k: str(properties[k]) for k in QUEUE_ATTRIBUTES if k in properties}
    if "RedrivePolicy" in properties:
        redrive = _resolve(properties["RedrivePolicy"], arns)
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": redrive["deadLetterTargetArn"],
                "maxReceiveCount": int(redrive["maxReceiveCount"]),
            }
        )
    return attributes


def table_definition(table_name: str) -> dict[str, Any]:
    """`create_table` arguments for the template's table."""
    properties = resource_properties("PortfolioTable")
    definition: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties["BillingMode"],
    }
    if properties.get("GlobalSecondaryIndexes"):
        # The schema only: warm throughput is a deployment's sizing (a template parameter).
        definition["GlobalSecondaryIndexes"] = [
            {k: v for k, v in index.items() if k != "WarmThroughput"}
            for index in properties["GlobalSecondaryIndexes"]
        ]
    return definition


def ttl_attribute() -> str:
    spec = resource_properties("PortfolioTable")["TimeToLiveSpecification"]
    assert spec["Enabled"], "the template's table must have TTL enabled"
    attribute: str = spec["AttributeName"]
    return attribute


def bucket_notification(arns: dict[str, str]) -> dict[str, Any]:
    """The bucket's NotificationConfiguration in S3 API form (`put_bucket_notification_...`)."""
    configuration = resource_properties("PortfolioBucket")["NotificationConfiguration"]
    queues = []
    for entry in configuration.get("QueueConfigurations", []):
        item: dict[str, Any] = {
            "QueueArn": _resolve(entry["Queue"], arns),
            "Events": [entry["Event"]],
        }
        rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        if rules:
            item["Filter"] = {
                "Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
            }
        queues.append(item)
    return {"QueueConfigurations": queues}


def _clients(endpoint_url: str | None, region: str) -> dict[str, Any]:
    options: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint_url}
    if endpoint_url is not None:
        # The embedded AWS accepts any credentials; do not depend on the developer's profile.
        options.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    session = boto3.session.Session()
    return {name: session.client(name, **options) for name in ("dynamodb", "s3", "sqs", "ses")}


def _create_table(dynamodb: Any, table_name: str) -> None:
    try:
        dynamodb.create_table(**table_definition(table_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    current = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": ttl_attribute(), "Enabled": True},
        )


def _create_queues(sqs: Any, stage: str) -> tuple[dict[str, str], dict[str, str]]:
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical_id in QUEUES:  # dead-letter queues first: their ARNs go into the redrive policies
        url = sqs.create_queue(QueueName=queue_name(stage, logical_id))["QueueUrl"]
        # create_queue does not change an existing queue: set the attributes explicitly.
        attributes = queue_attributes(logical_id, arns)
        if attributes:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        urls[logical_id] = url
        arns[logical_id] = arn["QueueArn"]
    return urls, arns


def _create_bucket(s3: Any, bucket_name: str, region: str, arns: dict[str, str]) -> None:
    params: dict[str, Any] = {"Bucket": bucket_name}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**params)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    properties = resource_properties("PortfolioBucket")
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(
            Bucket=bucket_name, VersioningConfiguration={"Status": versioning["Status"]}
        )
    wanted = bucket_notification(arns)
    current = s3.get_bucket_notification_configuration(Bucket=bucket_name)
    if _queue_targets(current) != _queue_targets(wanted):
        # S3 (and moto) sends an s3:TestEvent on every change: only change when needed.
        s3.put_bucket_notification_configuration(
            Bucket=bucket_name, NotificationConfiguration=wanted
        )


def _queue_targets(configuration: dict[str, Any]) -> list[tuple[str, tuple[str, ...], str]]:
    """Queue notifications as comparable (queue ARN, events, filter rules) tuples."""
    return sorted(
        (
            entry["QueueArn"],
            tuple(sorted(entry["Events"])),
            json.dumps(entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])).lower(),
        )
        for entry in configuration.get("QueueConfigurations", [])
    )


def provision(
    endpoint_url: str | None,
    region: str,
    *,
    table_name: str,
    bucket_name: str,
    stage: str = "local",
    ses_sender: str | None = None,
) -> dict[str, str]:
    """Create (or find) the stage's table, queues, bucket and SES sender; return their names/URLs.

    Returns `table`, `bucket`, `ingest_queue_url`, `ingest_dlq_url`, `activation_queue_url`,
    `activation_dlq_url`. `ses_sender` defaults to the stage's SES_SENDER in
    .chalice/config.json (or the environment's for a stage not listed there).
    """
    clients = _clients(endpoint_url, region)
    _create_table(clients["dynamodb"], table_name)
    urls, arns = _create_queues(clients["sqs"], stage)
    _create_bucket(clients["s3"], bucket_name, region, arns)
    clients["ses"].verify_email_identity(EmailAddress=ses_sender or _stage_sender(stage))
    return {
        "table": table_name,
        "bucket": bucket_name,
        **{QUEUES[logical_id][0]: url for logical_id, url in urls.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:4566")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--table", default="polisregister")
    parser.add_argument("--bucket", default="polisregister-local")
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()
    created = provision(
        args.endpoint_url,
        args.region,
        table_name=args.table,
        bucket_name=args.bucket,
        stage=args.stage,
    )
    print(json.dumps(created, indent=2))


if __name__ == "__main__":
    main()

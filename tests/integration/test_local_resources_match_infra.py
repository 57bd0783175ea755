"""The local run's resources (scripts/provision.py) are the ones infra/template.yaml deploys."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from scripts.provision import CHALICE_CONFIG, load_template, provision

pytestmark = pytest.mark.integration

REGION = "eu-west-1"


@pytest.fixture
def provisioned(aws: dict[str, str]) -> dict[str, str]:
    """The conftest `aws` fixture provisions moto with scripts/provision.py."""
    return aws


@pytest.fixture
def resources() -> dict[str, Any]:
    template_resources: dict[str, Any] = load_template()["Resources"]
    return template_resources


def _index_keys(indexes: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    return {
        index["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
        for index in indexes
    }


def _queue_attributes(url: str) -> dict[str, str]:
    response = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=url, AttributeNames=["All"]
    )
    attributes: dict[str, str] = response["Attributes"]
    return attributes


def test_local_table_has_the_template_keys_indexes_and_ttl(
    provisioned: dict[str, str], resources: dict[str, Any]
) -> None:
    # given the table of the template
    expected = resources["PortfolioTable"]["Properties"]

    # when the local table is described
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb.describe_table(TableName=provisioned["table"])["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=provisioned["table"])["TimeToLiveDescription"]

    # then keys, attribute types, indexes (with projection) and TTL are the same
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert _index_keys(table["GlobalSecondaryIndexes"]) == _index_keys(
        expected["GlobalSecondaryIndexes"]
    )
    assert {i["IndexName"]: i["Projection"] for i in table["GlobalSecondaryIndexes"]} == {
        "gsi1": {"ProjectionType": "ALL"},
        "gsi2": {"ProjectionType": "ALL"},
    }
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert expected["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize(
    ("queue", "dlq", "logical_id"),
    [
        ("ingest_queue_url", "ingest_dlq_url", "IngestQueue"),
        ("activation_queue_url", "activation_dlq_url", "ActivationQueue"),
    ],
)
def test_local_queue_redrives_to_its_dead_letter_queue_like_the_template(
    provisioned: dict[str, str], resources: dict[str, Any], queue: str, dlq: str, logical_id: str
) -> None:
    # given the queue's properties in the template
    expected = resources[logical_id]["Properties"]

    # when the local queue and its DLQ are read
    attributes = _queue_attributes(provisioned[queue])
    dlq_arn = _queue_attributes(provisioned[dlq])["QueueArn"]

    # then the redrive policy targets the local DLQ with the template's receive count
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == expected["RedrivePolicy"]["maxReceiveCount"]
    assert attributes["VisibilityTimeout"] == str(expected["VisibilityTimeout"])


def test_local_bucket_notifies_the_ingest_queue_of_incoming_objects_only(
    provisioned: dict[str, str], resources: dict[str, Any]
) -> None:
    # given the bucket notification of the template
    expected = resources["PortfolioBucket"]["Properties"]["NotificationConfiguration"]
    expected_rules = expected["QueueConfigurations"][0]["Filter"]["S3Key"]["Rules"]
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    ingest_arn = _queue_attributes(provisioned["ingest_queue_url"])["QueueArn"]

    # when the local configuration is read and one object is written under each prefix
    configuration = s3.get_bucket_notification_configuration(Bucket=provisioned["bucket"])
    sqs.purge_queue(QueueUrl=provisioned["ingest_queue_url"])  # drop the s3:TestEvent
    s3.put_object(
        Bucket=provisioned["bucket"], Key="incoming/demo-volmacht/full/a b.csv", Body=b"x"
    )
    s3.put_object(Bucket=provisioned["bucket"], Key="reports/demo-volmacht/1.json", Body=b"{}")
    messages = sqs.receive_message(
        QueueUrl=provisioned["ingest_queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=0
    )["Messages"]

    # then it is the template's notification, and only the incoming/ object reaches the queue
    [queue_configuration] = configuration["QueueConfigurations"]
    assert queue_configuration["QueueArn"] == ingest_arn
    assert queue_configuration["Events"] == [expected["QueueConfigurations"][0]["Event"]]
    assert [
        {"Name": r["Name"].lower(), "Value": r["Value"]}
        for r in queue_configuration["Filter"]["Key"]["FilterRules"]
    ] == expected_rules
    keys = [json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"] for m in messages]
    assert keys == ["incoming%2Fdemo-volmacht%2Ffull%2Fa+b.csv"]


def test_provisioning_twice_returns_the_same_resources(provisioned: dict[str, str]) -> None:
    # given resources provisioned once (fixture)
    # when provisioning runs again
    again = provision(
        None,
        REGION,
        table_name=provisioned["table"],
        bucket_name=provisioned["bucket"],
        stage="test",
    )

    # then nothing fails and the same names and URLs come back
    assert again == provisioned
    assert set(again) == {
        "table",
        "bucket",
        "ingest_queue_url",
        "ingest_dlq_url",
        "activation_queue_url",
        "activation_dlq_url",
    }


def test_provisioning_verifies_the_stage_sender_in_ses(provisioned: dict[str, str]) -> None:
    # given the local stage's sender in .chalice/config.json
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    sender = config["stages"]["local"]["environment_variables"]["SES_SENDER"]

    # when the local stage is provisioned and SES identities are listed
    provision(None, REGION, table_name="polisregister", bucket_name="polisregister-local")
    identities = boto3.client("ses", region_name=REGION).list_identities()["Identities"]

    # then the sender is verified, so SendEmail works against the embedded AWS
    assert sender in identities

"""The deployable template (`chalice package` + infra/template.yaml) for prod, read as data.

Packaging runs once per test module (about 15 s: chalice builds the deployment zip too); cfn-lint
and checkov run in `make package`, not here.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.package import build, check_zip

pytestmark = pytest.mark.integration

FUNCTIONS = {
    "APIHandler": "ApiHandlerRole",
    "Ingest": "IngestRole",
    "SendActivation": "SendActivationRole",
}
SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}")


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out_dir = tmp_path_factory.mktemp("package") / "prod"
    template_path = build("prod", out_dir)
    template: dict[str, Any] = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    return template, out_dir


@pytest.fixture(scope="module")
def template(packaged: tuple[dict[str, Any], Path]) -> dict[str, Any]:
    return packaged[0]


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def referenced(value: Any) -> set[str]:
    """Logical ids and parameters an intrinsic expression refers to."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                names.add(inner)
            elif key == "Fn::GetAtt":
                names.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (inner, {}) if isinstance(inner, str) else inner
                names |= {n for n in SUB_NAME.findall(text) if n not in variables}
                names |= referenced(variables)
            else:
                names |= referenced(inner)
    elif isinstance(value, list):
        for inner in value:
            names |= referenced(inner)
    return names - {"AWS::Partition", "AWS::Region", "AWS::AccountId"}


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_on(role: dict[str, Any], resource_name: str) -> set[str]:
    """Every action the role allows on resources that mention `resource_name`."""
    return {
        action
        for statement in statements(role)
        if any(resource_name in referenced(r) for r in as_list(statement["Resource"]))
        for action in as_list(statement["Action"])
    }


def test_table_expires_items_on_expires_at_with_recovery_and_encryption(
    resources: dict[str, Any],
) -> None:
    # given the packaged table
    table = resources["PortfolioTable"]["Properties"]

    # then TTL is on expires_at, point-in-time recovery and encryption are on, and it is on-demand
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2"]
    assert resources["PortfolioTable"]["DeletionPolicy"] == "Retain"


def test_prod_table_and_both_indexes_serve_the_per_table_quota_of_writes_from_the_start(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # given the packaged prod table
    table = resources["PortfolioTable"]["Properties"]
    warm = {
        "Fn::If": [
            "IsWarm",
            {"WriteUnitsPerSecond": {"Ref": "WarmWriteUnitsPerSecond"}},
            {"Ref": "AWS::NoValue"},
        ]
    }

    # then the table and each index are pre-warmed to 40,000 write units/s, which only a
    # parameter of 0 leaves out (a new on-demand table otherwise starts at 4,000)
    assert template["Parameters"]["WarmWriteUnitsPerSecond"]["Default"] == 40_000
    assert template["Conditions"]["IsWarm"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WarmWriteUnitsPerSecond"}, 0]}]
    }
    assert table["WarmThroughput"] == warm
    assert [i["WarmThroughput"] for i in table["GlobalSecondaryIndexes"]] == [warm, warm]


def test_bucket_blocks_public_access_requires_tls_and_expires_deliveries_and_reports(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # given the packaged bucket, its policy and the prod retention (24 months)
    bucket = resources["PortfolioBucket"]["Properties"]
    policy = resources["PortfolioBucketPolicy"]["Properties"]["PolicyDocument"]
    retention = template["Parameters"]["RetentionDays"]["Default"]

    # then all public access is blocked, non-TLS access is denied, objects are encrypted
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert set(bucket["PublicAccessBlockConfiguration"]) == {
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    }
    [deny] = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # and reports/ expire after the retention period; an upload no delivery removed and a
    # delivery's work state after 30 days (tests/unit/test_bucket_lifecycle.py says why)
    expiry = {
        rule["Prefix"]: rule["ExpirationInDays"]
        for rule in bucket["LifecycleConfiguration"]["Rules"]
        if rule["Status"] == "Enabled"
    }
    assert expiry == {
        "incoming/": 30,
        "reports/": {"Ref": "RetentionDays"},
        "work/": 30,
    }
    assert retention == 730


def test_bucket_notifies_the_ingest_queue_which_allows_only_that_bucket(
    resources: dict[str, Any],
) -> None:
    # given the bucket notification and the ingest queue's policy
    notification = resources["PortfolioBucket"]["Properties"]["NotificationConfiguration"]
    [statement] = resources["IngestQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]

    # then incoming/ objects notify the ingest queue, and S3 may send only for this bucket/account
    [queue_config] = notification["QueueConfigurations"]
    assert queue_config["Queue"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    assert queue_config["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "incoming/"}]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert (
        "polisregister-${Stage}-portfolio"
        in statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    )
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    assert resources["PortfolioBucket"]["Properties"]["BucketName"]["Fn::Sub"].startswith(
        "polisregister-${Stage}-portfolio"
    )


@pytest.mark.parametrize(
    ("function", "event", "queue", "batch_size"),
    [
        ("Ingest", "IngestSqsEventSource", "IngestQueue", 1),
        ("SendActivation", "SendActivationSqsEventSource", "ActivationQueue", 10),
    ],
)
def test_sqs_event_source_reads_the_template_queue_and_reports_batch_item_failures(
    resources: dict[str, Any], function: str, event: str, queue: str, batch_size: int
) -> None:
    # given the function's SQS event source
    source = resources[function]["Properties"]["Events"][event]

    # then it reads the queue of the template and reports failures per message
    assert source["Type"] == "SQS"
    assert referenced(source["Properties"]["Queue"]) == {queue}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["Properties"]["BatchSize"] == batch_size


@pytest.mark.parametrize(
    ("queue", "dlq", "receives"),
    [
        ("IngestQueue", "IngestDeadLetterQueue", 5),
        ("ActivationQueue", "ActivationDeadLetterQueue", 3),
    ],
)
def test_queue_moves_failing_messages_to_its_dead_letter_queue_which_raises_an_alarm(
    resources: dict[str, Any], queue: str, dlq: str, receives: int
) -> None:
    # given the queue's redrive policy and the alarms
    redrive = resources[queue]["Properties"]["RedrivePolicy"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]

    # then it redrives to its DLQ, and an alarm watches the DLQ's depth
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": receives,
    }
    assert any(
        a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and referenced(a["Dimensions"]) == {dlq}
        and a["Threshold"] == 0
        and a["ComparisonOperator"] == "GreaterThanThreshold"
        for a in alarms
    )


def test_every_function_has_an_errors_alarm(resources: dict[str, Any]) -> None:
    # given the Lambda error alarms
    watched = {
        next(iter(referenced(r["Properties"]["Dimensions"])))
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["MetricName"] == "Errors"
    }

    # then each function is watched
    assert watched == set(FUNCTIONS)


@pytest.mark.parametrize(
    ("queue", "function"), [("IngestQueue", "Ingest"), ("ActivationQueue", "SendActivation")]
)
def test_queue_visibility_timeout_is_at_least_six_times_its_function_timeout(
    resources: dict[str, Any], queue: str, function: str
) -> None:
    # given the queue and the function that consumes it
    visibility = resources[queue]["Properties"]["VisibilityTimeout"]
    timeout = resources[function]["Properties"]["Timeout"]

    # then a message is not redelivered while a run can still be busy with it
    assert visibility >= 6 * timeout
    assert visibility <= 43200


def test_ingest_runs_deliveries_in_parallel_under_a_cap_with_fifteen_minutes_and_a_gigabyte(
    resources: dict[str, Any],
) -> None:
    # given the ingest function and its event source
    ingest = resources["Ingest"]["Properties"]
    source = ingest["Events"]["IngestSqsEventSource"]["Properties"]

    # then the event source caps the concurrent ingests (partners run in parallel, each in its
    # lane), and no reserved concurrency throttles the poller's messages back to the queue
    assert "ReservedConcurrentExecutions" not in ingest
    assert 2 <= source["ScalingConfig"]["MaximumConcurrency"] <= 1000
    assert ingest["Timeout"] == 900
    # and it gets one whole vCPU (1,769 MB): its rows/s are CPU-bound (docs/benchmarks.md)
    assert ingest["MemorySize"] == 1769


def test_no_iam_statement_allows_a_wildcard_action(resources: dict[str, Any]) -> None:
    # given every IAM role in the package
    roles = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]

    # then no action is `*` or `service:*`, and only X-Ray (which has no resources) uses `*`
    assert len(roles) == 3
    for role in roles:
        for statement in statements(role):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, action
            if "*" in as_list(statement["Resource"]):
                assert {a.split(":")[0] for a in as_list(statement["Action"])} == {"xray"}


def test_each_function_has_its_own_role(resources: dict[str, Any]) -> None:
    # then every function assumes the role made from its own policy file
    for function, role in FUNCTIONS.items():
        assert resources[function]["Properties"]["Role"] == {"Fn::GetAtt": [role, "Arn"]}


def bucket_actions(role: dict[str, Any]) -> dict[str, set[str]]:
    """The role's actions on the bucket, by resource (the resource as text)."""
    return {
        str(resource): set(as_list(s["Action"]))
        for s in statements(role)
        for resource in as_list(s["Resource"])
        if "PortfolioBucket" in referenced(resource)
    }


def test_api_handler_policy_reaches_only_the_table_the_queues_and_the_rejected_rows_files(
    resources: dict[str, Any],
) -> None:
    # given the API's role
    role = resources["ApiHandlerRole"]
    named = set().union(*(referenced(s["Resource"]) for s in statements(role)))
    on_bucket = bucket_actions(role)

    # then it names only the table, the two queues, its own log group (via Stage), and in the
    # bucket may only read the reports' rejected-rows files
    assert named == {"PortfolioTable", "ActivationQueue", "IngestQueue", "Stage", "PortfolioBucket"}
    # (activation mails on approval; a confirmed held delivery is resumed by the ingest)
    assert actions_on(role, "ActivationQueue") == {"sqs:SendMessage"}
    assert actions_on(role, "IngestQueue") == {"sqs:SendMessage"}
    assert on_bucket == {str({"Fn::Sub": "${PortfolioBucket.Arn}/reports/*.csv"}): {"s3:GetObject"}}
    assert "dynamodb:Scan" not in actions_on(role, "PortfolioTable")
    assert "dynamodb:BatchWriteItem" not in actions_on(role, "PortfolioTable")


def test_ingest_policy_reads_incoming_writes_reports_consumes_its_queue_and_only_sends_notices(
    resources: dict[str, Any],
) -> None:
    # given the ingest's role
    role = resources["IngestRole"]
    named = set().union(*(referenced(s["Resource"]) for s in statements(role)))
    by_resource = bucket_actions(role)

    # then it reads and removes only incoming/, writes only reports/, keeps a running
    # delivery's state in work/, uses only its queue and the table, and may only put delivery
    # notices on the mail queue, never read it
    assert named == {"PortfolioBucket", "PortfolioTable", "IngestQueue", "ActivationQueue", "Stage"}
    assert actions_on(role, "ActivationQueue") == {"sqs:SendMessage"}
    assert by_resource == {
        # (an upload's version is removed once its delivery is final or held)
        str({"Fn::Sub": "${PortfolioBucket.Arn}/incoming/*"}): {
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:DeleteObjectVersion",
        },
        str({"Fn::Sub": "${PortfolioBucket.Arn}/reports/*"}): {
            "s3:PutObject",
            "s3:AbortMultipartUpload",
        },
        # (a held delivery's file, appended to when an error follows the confirmation)
        str({"Fn::Sub": "${PortfolioBucket.Arn}/reports/*.csv"}): {"s3:GetObject"},
        str({"Fn::Sub": "${PortfolioBucket.Arn}/work/*"}): {"s3:GetObject", "s3:PutObject"},
    }
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= actions_on(
        role, "IngestQueue"
    )
    assert "dynamodb:Scan" not in actions_on(role, "PortfolioTable")


def test_send_activation_policy_sends_only_from_the_sender_identity(
    resources: dict[str, Any],
) -> None:
    # given the activation mailer's role
    role = resources["SendActivationRole"]
    named = set().union(*(referenced(s["Resource"]) for s in statements(role)))
    [ses] = [s for s in statements(role) if any(a.startswith("ses:") for a in as_list(s["Action"]))]

    # then it may send mail only as the sender, and touches only the table and its queue
    assert named == {"PortfolioTable", "ActivationQueue", "SenderAddress", "Stage"}
    assert set(ses["Action"]) == {"ses:SendEmail", "ses:SendRawEmail"}
    assert all("identity/" in str(r) for r in ses["Resource"])
    assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderAddress"}}}
    assert "sqs:SendMessage" not in actions_on(role, "ActivationQueue")


def test_functions_get_the_names_of_the_template_resources(resources: dict[str, Any]) -> None:
    # then the stage's literal names are replaced by the deployed resources
    for function in FUNCTIONS:
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": "PortfolioTable"}
        assert variables["BUCKET_NAME"] == {"Ref": "PortfolioBucket"}
        assert variables["INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}
        assert variables["ACTIVATION_QUEUE_URL"] == {"Ref": "ActivationQueue"}
        assert variables["STAGE"] == "prod"


def test_prod_verifies_cognito_tokens_and_has_no_development_key(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # given the prod API function and the package's parameters
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]

    # then the JWKS come from the stack's user pool and no HS256 secret is configured
    assert "JWT_SECRET" not in variables
    assert "UserPool" in referenced(variables["COGNITO_JWKS_URL"])
    assert template["Parameters"]["Stage"]["AllowedValues"] == ["prod"]
    groups = {
        r["Properties"]["GroupName"]
        for r in resources.values()
        if r["Type"] == "AWS::Cognito::UserPoolGroup"
    }
    assert groups == {"jsc", "portal", "partner", "admin"}


# Every response type API Gateway can answer with itself, before or instead of the function.
GATEWAY_RESPONSE_TYPES = {
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "RESOURCE_NOT_FOUND",
    "UNAUTHORIZED",
    "INVALID_API_KEY",
    "ACCESS_DENIED",
    "AUTHORIZER_FAILURE",
    "AUTHORIZER_CONFIGURATION_ERROR",
    "INVALID_SIGNATURE",
    "EXPIRED_TOKEN",
    "MISSING_AUTHENTICATION_TOKEN",
    "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT",
    "API_CONFIGURATION_ERROR",
    "UNSUPPORTED_MEDIA_TYPE",
    "BAD_REQUEST_PARAMETERS",
    "BAD_REQUEST_BODY",
    "REQUEST_TOO_LARGE",
    "THROTTLED",
    "QUOTA_EXCEEDED",
    "WAF_FILTERED",
}


def test_api_gateways_own_answers_have_our_error_shape_and_echo_nothing(
    resources: dict[str, Any],
) -> None:
    # given the gateway responses of the REST API
    responses = resources["RestAPI"]["Properties"]["GatewayResponses"]

    # then every type API Gateway can answer itself is configured
    assert set(responses) == GATEWAY_RESPONSE_TYPES
    for kind, response in responses.items():
        [(media_type, template)] = response["ResponseTemplates"].items()
        body = json.loads(template)
        # with our error shape
        assert media_type == "application/json", kind
        assert set(body) == {"error"}, kind
        assert set(body["error"]) == {"code", "message"}, kind
        # and fixed texts: no $context/$input variable can repeat a request header or value
        assert "$" not in template, kind
        assert "ResponseParameters" not in response, kind

    # and an unknown path (API Gateway's "missing authentication token") is a 404, not a 403
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    assert json.loads(missing["ResponseTemplates"]["application/json"])["error"]["code"] == (
        "not_found"
    )
    assert responses["THROTTLED"]["StatusCode"] == "429"


def test_every_deployed_stage_verifies_cognito_tokens(resources: dict[str, Any]) -> None:
    # then the user pool and the API's Cognito settings are unconditional (dev included)
    for name in ("UserPool", "UserPoolClient"):
        assert "Condition" not in resources[name]
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert "UserPool" in referenced(variables["JWT_ISSUER"])
    assert variables["JWT_AUDIENCE"] == {"Ref": "UserPoolClient"}


def test_deployment_zip_is_under_the_lambda_limit(packaged: tuple[dict[str, Any], Path]) -> None:
    # given the packaged deployment zip
    zip_path = packaged[1] / "deployment.zip"

    # then it is below 50 MB (check_zip raises otherwise)
    assert 0 < check_zip(zip_path) < 50 * 1024 * 1024


def test_the_console_signs_in_with_the_code_flow_only_and_back_to_its_own_address(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # given the app client, the hosted sign-in's domain and the API function's settings
    client = resources["UserPoolClient"]["Properties"]
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]

    # then the client is public (PKCE, no secret) and allows the authorisation code flow only,
    # with the console's address as its only callback, once that address is known
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == {
        "Fn::If": ["HasConsoleUrl", ["code"], {"Ref": "AWS::NoValue"}]
    }
    assert client["CallbackURLs"] == {
        "Fn::If": ["HasConsoleUrl", [{"Ref": "ConsoleUrl"}], {"Ref": "AWS::NoValue"}]
    }
    assert template["Parameters"]["ConsoleUrl"]["Default"] == ""
    assert template["Conditions"]["HasConsoleUrl"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ConsoleUrl"}, ""]}]
    }
    # and the console learns the hosted sign-in and its own address from the API function
    assert referenced(variables["COGNITO_DOMAIN"]) == {"UserPoolDomain"}
    assert variables["CONSOLE_URL"] == {
        "Fn::If": ["HasConsoleUrl", {"Ref": "ConsoleUrl"}, {"Ref": "AWS::NoValue"}]
    }
    assert resources["UserPoolDomain"]["Properties"]["UserPoolId"] == {"Ref": "UserPool"}


def test_the_deployed_api_serves_the_console_and_has_no_token_endpoint(
    packaged: tuple[dict[str, Any], Path], resources: dict[str, Any]
) -> None:
    # given the REST API's paths and the deployment zip
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    with zipfile.ZipFile(packaged[1] / "deployment.zip") as archive:
        names = set(archive.namelist())

    # then the console's page and files are served by the API, and shipped in the zip
    assert {"/console", "/console/{asset}"} <= set(paths)
    for name in ("index.html", "main.js", "style.css"):
        assert f"chalicelib/console/{name}" in names
    # and no path issues tokens: the development sign-in exists in the local run only
    assert not [path for path in paths if "token" in path]

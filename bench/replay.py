"""Ask `GET /v1/clients` every query of a file through the app of the source tree this process
runs in, and write the answers: the recognition benchmark's measuring child (bench/recognition.py).

    python -m bench.replay --queries queries.json --answers answers.jsonl

Self-contained on purpose (only the standard library, boto3, chalice and the app): the benchmark
copies this file into an exported older revision of the repository and runs it there, so the
previous lookup path answers the same queries, on the same register, in the same run. The
settings (the backend, the table) come from the environment.

Per query: the HTTP status, the wall time of the request, the app's DynamoDB requests by
operation (the audit's PutItem apart) and the candidates (client id, score, name as displayed,
address), or the error code and `next_try`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

WARM_UP = 5


def _candidate(candidate: dict[str, Any]) -> dict[str, Any]:
    address = candidate.get("address") or {}
    return {
        "client_id": candidate["client_id"],
        "score": candidate["match"]["score"],
        "fields": candidate["match"].get("fields"),
        "display": candidate["name"]["display"],
        "name": {
            k: candidate["name"].get(k)
            for k in ("surname", "tussenvoegsels", "first_name", "initials")
        },
        "birth_date": candidate.get("birth_date"),
        "address": " ".join(
            str(address.get(k) or "") for k in ("postcode", "house_number", "house_number_addition")
        ),
    }


def replay(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from chalice.test import Client

    from app import app
    from chalicelib.auth import issue_token
    from chalicelib.store import aws

    operations: list[str] = []
    # Every DynamoDB client of the store, as far as the tree has them: the resources' and the
    # bulk clients (batch reads), the workers' and the API requests' (bounded).
    every_client = getattr(aws, "every_client", None)
    if every_client is not None:
        clients = every_client("dynamodb")
    else:
        every_resource = getattr(aws, "every_resource", lambda service: [aws.resource(service)])
        clients = [dynamodb.meta.client for dynamodb in every_resource("dynamodb")]
    for client in clients:
        client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: operations.append(model.name)
        )
    headers = {"Authorization": f"Bearer {issue_token('jsc')}"}
    answers = []
    # An empty project directory: the test client would otherwise apply a stage of the tree's
    # .chalice/config.json over the benchmark's settings.
    with Client(app, project_dir=tempfile.mkdtemp()) as client:
        for query in queries[:WARM_UP]:  # the first requests build the app's clients
            client.http.get(f"/v1/clients?{urlencode(query['params'])}", headers=headers)
        for query in queries:
            operations.clear()
            start = time.perf_counter()
            response = client.http.get(f"/v1/clients?{urlencode(query['params'])}", headers=headers)
            ms = (time.perf_counter() - start) * 1000
            body = json.loads(response.body) if response.body else {}
            answers.append(
                {
                    "query_id": query["query_id"],
                    "status": response.status_code,
                    "ms": ms,
                    "calls": dict(Counter(op for op in operations if op != "PutItem")),
                    "candidates": [_candidate(c) for c in body.get("candidates", [])],
                    "said": (body.get("error") or {}).get("code") or body.get("next_try"),
                }
            )
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", required=True, help="JSON list of {query_id, params}")
    parser.add_argument("--answers", required=True, help="JSON Lines written here")
    args = parser.parse_args(argv)
    with open(args.queries, encoding="utf-8") as handle:
        queries = json.load(handle)
    with open(args.answers, "w", encoding="utf-8") as handle:
        for answer in replay(queries):
            handle.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One simulated Lambda worker of the month-start storm (bench/storm.py): the event source
mapping of the local run (`scripts.pump`) feeding the ingest queue's messages, one batch at a
time, to the real ingest handler of the code at `--root`. Run by path, so that `--root` can be
another version of the repository (the serial design, exported from git):

    python bench/storm_worker.py --root <repository> --queue-url <ingest queue url>

The environment carries the settings (bench.backend.bench_env). Each line on stdin asks for its
CPU time since it was ready (user + system, all threads) and its failed messages so far,
answered as one JSON line; when stdin closes it stops and prints its totals.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time

# Answers start with it: the app logs to stdout too.
MARK = "STORM "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--queue-url", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    # The answers keep stdout; everything the app and the pump log goes to stderr (the log file).
    answers, sys.stdout = sys.stdout, sys.stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    import boto3

    from app import app  # the code under test
    from scripts.pump import Consumer, Pump

    consumer = Consumer(
        function_name="ingest",
        queue_url=args.queue_url,
        handler=app.handler_map["ingest"],
        batch_size=1,
        timeout_seconds=900,
        memory_mb=1024,
    )
    # The event source mapping's own SQS client (Lambda's side, not the function's), built
    # before the clock starts; the function builds its clients itself, on first use, as on AWS.
    sqs = boto3.session.Session().client("sqs")  # region and endpoint from the environment
    pump = Pump([consumer], region="eu-west-1", wait_seconds=1, sqs=sqs)
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF)  # after the imports: the work only
    pump.start()
    print(MARK + json.dumps({"ready": True}), file=answers, flush=True)

    def cpu_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime

    for _ in sys.stdin:  # any line asks for the CPU so far; the end of stdin stops the worker
        failed = pump.stats["ingest"].failed
        answer = {"cpu_seconds": cpu_seconds(), "failed": failed}
        print(MARK + json.dumps(answer), file=answers, flush=True)
    pump.stop(timeout=60)
    stats = pump.stats["ingest"]
    print(
        MARK
        + json.dumps(
            {
                "cpu_seconds": cpu_seconds(),
                "wall_seconds": time.monotonic() - started,
                "messages": stats.received,
                "failed": stats.failed,
            }
        ),
        file=answers,
        flush=True,
    )


if __name__ == "__main__":
    main()

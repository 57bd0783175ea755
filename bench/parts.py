"""Where a measured run's time goes, in place: chosen functions timed where they are called,
and the wall clock of every AWS request by operation (docs/benchmarks.md, "Check-only
deliveries").

Each timed function is replaced for the run by a wrapper that adds its wall time and calls to
a total. The wrapper's own cost (two clock reads and a call, measured on an empty function in
the same process) is taken off each total, so a part is what the function cost, not what the
timing did. A part timed inside another (judging inside closing a policy) is also in the
outer part's total.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Result = dict[str, Any]


@dataclass
class _Total:
    nanoseconds: int = 0
    calls: int = 0


@dataclass
class Parts:
    """The timed functions' totals by name, and the requests' wall time by operation."""

    timed: dict[str, _Total] = field(default_factory=dict)
    requests: dict[str, _Total] = field(default_factory=dict)
    wrapper_ns: float = 0.0

    def result(self) -> Result:
        def seconds(total: _Total) -> float:
            return max(0.0, (total.nanoseconds - total.calls * self.wrapper_ns) / 1e9)

        return {
            "timed": {
                name: {"seconds": seconds(total), "calls": total.calls}
                for name, total in self.timed.items()
            },
            "requests": {
                operation: {"seconds": total.nanoseconds / 1e9, "calls": total.calls}
                for operation, total in self.requests.items()
            },
            "wrapper_ns": self.wrapper_ns,
        }


def _timed(function: Callable[..., Any], total: _Total) -> Callable[..., Any]:
    clock = time.perf_counter_ns

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return function(*args, **kwargs)
        finally:
            total.nanoseconds += clock() - started
            total.calls += 1

    return timed


def _wrapper_ns(samples: int = 200_000) -> float:
    """What one timed call costs beyond the function itself (the best of three rounds), called
    as `validate_row` is, the most frequent: positional and keyword arguments."""

    def nothing(*_: Any, **__: Any) -> None:
        return None

    best = float("inf")
    for _ in range(3):
        total = _Total()
        timed = _timed(nothing, total)
        started = time.perf_counter_ns()
        for _ in range(samples):
            timed(None, None, kind=None, line=None, today=None)
        wrapped = time.perf_counter_ns() - started
        started = time.perf_counter_ns()
        for _ in range(samples):
            nothing(None, None, kind=None, line=None, today=None)
        bare = time.perf_counter_ns() - started
        best = min(best, (wrapped - bare) / samples)
    return best


@contextmanager
def timing(functions: dict[str, tuple[Any, str]], *, requests: bool = True) -> Iterator[Parts]:
    """Time `functions` (name -> (owner, attribute): a module or class and the name it is
    called by there) and, with `requests`, every AWS request of the clients made from now on,
    until the block ends; the owners get their functions back afterwards."""
    parts = Parts(wrapper_ns=_wrapper_ns())
    originals = []
    for name, (owner, attribute) in functions.items():
        function = getattr(owner, attribute)
        originals.append((owner, attribute, function))
        parts.timed[name] = _Total()
        setattr(owner, attribute, _timed(function, parts.timed[name]))

    if requests:
        _time_requests(parts)
    try:
        yield parts
    finally:
        for owner, attribute, function in originals:
            setattr(owner, attribute, function)


def _time_requests(parts: Parts) -> None:
    import boto3

    def before(context: dict[str, Any], **_: Any) -> None:
        context["bench_started_ns"] = time.perf_counter_ns()

    def after(model: Any, context: dict[str, Any], **_: Any) -> None:
        total = parts.requests.setdefault(model.name, _Total())
        total.nanoseconds += time.perf_counter_ns() - context.pop("bench_started_ns")
        total.calls += 1

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    # The default session's hooks are copied into each client made from it afterwards.
    boto3.DEFAULT_SESSION.events.register("before-call", before)
    boto3.DEFAULT_SESSION.events.register("after-call", after)

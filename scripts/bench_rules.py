"""Micro-benchmark of row validation + normalisation (no file parsing).

    .venv/bin/python -m scripts.bench_rules [--rows 100000]

Generates rows with realistic variety (names with tussenvoegsels, diacritics, phones in
several notations, legal entities) and prints rows/s of `validate_row` on one core.
Target (issue 6): at least 100k rows/s.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

from chalicelib.rules.rows import map_header, validate_row

LABELS = [
    "PP_NUMMER",
    "PP_BRANCHE",
    "PP_PRODUCC",
    "PP_INGDAT",
    "PP_EXPDAT",
    "PP_VRWRKCD",
    "PP_DEKKING",
    "PP_EIGENRISICO",
    "PP_GEZIN",
    "ENTITEIT",
    "GESLACH",
    "ANAAM",
    "VOORV",
    "VOORL",
    "RNAAM",
    "GEBDAT",
    "STRAAT",
    "HUISNR",
    "TOEVOEG",
    "PCODE",
    "PLAATS",
    "LAND",
    "EMAIL",
    "TELNUM",
    "MOBIEL",
    "KVKNR",
]

SURNAMES = ["Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "Bos"]
SURNAMES += ["van Dijk", "Mulder", "de Boer", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker"]
SURNAMES += ["Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "Koç", "Özdemir"]


def generate(n: int, seed: float = 42, offset: int = 0) -> list[list[str]]:
    rnd = random.Random(seed)
    # A portfolio repeats surnames a lot but not exactly: vary them to keep caches honest.
    surnames = [f"{s}{'' if k == 0 else k}" for s in SURNAMES for k in range(200)]
    rows = []
    for i in range(offset, offset + n):
        legal = i % 20 == 0
        rows.append(
            [
                f"RB{i:08d}",
                rnd.choice(["090", "091", "092", "93", "990"]),
                "RBP1",
                f"20{rnd.randint(10, 24):02d}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}",
                rnd.choice(["", "", "99991231", "2030-01-01"]),
                rnd.choice(["", "0", "1"]),
                rnd.choice(["RP|VK", "RP|VK|WC", "RP|VK|WC|IN|FV", "VK"]),
                rnd.choice(["", "0", "250", "175,00"]),
                rnd.choice(["", "A", "H"]),
                "VP",
                "R" if legal else rnd.choice(["M", "V", "X", ""]),
                "Jansen Bouw B.V." if legal else rnd.choice(surnames),
                rnd.choice(["", "", "van"]),
                "J.P.",
                rnd.choice(["Jan", "Hélène", "Piet", ""]),
                ""
                if legal
                else f"19{rnd.randint(30, 99)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
                "Dorpsstraat",
                rnd.choice(["12", "12a", "7-2", "101 bis"]),
                rnd.choice(["", "", "hs"]),
                rnd.choice(["1234 AB", "2611ET", "9999zz"]),
                "Utrecht",
                rnd.choice(["", "NL", "NL", "nl"]),
                rnd.choice(["", f"klant{i}@Example.nl"]),
                rnd.choice(["", "020-1234567", "+31 20 123 45 67"]),
                rnd.choice(["", "06-12345678", "0031612345678"]),
                "12345678" if legal else "",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    header = map_header(LABELS, "full")
    today = date(2025, 6, 1)
    # Like the ingest, validate rows right after they were produced (a batch at a time), so
    # the figure is not dominated by fetching 100k cold rows from memory; generating is not
    # timed.
    elapsed = 0.0
    accepted = 0
    line = 1
    rng = random.Random(42)
    for done in range(0, args.rows, args.batch):
        rows = generate(min(args.batch, args.rows - done), seed=rng.random(), offset=done)
        start = time.process_time()
        for values in rows:
            line += 1
            if validate_row(values, header, kind="full", line=line, today=today).row:
                accepted += 1
        elapsed += time.process_time() - start
    # Reference: an empty loop of 10M iterations takes about 0.15 s CPU on a current laptop
    # core; divide by it to compare figures across machines.
    start = time.process_time()
    for _ in range(10_000_000):
        pass
    reference = time.process_time() - start
    print(
        f"{args.rows} rows in {elapsed:.3f}s CPU: {args.rows / elapsed:,.0f} rows/s "
        f"({accepted} accepted); reference empty 10M loop {reference:.3f}s CPU"
    )


if __name__ == "__main__":
    main()

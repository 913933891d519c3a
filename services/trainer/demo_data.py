"""A small, deterministic churn dataset for the demo and the tests, and a drifted variant of it.

`python -m services.trainer.demo_data out.csv [--drifted] [--rows N]` writes one (Parquet when the
name ends in .parquet). The same arguments always give the same bytes, so nothing large is committed:
the file is generated where it is needed.

Columns: tenure_months, monthly_charges (about 1% blank), support_calls, age (numeric), plan
(basic|standard|premium) and the target `churned` (yes|no), drawn from a logistic model of the
others. The drifted variant moves the feature distributions (pricier, more support calls, more
premium plans) and the concept (premium customers now churn more), as a drift monitor would see it.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import random
import sys
from collections.abc import Iterator
from pathlib import Path

TARGET = "churned"
COLUMNS = ("tenure_months", "monthly_charges", "support_calls", "age", "plan", TARGET)
PLANS = ("basic", "standard", "premium")


@dataclasses.dataclass(frozen=True)
class Population:
    charges_mean: float
    support_rate: float
    plan_weights: tuple[float, float, float]
    plan_effect: tuple[float, float, float]


BASELINE = Population(charges_mean=65, support_rate=1.5, plan_weights=(0.5, 0.3, 0.2), plan_effect=(0.5, 0, -0.8))
DRIFTED = Population(charges_mean=85, support_rate=2.5, plan_weights=(0.25, 0.3, 0.45), plan_effect=(0.3, 0, 0.6))


def rows(count: int = 3000, *, drifted: bool = False, seed: int = 7) -> Iterator[dict[str, object]]:
    """`count` customers; a blank monthly charge is None."""
    population = DRIFTED if drifted else BASELINE
    rng = random.Random(seed + (1000 if drifted else 0))
    for _ in range(count):
        tenure = rng.randint(1, 72)
        charges = round(min(120.0, max(18.0, rng.gauss(population.charges_mean, 20))), 2)
        support = _poisson(rng, population.support_rate)
        age = rng.randint(18, 80)
        plan = rng.choices(range(3), weights=population.plan_weights)[0]
        logit = -0.6 - 0.05 * tenure + 0.03 * (charges - 65) + 0.5 * support + population.plan_effect[plan]
        churned = rng.random() < 1 / (1 + math.exp(-logit))
        yield {
            "tenure_months": tenure,
            "monthly_charges": None if rng.random() < 0.01 else charges,
            "support_calls": support,
            "age": age,
            "plan": PLANS[plan],
            TARGET: "yes" if churned else "no",
        }


def write(path: Path, count: int = 3000, *, drifted: bool = False, seed: int = 7) -> Path:
    """Write the dataset to `path` (CSV, or Parquet for a .parquet name) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = list(rows(count, drifted=drifted, seed=seed))
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(data), path)
        return path
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in data)
    return path


def _poisson(rng: random.Random, rate: float) -> int:
    # Knuth's method: fine for the small rates used here.
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        sys.exit("usage: python -m services.trainer.demo_data OUT.csv|OUT.parquet [--drifted] [--rows=N]")
    count = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--rows=")), 3000)
    print(write(Path(args[0]), count, drifted="--drifted" in argv))


if __name__ == "__main__":
    main(sys.argv[1:])

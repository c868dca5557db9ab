#!/usr/bin/env python3
"""Write examples/cumsum.jsonl, the example file of the jsonl task (docs/SPEC.md §1).

The task: running sums mod 10. For an input x1..xn of digits 0..9 the target
is y1..yn with yi = (x1 + .. + xi) mod 10 (so task.target_slope 1,
task.target_offset 0, task.alphabet 10). Not one of posenc's built-in tasks:
each answer token depends on every input token before it.

Lines: input lengths 1..8 for training (every input of length 1, 48 distinct
ones of each longer length) and 16 and 32 for evaluation (32 distinct ones
each), drawn from a fixed seed, so the file is the same on every run of this
script: python3 examples/make_cumsum.py > examples/cumsum.jsonl
"""
import json
import random

rng = random.Random(20261207)
COUNTS = {n: (10 if n == 1 else 48) for n in range(1, 9)}
COUNTS.update({16: 32, 32: 32})

for n, count in COUNTS.items():
    seen = set()
    while len(seen) < count:
        x = tuple(rng.randrange(10) for _ in range(n))
        if x in seen:
            continue
        seen.add(x)
        y, s = [], 0
        for v in x:
            s = (s + v) % 10
            y.append(s)
        print(json.dumps({"input": list(x), "target": y}, separators=(", ", ": ")))

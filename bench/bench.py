"""`make bench`: how long the course's building blocks take on this machine."""

from __future__ import annotations

import time

import torch.nn.functional as F

from helpers.filters import filter_bank
from helpers.stimuli import gratings


def _best_of(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    angles = list(range(0, 180, 5))
    rows = [
        ("gratings(36 angles)", _best_of(lambda: gratings(angles))),
        ("filter_bank(6, 7)", _best_of(lambda: filter_bank(6, 7))),
        ("conv2d 36 x 6 x 48 x 64", _best_of(lambda: F.conv2d(gratings(angles), filter_bank(), padding=3))),
    ]
    print(f"{'what':<32}{'seconds':>10}")
    for name, seconds in rows:
        print(f"{name:<32}{seconds:>10.4f}")


if __name__ == "__main__":
    main()

"""The Evidently-style peer of bench/drift.ts: per feature, one SciPy call on the whole columns.

Reads each feature's reference sample and window values from raw little-endian float64 files
(<dir>/reference/<feature>.f64, <dir>/window/<feature>.f64), then scores every feature as Evidently
does for a numeric column with more than 1000 reference rows: wasserstein_distance(reference,
current) / max(numpy.std(reference), 0.001), drifted when >= 0.1. Load and computation are timed
separately; prints one JSON object.
"""
import json
import sys
import time

import numpy as np
from scipy.stats import wasserstein_distance

THRESHOLD = 0.1
MIN_STD = 0.001


def load(directory, features):
    def read(part, feature):
        return np.fromfile(f"{directory}/{part}/{feature}.f64", dtype="<f8")

    return {f: (read("reference", f), read("window", f)) for f in features}


def score(reference, current):
    return wasserstein_distance(reference, current) / max(np.std(reference), MIN_STD)


def main():
    directory, features = sys.argv[1], sys.argv[2].split(",")
    started = time.perf_counter()
    columns = load(directory, features)
    loaded = time.perf_counter()
    scores = {f: float(score(ref, cur)) for f, (ref, cur) in columns.items()}
    computed = time.perf_counter()
    print(
        json.dumps(
            {
                "load_s": loaded - started,
                "compute_s": computed - loaded,
                "scores": scores,
                "drifted": {f: s >= THRESHOLD for f, s in scores.items()},
            }
        )
    )


if __name__ == "__main__":
    main()

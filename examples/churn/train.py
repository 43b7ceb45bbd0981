"""Trains the churn example's XGBoost model on a point-in-time training set.

    /usr/bin/python3 examples/churn/train.py --training-set set.csv --out-dir DIR [--seed 42]

The training set is the CSV answer of `POST /v1/features/historical` for feature service
`churn_model` (what `meridian demo` writes): `user_id`, `event_timestamp` and one column per
`view:feature`, empty where the user had no value at that time. The model takes the service's
numeric features, in the order of INPUTS (push it with these as `inputs`); `country` is a string
and is left out. Missing values stay NaN, which XGBoost routes as missing: serve the model with
the missing policy `{"default": "nan"}` so online misses mean the same thing.

The demo's traffic has no churn outcome, so the label is synthetic (see `synthetic_churn_label`):
a documented function of the same point-in-time features plus seeded noise. Replace it with your
real labels (e.g. "no purchase in the 30 days after event_timestamp") for a real model.

The holdout is time-based: the latest HOLDOUT_SHARE of rows by event_timestamp, as a model trained
today is judged on tomorrow. Writes DIR/model.json (`Booster.save_model`), DIR/metrics.json, and
DIR/reference.csv (every row's INPUTS as the model reads them, empty where missing, with the
model's churn probability in `churn_probability`: the baseline to upload for drift monitoring), and
prints the metrics as one JSON line on stdout. Needs Debian's python3-xgboost (1.7): no pip.
"""

import argparse
import csv
import json
import sys
import time

try:
    import numpy as np
    import xgboost as xgb
except ImportError as err:
    sys.exit(f"train.py: {err}; install it with: apt-get install -y python3-xgboost")

INPUTS = ["user_activity:amount", "user_spend:clipped_amount", "user_spend:is_large_purchase"]
HOLDOUT_SHARE = 0.25
PARAMS = {
    "objective": "binary:logistic",
    "max_depth": 4,
    "eta": 0.2,
    "nthread": 1,
    "tree_method": "hist",
}
ROUNDS = 50
BOOLEANS = {"true": 1.0, "false": 0.0}


def numeric(cell: str) -> float:
    """A CSV cell as a float: true/false as 1/0, an empty cell (no value at that time) as NaN."""
    text = cell.strip().lower()
    if text == "":
        return float("nan")
    return BOOLEANS[text] if text in BOOLEANS else float(text)


def synthetic_churn_label(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Churned (1) or not (0), drawn from a logistic model of the user's point-in-time features.

    The log-odds start at -2 and rise by 3 for a user with no activity yet (every feature
    missing), by 4 when the last action was a refund (amount < 0) and by 2 when it was a view
    (amount 0); they fall by clipped_amount / 50 and by 2 more for a large purchase. So a user
    whose last action was a view churns half the time, a refunder 88%, a $35 buyer 6%. The label
    is a Bernoulli draw with that probability from a generator seeded with --seed: the same
    training set and seed give the same labels. Most rows are views, which all look alike, so the
    best possible holdout AUC is about 0.7-0.75, not 1.
    """
    amount, clipped, large = x[:, 0], x[:, 1], x[:, 2]
    missing = np.isnan(amount)
    logit = np.full(len(x), -2.0)
    logit += np.where(missing, 3.0, 0.0)
    logit += np.where(amount < 0, 4.0, 0.0)
    logit += np.where(amount == 0, 2.0, 0.0)
    logit -= np.nan_to_num(clipped) / 50.0
    logit -= np.where(large == 1, 2.0, 0.0)
    probability = 1.0 / (1.0 + np.exp(-logit))
    return (rng.random(len(x)) < probability).astype("float64")


def auc(labels: np.ndarray, scores: np.ndarray):
    """Area under the ROC curve (Mann-Whitney, ties counted half); None without both classes."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    start = 0
    for end in range(1, len(scores) + 1):
        if end == len(scores) or sorted_scores[end] != sorted_scores[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def logloss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean binary cross-entropy."""
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def write_reference(path: str, x: np.ndarray, churn: np.ndarray) -> None:
    """The inputs as the model sees them (booleans as 0/1, NaN as an empty cell) and its output per row."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(INPUTS + ["churn_probability"])
        for row, p in zip(x, churn):
            writer.writerow(["" if np.isnan(v) else repr(float(v)) for v in row] + [repr(float(p))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--training-set", required=True, help="CSV from POST /v1/features/historical")
    parser.add_argument("--out-dir", required=True, help="where model.json and metrics.json go")
    parser.add_argument("--seed", type=int, default=42, help="seeds the synthetic label and XGBoost")
    args = parser.parse_args()
    started = time.monotonic()

    with open(args.training_set, newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    absent = [c for c in INPUTS + ["event_timestamp"] if rows and c not in rows[0]]
    if absent:
        sys.exit(f"train.py: {args.training_set} has no column {', '.join(absent)}; "
                 "build it for feature service churn_model")
    if len(rows) < 20:
        sys.exit(f"train.py: {args.training_set} has {len(rows)} rows; send at least 20 entity rows")
    x = np.array([[numeric(row[c]) for c in INPUTS] for row in rows], dtype="float64")
    y = synthetic_churn_label(x, np.random.default_rng(args.seed))

    # The timestamps are UTC ("...Z"); numpy parses them without the zone designator. The stable
    # sort keeps rows of the same instant in file order, so the split is deterministic.
    times = np.array([row["event_timestamp"].rstrip("Z") for row in rows], dtype="datetime64[ms]")
    order = np.argsort(times, kind="mergesort")
    cut = int(len(order) * (1 - HOLDOUT_SHARE))
    train, holdout = order[:cut], order[cut:]

    dtrain = xgb.DMatrix(x[train], label=y[train], missing=np.nan, feature_names=INPUTS)
    dholdout = xgb.DMatrix(x[holdout], label=y[holdout], missing=np.nan, feature_names=INPUTS)
    booster = xgb.train({**PARAMS, "seed": args.seed}, dtrain, num_boost_round=ROUNDS)
    booster.save_model(f"{args.out_dir}/model.json")

    dall = xgb.DMatrix(x, missing=np.nan, feature_names=INPUTS)
    write_reference(f"{args.out_dir}/reference.csv", x, booster.predict(dall))
    p = booster.predict(dholdout)
    metrics = {
        "rows": len(rows),
        "trainRows": int(len(train)),
        "holdoutRows": int(len(holdout)),
        "holdoutFrom": f"{times[holdout[0]]}Z",
        "positiveRate": round(float(y.mean()), 4),
        "holdoutAuc": None if (a := auc(y[holdout], p)) is None else round(a, 4),
        "holdoutLogloss": round(logloss(y[holdout], p), 4),
        "baselineLogloss": round(logloss(y[holdout], np.full(len(holdout), y[train].mean())), 4),
        "rowsWithFeatures": int((~np.isnan(x).all(axis=1)).sum()),
        "inputs": INPUTS,
        "trees": ROUNDS,
        "maxDepth": PARAMS["max_depth"],
        "seed": args.seed,
        "xgboost": xgb.__version__,
        "trainSeconds": round(time.monotonic() - started, 3),
    }
    with open(f"{args.out_dir}/metrics.json", "w", encoding="utf-8") as out:
        json.dump(metrics, out, indent=2)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()

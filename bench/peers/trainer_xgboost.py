#!/usr/bin/python3
"""Training time of xgboost 1.7 (`xgb.train`, tree_method=hist) and scikit-learn 1.2's
LogisticRegression on the trainer fixture's training rows, for bench/train.ts. Times only the fit
calls (the DMatrix / standardised matrix is built once before), median of `repeats` after a warm-up,
in wall-clock and in CPU time (which a loaded machine distorts less).
Usage: /usr/bin/python3 bench/peers/trainer_xgboost.py <data.csv> <cutoff> <repeats> <gbt params json>
Prints JSON: {"gbt": {"binary:logistic": {"1": t, "2": t}, ...}, "logistic": {"lbfgs": t, ...}},
where t = {"wall": ms, "cpu": ms}.
"""
import json
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.linear_model import LogisticRegression


def median_ms(fit, repeats):
    """Median wall and CPU (all threads) milliseconds of `fit`."""
    fit()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fit()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"wall": float(np.median(wall)), "cpu": float(np.median(cpu))}


def main():
    path, cutoff, repeats, gbt = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
    data = np.genfromtxt(path, delimiter=",", skip_header=1)
    train = data[data[:, 0] < cutoff]
    x, y_class, y_reg = train[:, 1:-2], train[:, -2], train[:, -1]
    out = {"gbt": {}, "logistic": {}}
    for objective, y in (("binary:logistic", y_class), ("reg:squarederror", y_reg)):
        dtrain = xgb.DMatrix(x, y)
        out["gbt"][objective] = {}
        for threads in (1, 2):
            params = {"tree_method": "hist", "objective": objective, "max_depth": gbt["max_depth"],
                      "eta": gbt["eta"], "min_child_weight": gbt["min_child_weight"], "lambda": gbt["lambda"],
                      "max_bin": gbt["max_bin"], "base_score": float(np.mean(y)), "nthread": threads}
            out["gbt"][objective][str(threads)] = median_ms(lambda: xgb.train(params, dtrain, gbt["rounds"]), repeats)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    for solver in ("lbfgs", "newton-cholesky"):
        model = LogisticRegression(C=1.0, solver=solver, max_iter=1000)
        out["logistic"][solver] = median_ms(lambda: model.fit(z, y_class), repeats)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

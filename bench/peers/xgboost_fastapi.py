"""The peer of `bench/serving.ts`: the XGBoost server a team would otherwise write.

FastAPI + uvicorn + xgboost's `inplace_predict` (Debian's python3-fastapi, python3-uvicorn,
python3-xgboost) serving one model file with the same Open Inference Protocol v2 request and
answer as Meridian for a binary classifier: `input` [-1, F] in, `probabilities` [-1, 2] and
`label` [-1] out.

Usage: xgboost_fastapi.py MODEL_JSON PORT [WORKERS]
"""

import os
import sys

import numpy as np
import uvicorn
import xgboost
from fastapi import FastAPI, Request

MODEL_PATH = os.environ.get("PEER_MODEL", "")
app = FastAPI()
booster = None


@app.on_event("startup")
def load():
    global booster
    booster = xgboost.Booster()
    booster.load_model(MODEL_PATH)
    booster.set_param({"nthread": 1})
    booster.inplace_predict(np.zeros((1, booster.num_features()), dtype=np.float32))


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    body = await request.json()
    tensor = body["inputs"][0]
    values = np.array([np.nan if v is None else v for v in tensor["data"]], dtype=np.float32)
    rows = values.reshape(tensor["shape"])
    p1 = booster.inplace_predict(rows)
    probabilities = np.stack([1.0 - p1, p1], axis=1)
    return {
        "model_name": name,
        "outputs": [
            {"name": "probabilities", "datatype": "FP32", "shape": list(probabilities.shape),
             "data": probabilities.ravel().tolist()},
            {"name": "label", "datatype": "INT64", "shape": [len(p1)],
             "data": (p1 >= 0.5).astype(np.int64).tolist()},
        ],
    }


if __name__ == "__main__":
    os.environ["PEER_MODEL"] = os.path.abspath(sys.argv[1])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    module = os.path.splitext(os.path.basename(__file__))[0]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run(f"{module}:app", host="127.0.0.1", port=int(sys.argv[2]), workers=workers,
                log_level="warning", access_log=False)

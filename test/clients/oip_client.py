"""An Open Inference Protocol v2 client that Meridian's code did not write.

Drives a server over REST (python3-requests: JSON and Triton's binary tensor data extension) and
gRPC (python3-grpcio, with stubs generated now by python3-grpc-tools from the repo's .proto), and
compares each fixture model's answers with the library's own predictions. Prints one JSON report
{"checks": [{"check", "ok", "detail"}]} on stdout; the vitest wrapper asserts it.

Usage: oip_client.py --rest URL --grpc HOST:PORT --proto-root DIR --fixtures FILE.json
"""

import argparse
import importlib
import json
import math
import os
import sys
import tempfile

import grpc
import numpy as np
import requests
from grpc_tools import protoc

PROTO = "inference/grpc_predict_v2.proto"
CHECKS = []


def check(name, ok, detail=""):
    CHECKS.append({"check": name, "ok": bool(ok), "detail": str(detail)[:500]})


def guarded(name, fn):
    """Runs one check; an exception is a failed check, never a crashed client."""
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - the report names whatever went wrong
        check(name, False, f"{type(err).__name__}: {err}")


def generate_stubs(proto_root, out_dir):
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    code = protoc.main(["protoc", f"-I{proto_root}", f"-I{include}", f"--python_out={out_dir}",
                        f"--grpc_python_out={out_dir}", os.path.join(proto_root, PROTO)])
    if code != 0:
        raise RuntimeError(f"protoc failed with {code}")
    sys.path.insert(0, out_dir)
    pb2 = importlib.import_module("inference.grpc_predict_v2_pb2")
    pb2_grpc = importlib.import_module("inference.grpc_predict_v2_pb2_grpc")
    return pb2, pb2_grpc


def read_csv(path):
    """Rows of floats; a header row is skipped, `nan` and empty cells are NaN."""
    rows = []
    with open(path) as f:
        for line in f.read().strip().split("\n"):
            cells = [c.strip() for c in line.split(",")]
            try:
                rows.append([float("nan") if c in ("", "nan") else float(c) for c in cells])
            except ValueError:
                if rows:
                    raise
    return np.array(rows, dtype=np.float64)


def compare(fixture, values, rows):
    """Mismatches between an answer (flat, row-major) and the fixture's predictions."""
    expected = read_csv(fixture["predictions_csv"])
    actual = np.asarray(values, dtype=np.float64).reshape(rows, -1)
    if actual.shape[1] == 2 and expected.shape[1] == 1:
        actual = actual[:, 1:]  # binary fixtures record only P(class 1)
    if actual.shape != expected.shape:
        return f"shape {actual.shape} vs expected {expected.shape}"
    tolerance = fixture["rtol"] * np.maximum(np.abs(actual), np.abs(expected)) + fixture["atol"]
    bad = np.argwhere(np.abs(actual - expected) > tolerance)
    if len(bad) == 0:
        return ""
    r, c = bad[0]
    return f"{len(bad)} values differ, first row {r} col {c}: {actual[r, c]!r} vs {expected[r, c]!r}"


def score_output(outputs):
    return next(o for o in outputs if o["name"] in ("probabilities", "predictions"))


def rest_checks(base, fixtures):
    def live():
        r = requests.get(f"{base}/v2/health/live", timeout=10)
        check("rest live", r.status_code == 200 and r.json() == {"live": True}, r.text)

    def ready():
        r = requests.get(f"{base}/v2/health/ready", timeout=10)
        check("rest ready", r.status_code == 200 and r.json() == {"ready": True}, r.text)

    def server_metadata():
        body = requests.get(f"{base}/v2", timeout=10).json()
        check("rest server metadata", body["name"] == "meridian" and "binary_tensor_data" in body["extensions"], body)

    def error_format():
        r = requests.post(f"{base}/v2/models/no-such-model/infer", data=b'{"inputs": [', timeout=10,
                          headers={"Content-Type": "application/json"})
        body = r.json()
        check("rest error format", r.status_code == 404 and list(body) == ["error"], f"{r.status_code} {body}")

    guarded("rest error format", error_format)
    guarded("rest live", live)
    guarded("rest ready", ready)
    guarded("rest server metadata", server_metadata)
    for fixture in fixtures:
        name = fixture["name"]
        guarded(f"rest metadata {name}", lambda f=fixture: rest_metadata(base, f))
        guarded(f"rest json {name}", lambda f=fixture: rest_json(base, f))
        guarded(f"rest binary {name}", lambda f=fixture: rest_binary(base, f))


def rest_metadata(base, fixture):
    name = fixture["name"]
    ready = requests.get(f"{base}/v2/models/{name}/ready", timeout=10)
    body = requests.get(f"{base}/v2/models/{name}", timeout=10).json()
    inputs = read_csv(fixture["inputs_csv"])
    ok = ready.status_code == 200 and body["name"] == name and body["inputs"][0]["name"] == "input" \
        and body["inputs"][0]["shape"] == [-1, inputs.shape[1]]
    check(f"rest metadata {name}", ok, body)


def rest_json(base, fixture):
    name = fixture["name"]
    inputs = read_csv(fixture["inputs_csv"])
    data = [[None if math.isnan(v) else v for v in row] for row in inputs.tolist()]
    request = {"id": "py-json", "inputs": [{"name": "input", "datatype": "FP64", "shape": list(inputs.shape),
                                            "data": data}]}
    r = requests.post(f"{base}/v2/models/{name}/infer", json=request, timeout=30)
    if r.status_code != 200:
        check(f"rest json {name}", False, f"{r.status_code} {r.text}")
        return
    body = r.json()
    problem = compare(fixture, score_output(body["outputs"])["data"], inputs.shape[0])
    check(f"rest json {name}", body["id"] == "py-json" and not problem, problem)


def rest_binary(base, fixture):
    name = fixture["name"]
    inputs = read_csv(fixture["inputs_csv"])
    raw = inputs.astype("<f8").tobytes()
    header = json.dumps({
        "inputs": [{"name": "input", "datatype": "FP64", "shape": list(inputs.shape),
                    "parameters": {"binary_data_size": len(raw)}}],
        "parameters": {"binary_data_output": True},
    }).encode()
    r = requests.post(f"{base}/v2/models/{name}/infer", data=header + raw, timeout=30,
                      headers={"Inference-Header-Content-Length": str(len(header)),
                               "Content-Type": "application/octet-stream"})
    if r.status_code != 200:
        check(f"rest binary {name}", False, f"{r.status_code} {r.text}")
        return
    length = int(r.headers["Inference-Header-Content-Length"])
    body = json.loads(r.content[:length])
    offset = length
    values = None
    for output in body["outputs"]:
        size = output["parameters"]["binary_data_size"]
        chunk = r.content[offset:offset + size]
        offset += size
        if output["name"] in ("probabilities", "predictions"):
            dtype = "<f8" if output["datatype"] == "FP64" else "<f4"
            values = np.frombuffer(chunk, dtype=dtype)
    problem = "no score output" if values is None else compare(fixture, values, inputs.shape[0])
    check(f"rest binary {name}", offset == len(r.content) and not problem, problem)


def grpc_checks(address, fixtures, pb2, pb2_grpc):
    channel = grpc.insecure_channel(address)
    stub = pb2_grpc.GRPCInferenceServiceStub(channel)

    def health():
        live = stub.ServerLive(pb2.ServerLiveRequest(), timeout=10).live
        ready = stub.ServerReady(pb2.ServerReadyRequest(), timeout=10).ready
        meta = stub.ServerMetadata(pb2.ServerMetadataRequest(), timeout=10)
        check("grpc live", live, live)
        check("grpc ready", ready, ready)
        check("grpc server metadata", "binary_tensor_data" in meta.extensions, meta)

    guarded("grpc health", health)
    for fixture in fixtures:
        guarded(f"grpc infer {fixture['name']}", lambda f=fixture: grpc_infer(stub, pb2, f))
    if fixtures:
        guarded("grpc typed contents", lambda: grpc_typed(stub, pb2, fixtures[0]))
    guarded("grpc unknown model", lambda: grpc_unknown(stub, pb2))
    channel.close()


def grpc_infer(stub, pb2, fixture):
    name = fixture["name"]
    ready = stub.ModelReady(pb2.ModelReadyRequest(name=name), timeout=10).ready
    meta = stub.ModelMetadata(pb2.ModelMetadataRequest(name=name), timeout=10)
    inputs = read_csv(fixture["inputs_csv"])
    request = pb2.ModelInferRequest(model_name=name, id="py-grpc")
    tensor = request.inputs.add()
    tensor.name, tensor.datatype = "input", "FP64"
    tensor.shape.extend(inputs.shape)
    request.raw_input_contents.append(inputs.astype("<f8").tobytes())
    response = stub.ModelInfer(request, timeout=30)
    values = None
    for output, raw in zip(response.outputs, response.raw_output_contents):
        if output.name in ("probabilities", "predictions"):
            values = np.frombuffer(raw, dtype="<f8" if output.datatype == "FP64" else "<f4")
    problem = "no score output" if values is None else compare(fixture, values, inputs.shape[0])
    ok = ready and meta.inputs[0].name == "input" and response.id == "py-grpc" and not problem
    check(f"grpc infer {name}", ok, problem)


def grpc_typed(stub, pb2, fixture):
    """ModelInfer with the inputs in InferTensorContents.fp64_contents instead of raw bytes."""
    inputs = read_csv(fixture["inputs_csv"])
    tensor = pb2.ModelInferRequest.InferInputTensor(name="input", datatype="FP64", shape=list(inputs.shape))
    tensor.contents.fp64_contents.extend(inputs.flatten().tolist())
    response = stub.ModelInfer(pb2.ModelInferRequest(model_name=fixture["name"], inputs=[tensor]), timeout=30)
    values = None
    for output, raw in zip(response.outputs, response.raw_output_contents):
        if output.name in ("probabilities", "predictions"):
            values = np.frombuffer(raw, dtype="<f8" if output.datatype == "FP64" else "<f4")
    problem = "no score output" if values is None else compare(fixture, values, inputs.shape[0])
    check("grpc typed contents", not problem, problem)


def grpc_unknown(stub, pb2):
    try:
        stub.ModelMetadata(pb2.ModelMetadataRequest(name="no-such-model"), timeout=10)
        check("grpc unknown model", False, "answered")
    except grpc.RpcError as err:
        check("grpc unknown model", err.code() == grpc.StatusCode.NOT_FOUND, f"{err.code()} {err.details()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rest", required=True)
    parser.add_argument("--grpc", required=True)
    parser.add_argument("--proto-root", required=True)
    parser.add_argument("--fixtures", required=True)
    args = parser.parse_args()
    with open(args.fixtures) as f:
        fixtures = json.load(f)
    with tempfile.TemporaryDirectory() as stubs:
        pb2, pb2_grpc = generate_stubs(args.proto_root, stubs)
        rest_checks(args.rest.rstrip("/"), fixtures)
        grpc_checks(args.grpc, fixtures, pb2, pb2_grpc)
    print(json.dumps({"checks": CHECKS}))


if __name__ == "__main__":
    main()

"""ONNX Runtime's static quantizer on the hard OCR set, for docs/accuracy.md.

Quantizes the PaddleOCR recognizer and direction classifier W8A8 (QDQ, per-channel int8 weights,
uint8 activations, converted to opset 13 and after ORT's quant_pre_process) with MinMax or Percentile calibration on the
calibration inputs that bench/ort-quantizer/export-inputs.ts wrote, then scores the held-out test
inputs: recognizer CER (greedy CTC), classifier accuracy. Prints one JSON line per model and method.

  /tmp/ortvenv/bin/python bench/ort-quantizer/ort_quantize.py <npy-dir> <rec.onnx> <cls.onnx> <keys.txt> \
      [methods] [cls-calibration cls-eval rec-calibration rec-eval]

Environment: ORT_MODELS=recognizer (or classifier) runs one model only; ORT_CALIB_CHUNK=n collects the histogram methods' intermediate outputs n samples at a
time (ONNX Runtime's CalibMaxIntermediateOutputs), so that memory stays bounded.
"""
import json
import os
import resource
import sys
import tempfile

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process


class Reader(CalibrationDataReader):
    def __init__(self, name, data):
        self.items = iter([{name: data[i : i + 1]} for i in range(len(data))])

    def get_next(self):
        return next(self.items, None)


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j - 1] + (x != y), prev[j] + 1, cur[j - 1] + 1))
        prev = cur
    return prev[-1]


def score(model, kind, data, labels, keys):
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    if kind == "classifier":
        right = 0
        for i, label in enumerate(labels):
            p = sess.run(None, {name: data[i : i + 1]})[0][0]
            right += (180 if p[1] > p[0] else 0) == label["angle"]
        return right / len(labels)
    edits = chars = 0
    for i, label in enumerate(labels):
        out = sess.run(None, {name: data[i : i + 1]})[0][0]
        ids = out.argmax(-1)
        text, last = [], 0
        for k in ids:
            if k != last and k != 0:
                text.append(keys[k - 1] if k - 1 < len(keys) else " ")
            last = k
        ref = label["text"]
        edits += edit_distance("".join(text), ref)
        chars += len(ref)
    return edits / chars


def main():
    npy, rec, cls, keys_file = sys.argv[1:5]
    with open(keys_file, encoding="utf8") as f:
        keys = [line.rstrip("\n") for line in f] + [" "]
    test_labels = json.load(open(os.path.join(npy, "test-labels.json"), encoding="utf8"))
    methods = sys.argv[5].split(",") if len(sys.argv) > 5 else ["MinMax", "Percentile"]
    counts = [int(c) for c in sys.argv[6:10]] if len(sys.argv) > 9 else [200, 300, 200, 300]
    kinds = os.environ.get("ORT_MODELS", "classifier,recognizer").split(",")
    for kind, model, (nc, ne) in (("classifier", cls, counts[0:2]), ("recognizer", rec, counts[2:4])):
        if kind not in kinds:
            continue
        calib = np.load(os.path.join(npy, f"calibration-{kind}.npy"))[:nc]
        test = np.load(os.path.join(npy, f"test-{kind}.npy"))[:ne]
        labels = test_labels[:ne]
        with tempfile.TemporaryDirectory() as tmp:
            # Per-channel DequantizeLinear needs opset 13; the PaddleOCR models are opset 9.
            converted = os.path.join(tmp, "opset13.onnx")
            onnx.save(onnx.version_converter.convert_version(onnx.load(model), 13), converted)
            pre = os.path.join(tmp, "pre.onnx")
            quant_pre_process(converted, pre)
            name = ort.InferenceSession(pre, providers=["CPUExecutionProvider"]).get_inputs()[0].name
            print(json.dumps({"model": kind, "method": "float", "metric": score(model, kind, test, labels, keys)}), flush=True)
            for method in methods:
                out = os.path.join(tmp, f"{method}.onnx")
                options = {"CalibPercentile": 99.999} if method == "Percentile" else {}
                # Histogram methods keep every intermediate output of every sample unless collected
                # in chunks (the recognizer: about 200 MB a sample); ORT_CALIB_CHUNK sets the chunk.
                if os.environ.get("ORT_CALIB_CHUNK"):
                    options["CalibMaxIntermediateOutputs"] = int(os.environ["ORT_CALIB_CHUNK"])
                quantize_static(
                    pre,
                    out,
                    Reader(name, calib),
                    quant_format=QuantFormat.QDQ,
                    per_channel=True,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, method),
                    extra_options=options,
                )
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                metric = score(out, kind, test, labels, keys)
                print(json.dumps({"model": kind, "method": method, "metric": metric, "maxRssMiB": rss}), flush=True)


main()

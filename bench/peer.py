"""The peer for bench/run.ts: ONNX Runtime's Python static quantizer over the same samples.

    python bench/peer.py <model.onnx> <MinMax|Percentile|Entropy> <channels> <height> <width> <samples>

Quantizes W8A8 (QDQ, int8 weights, uint8 activations) with quantize_static and prints
{"maxRssMiB": ...} as its last line. The inputs are bench/workloads.ts's pseudo-images.
"""

import json
import resource
import sys
import tempfile

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static


def image(c, h, w, i):
    k = np.arange(c * h * w, dtype=np.float64)
    ch = (k // (h * w)).astype(np.float64)
    y = ((k // w) % h).astype(np.float64)
    x = (k % w).astype(np.float64)
    fx = 0.013 + (i % 7) * 0.004
    fy = 0.021 + (i % 5) * 0.003
    v = np.sin(x * fx + ch + i) * np.cos(y * fy - i * 0.3) * 0.9 + np.sin(k * 12.9898 + i) * 0.1
    return v.astype(np.float32).reshape(1, c, h, w)


class Reader(CalibrationDataReader):
    def __init__(self, name, c, h, w, n):
        self.name, self.shape, self.n, self.i = name, (c, h, w), n, 0

    def get_next(self):
        if self.i >= self.n:
            return None
        self.i += 1
        return {self.name: image(*self.shape, self.i - 1)}


def main():
    model, method, c, h, w, n = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
    import onnx

    name = onnx.load(model, load_external_data=False).graph.input[0].name
    with tempfile.TemporaryDirectory() as tmp:
        quantize_static(
            model,
            f"{tmp}/quantized.onnx",
            Reader(name, c, h, w, n),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=getattr(CalibrationMethod, method),
        )
    # ru_maxrss is in KiB on Linux.
    print(json.dumps({"maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()

// Encodings file formats (AIMET, ONNX Runtime overrides): filled in by the export work.
export {};

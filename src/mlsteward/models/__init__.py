"""Model formats (skops, ONNX, trusted pickle), signatures, and the loading policy."""

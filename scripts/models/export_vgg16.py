"""Exports torchvision VGG16 with random weights (seed 0) at 224² for the benchmarks (`clrp bench`, docs/perf-notes.md).

    python3 scripts/models/export_vgg16.py OUT_DIR

Writes OUT_DIR/vgg16.onnx (553 MB, opset 13, input "input" [N,3,224,224], output "logits" [N,1000]) and
OUT_DIR/x224.npy (one standard-normal image). Not committed: it is a benchmark subject, not a test model. Needs Debian's
python3-torch and python3-torchvision (the TorchScript exporter of torch 1.13).
"""
import sys

import numpy as np
import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(0)
model = torchvision.models.vgg16(weights=None).eval()
x = torch.randn(1, 3, 224, 224, dtype=torch.float32)
np.save(f"{out}/x224.npy", x.numpy().astype(np.float32))
with torch.no_grad():
    torch.onnx.export(model, (x,), f"{out}/vgg16.onnx", opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
print(f"wrote {out}/vgg16.onnx and {out}/x224.npy")

#!/usr/bin/python3
"""Export ClrpMl's own 1-D and 3-D CNNs as GRAPH-ONLY ONNX files (issue 11), in the style of export_torchvision_graphs.py.

Two small networks written here (no pretrained weights; nothing is downloaded):
  ecg1d   an ECG-like 1-D CNN over [N, 2, 256] (two leads, 256 samples): Conv1d-BN-ReLU-MaxPool1d blocks (one strided,
          one grouped), a residual 1-D block (dilated Conv1d), AvgPool1d, AdaptiveAvgPool1d(1), Linear -> 5 classes.
  cnn3d   a volume/video 3-D CNN over [N, 1, 8, 32, 32]: Conv3d-BN-ReLU-MaxPool3d, a strided Conv3d, AvgPool3d,
          ConvTranspose3d (a decoder step), Conv3d-BN-ReLU, AdaptiveAvgPool3d(1), Linear -> 3 classes.
Each is exported at two opsets between 11 and 18, with BatchNormalization kept (-bn, TrainingMode.PRESERVE) and
folded by the exporter (-folded, TrainingMode.EVAL + constant folding):
  models/graphs/ecg1d-opset11-bn.onnx, ecg1d-opset11-folded.onnx, ecg1d-opset17-bn.onnx, ecg1d-opset17-folded.onnx,
  models/graphs/cnn3d-opset13-bn.onnx, cnn3d-opset13-folded.onnx, cnn3d-opset16-bn.onnx, cnn3d-opset16-folded.onnx
Weights are stripped and listed in clrp.fill exactly as export_torchvision_graphs.py does (the same helpers), so the
test filler (Tests/Clrp.Onnx.Tests/RealModels/GraphFiller.cs) fills them by parameter name: the -bn and -folded files
compute the same function.

Requirements (Debian): apt-get install python3-torch python3-onnx (tested with torch 1.13.0a0, onnx 1.12.0). CPU, seconds.
Run from the repository root:
    /usr/bin/python3 scripts/models/export_nd_cnn_graphs.py [--out-dir models/graphs]
"""
import argparse
import hashlib
import io
import os
import sys

import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torchvision_graphs import SEED, conv_table, fill_entries, strip  # noqa: E402


class ResBlock1d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv1d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm1d(c)
        self.conv2 = nn.Conv1d(c, c, 3, padding=2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm1d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


class Ecg1d(nn.Module):
    def __init__(self, leads=2, classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(leads, 16, 7, stride=2, padding=3), nn.BatchNorm1d(16), nn.ReLU(),
                                  nn.MaxPool1d(3, stride=2, padding=1))
        self.block1 = nn.Sequential(nn.Conv1d(16, 32, 5, padding=2, groups=2), nn.BatchNorm1d(32), nn.ReLU(), nn.MaxPool1d(2))
        self.res = ResBlock1d(32)
        self.down = nn.Sequential(nn.Conv1d(32, 64, 3, stride=2, padding=1), nn.BatchNorm1d(64), nn.ReLU(), nn.AvgPool1d(2))
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.down(self.res(self.block1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class Cnn3d(nn.Module):
    def __init__(self, channels=1, classes=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(channels, 8, 3, padding=1), nn.BatchNorm3d(8), nn.ReLU(), nn.MaxPool3d(2))
        self.strided = nn.Sequential(nn.Conv3d(8, 16, 3, stride=(1, 2, 2), padding=1), nn.BatchNorm3d(16), nn.ReLU(),
                                     nn.AvgPool3d(2))
        self.up = nn.ConvTranspose3d(16, 8, 2, stride=2)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv3d(8, 16, 3, stride=2, padding=1), nn.BatchNorm3d(16), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.head(self.up(self.strided(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


# name -> (constructor, input shape without batch, opsets)
MODELS = {
    "ecg1d": (Ecg1d, (2, 256), (11, 17)),
    "cnn3d": (Cnn3d, (1, 8, 32, 32), (13, 16)),
}


def randomise(model, seed):
    """Random BN statistics/affine and biases (as export_torchvision_graphs.py does for 2-D): no two parameters equal."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                c = mod.num_features
                mod.weight.copy_(torch.rand(c, generator=g) + 0.5)
                mod.bias.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
                mod.running_mean.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
                mod.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            elif isinstance(mod, (nn.modules.conv._ConvNd, nn.Linear)) and mod.bias is not None:
                mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) - 0.5) * 0.2)


def export(model, shape, opset, fold):
    f = io.BytesIO()
    kwargs = dict(training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True) if fold else \
        dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(model, torch.randn(1, *shape), f, opset_version=opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **kwargs)
    return onnx.load_from_string(f.getvalue())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default="models/graphs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, (ctor, shape, opsets) in MODELS.items():
        for opset in opsets:
            torch.manual_seed(SEED)
            model = ctor().eval()
            randomise(model, SEED)
            params = dict(model.named_parameters())
            params.update({k: v for k, v in model.named_buffers() if v.dtype == torch.float32})
            unfused = export(model, shape, opset, fold=False)
            table = conv_table(unfused.graph, params)
            for suffix, m in (("bn", unfused), ("folded", export(model, shape, opset, fold=True))):
                entries = fill_entries(m, params, table)
                mode = {"bn": "TrainingMode.PRESERVE, do_constant_folding=False (BatchNormalization kept)",
                        "folded": "TrainingMode.EVAL, do_constant_folding=True (BatchNormalization folded into Conv)"}[suffix]
                source = (f"ClrpMl {name} (scripts/models/export_nd_cnn_graphs.py); torch {torch.__version__}, onnx {onnx.__version__}; "
                          f"input [N,{','.join(map(str, shape))}]; opset {opset}; {mode}")
                strip(m, entries, source)
                path = os.path.join(args.out_dir, f"{name}-opset{opset}-{suffix}.onnx")
                data = m.SerializeToString()
                with open(path, "wb") as f:
                    f.write(data)
                ops = sorted({n.op_type for n in m.graph.node})
                print(f"{path}: {len(data):,} bytes, {len(m.graph.node)} nodes, {len(entries)} stripped, "
                      f"sha256 {hashlib.sha256(data).hexdigest()}\n  ops: {' '.join(ops)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

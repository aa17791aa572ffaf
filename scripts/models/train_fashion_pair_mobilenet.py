#!/usr/bin/python3
"""Train the MobileNet-style two-object-scene classifier (fashion-pair-mobilenet) and export it to ONNX:
depthwise-separable convs, ReLU6 (exported as Clip), GlobalAveragePool.

What it produces (paths relative to the repository root):
  models/fashion-pair-mobilenet.onnx  opset 13, input "input" [N,1,64,64] float32 (dynamic N),
                                      output "logits" [N,10]; multi-label: NO Softmax at the end

Data and training: as scripts/models/train_fashion_pair_vgg.py (two-object scenes from fashion_pairs.py,
BCEWithLogits on the two present classes). Accuracy = how often the two highest logits are exactly the two
present classes.

Architecture (DS(cin->cout, s) = depthwise Conv3x3(groups=cin, stride s)-BN-ReLU6 -> pointwise
Conv1x1(cin->cout)-BN-ReLU6):
  Conv(1->32,3,s2,p1)-BN-ReLU6 (32x32) -> DS(32->64,s2) (16x16) -> DS(64->64)
  -> DS(64->128,s2) (8x8) -> DS(128->128) -> DS(128->128) -> GlobalAveragePool -> Flatten -> Linear(128->10)
(no stride-1 depthwise conv at 32x32: on one CPU thread PyTorch's depthwise kernel there costs 8x the rest)
Exported in eval mode with do_constant_folding=True: every BatchNormalization is folded into the conv
before it (the graph holds Conv, Clip, GlobalAveragePool, Flatten, Gemm; ReLU6 = Clip(0, 6)).
Preprocessing (OUTSIDE the graph): x = (pixel/255 - 0.1417) / 0.2478 (fashion_pairs.MEAN/STD).

Requirements (Debian): apt-get install python3-torch python3-onnx dataset-fashion-mnist
Run from the repository root (one CPU thread, about 15 minutes of CPU time):
    /usr/bin/python3 scripts/models/train_fashion_pair_mobilenet.py
The result is deterministic for a given torch build and options (one thread, fixed seeds).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_pairs as fp  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def separable(cin, cout, stride=1):
    return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]


class FashionPairMobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(),
            *separable(32, 64, 2), *separable(64, 64),
            *separable(64, 128, 2), *separable(128, 128), *separable(128, 128))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    fp.add_training_args(ap, epochs=16, scenes=25000, lr=3e-3)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    net = FashionPairMobileNet()
    cpu = fp.train_multilabel(net, args)
    print(f"training: {cpu:.0f}s CPU")
    fp.evaluate_and_export(net, "fashion-pair-mobilenet", args,
                           ops_required=("Conv", "Clip", "GlobalAveragePool", "Gemm"),
                           ops_forbidden=("Softmax", "BatchNormalization"))


if __name__ == "__main__":
    main()

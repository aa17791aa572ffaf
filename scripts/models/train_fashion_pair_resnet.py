#!/usr/bin/python3
"""Train the small-ResNet two-object-scene classifier (fashion-pair-resnet) and export it to ONNX with
BatchNormalization LEFT AS SEPARATE NODES and residual Adds.

What it produces (paths relative to the repository root):
  models/fashion-pair-resnet.onnx  opset 13, input "input" [N,1,64,64] float32 (dynamic N),
                                   output "logits" [N,10]; multi-label: NO Softmax at the end

Data and training: as scripts/models/train_fashion_pair_vgg.py (two-object scenes from fashion_pairs.py,
BCEWithLogits on the two present classes). Accuracy = how often the two highest logits are exactly the two
present classes.

Architecture (BasicBlock = Conv3x3-BN-ReLU-Conv3x3-BN, + shortcut (identity, or Conv1x1-BN when the shape
changes), Add, ReLU):
  Conv(1->16,3,s2,p1)-BN-ReLU (32x32) -> BasicBlock(16->16) -> BasicBlock(16->32,s2) (16x16)
  -> BasicBlock(32->64,s2) (8x8) -> GlobalAveragePool -> Flatten -> Linear(64->10)
Convs have no bias (BN follows). Export: torch.onnx.export(..., training=TrainingMode.PRESERVE,
do_constant_folding=False) with the model in eval mode, so the BatchNormalization nodes are not folded into
the convs (the script fails if the graph has no BatchNormalization node).
Preprocessing (OUTSIDE the graph): x = (pixel/255 - 0.1417) / 0.2478 (fashion_pairs.MEAN/STD).

Requirements (Debian): apt-get install python3-torch python3-onnx dataset-fashion-mnist
Run from the repository root (one CPU thread, about 15 minutes of CPU time):
    /usr/bin/python3 scripts/models/train_fashion_pair_resnet.py
The result is deterministic for a given torch build and options (one thread, fixed seeds).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_pairs as fp  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(y + (x if self.shortcut is None else self.shortcut(x)))


class FashionPairResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layers = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.layers(self.stem(x)))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    fp.add_training_args(ap, epochs=16, scenes=25000, lr=3e-3)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    net = FashionPairResNet()
    cpu = fp.train_multilabel(net, args)
    print(f"training: {cpu:.0f}s CPU")
    fp.evaluate_and_export(net, "fashion-pair-resnet", args,
                           ops_required=("Conv", "BatchNormalization", "Add", "GlobalAveragePool", "Gemm"),
                           ops_forbidden=("Softmax",),
                           export_kwargs=dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False))


if __name__ == "__main__":
    main()

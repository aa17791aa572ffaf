#!/usr/bin/python3
"""Train the small VGG-style Fashion-MNIST classifier used by ClrpMl's tests and README, and export it to ONNX.

What it produces (paths relative to the repository root):
  models/fashion-vgg.onnx          opset 13, input "input" [N,1,28,28] float32 (dynamic N),
                                   output "probabilities" [N,10]; the graph ends with Softmax
                                   (its input are the logits that LRP/CLRP explain)
  models/samples/fashion-test-IIII-<class>.png
                                   four Fashion-MNIST test images, 8-bit grey PNG, 28x28

Architecture: Conv(1->16,3,p1)-ReLU-Conv(16->16,3,p1)-ReLU-MaxPool2
              -> Conv(16->32,3,p1)-ReLU-Conv(32->32,3,p1)-ReLU-MaxPool2
              -> Flatten -> Linear(1568->128)-ReLU-Dropout(0.25)-Linear(128->10) -> Softmax
Preprocessing (OUTSIDE the graph): x = (pixel/255 - 0.2860) / 0.3530.

Requirements (Debian): apt-get install python3-torch python3-onnx dataset-fashion-mnist
(PIL comes with python3-torchvision / python3-pil). Uses one CPU thread; a few minutes.

Run from the repository root:
    /usr/bin/python3 scripts/models/train_fashion_vgg.py
Options: --epochs N (default 3), --train-subset N (default 60000, all), --data DIR, --out-dir DIR, --seed S.
The result is deterministic for a given torch build and options (one thread, fixed seed).
"""
import argparse
import gzip
import hashlib
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

MEAN = 0.2860
STD = 0.3530
CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dtype_code = (magic >> 8) & 0xFF
    if dtype_code != 0x08:
        raise ValueError(f"{path}: expected unsigned byte IDX data, got type 0x{dtype_code:02x}")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_split(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return x, y.astype(np.int64)


def normalise(pixels_u8):
    x = pixels_u8.astype(np.float32) / 255.0
    return (x - MEAN) / STD


class FashionVgg(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 128), nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class WithSoftmax(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.net(x))


def evaluate(net, x, y, batch=500):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = net(torch.from_numpy(x[i:i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch]).sum())
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out-dir", default="models")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train-subset", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=20180101)
    ap.add_argument("--extra-sample", type=int, default=None,
                    help="test index of the 4th sample (default: first index >= 3 whose class differs from 0,1,2)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    xtr_u8, ytr = load_split(args.data, "train")
    xte_u8, yte = load_split(args.data, "t10k")
    xtr = normalise(xtr_u8)[:, None]
    xte = normalise(xte_u8)[:, None]

    rng = np.random.RandomState(args.seed)
    n = min(args.train_subset, len(xtr))
    subset = rng.permutation(len(xtr))[:n]

    net = FashionVgg()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = subset[rng.permutation(n)]
        total, seen = 0.0, 0
        for i in range(0, n, args.batch):
            idx = order[i:i + args.batch]
            xb = torch.from_numpy(xtr[idx])
            yb = torch.from_numpy(ytr[idx])
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
            seen += len(idx)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / seen:.4f} "
              f"({time.time() - t0:.0f}s)", flush=True)

    acc = evaluate(net, xte, yte)
    print(f"test accuracy (10000 test images): {acc:.4f}")

    # ---- export -------------------------------------------------------------------------------
    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, "fashion-vgg.onnx")
    model = WithSoftmax(net).eval()
    dummy = torch.from_numpy(xte[:1])
    torch.onnx.export(model, dummy, onnx_path, opset_version=13,
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}},
                      do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    ops = [node.op_type for node in m.graph.node]
    print("onnx ops:", " ".join(ops))
    if ops[-1] != "Softmax":
        sys.exit("exported graph does not end with Softmax")
    with open(onnx_path, "rb") as f:
        blob = f.read()
    print(f"{onnx_path}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")

    with torch.no_grad():
        p0 = model(dummy)[0].numpy()
    np.set_printoptions(precision=6, suppress=True)
    print("float32 torch probabilities for test image 0:", p0)
    print("float32 torch logits for test image 0:", net(dummy)[0].detach().numpy())

    # ---- samples ------------------------------------------------------------------------------
    from PIL import Image
    samples_dir = os.path.join(args.out_dir, "samples")
    os.makedirs(samples_dir, exist_ok=True)
    picks = [0, 1, 2]
    extra = args.extra_sample
    if extra is None:
        extra = next(i for i in range(3, len(yte)) if yte[i] not in set(yte[picks]))
    picks.append(extra)
    for i in picks:
        name = CLASSES[yte[i]].replace("/", "-")
        path = os.path.join(samples_dir, f"fashion-test-{i:04d}-{name}.png")
        Image.fromarray(xte_u8[i], mode="L").save(path, optimize=True)
        with torch.no_grad():
            pred = int(net(torch.from_numpy(xte[i:i + 1])).argmax(1))
        print(f"{path}: label {yte[i]} ({CLASSES[yte[i]]}), predicted {pred} ({CLASSES[pred]})")
    print(f"torch {torch.__version__}, total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()

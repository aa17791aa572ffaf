#!/usr/bin/python3
"""Float64 fixtures for the z+ sharing of residual sums (composite paper-zplus-sums) on fashion-pair-resnet.

Reuses lrp_reference.py's independent float64 rebuild (no code shared with the C# engine) and replaces its
Norm sharing at residual Adds by z+ with unit weights:

    R_a = a+ * R / stab(a+ + b+),   R_b = b+ * R / stab(a+ + b+),   stab(d) = d + 1e-6 * (d >= 0 ? 1 : -1)

Everything else is the paper composite (z^B first layer, z+ elsewhere, BatchNorm folded). The graph has no
Softmax and two Identity nodes on constants, so a copy with both fixed up is rebuilt in memory first.

Writes Tests/Clrp.Onnx.Tests/Fixtures/reference-resnet-zplus/: x.npy [2,1,64,64] (scenes 0 and 1 of
models/data/fashion-pairs-test, normalised with mean 0.1417, std 0.2478), classes.json, and per scene and
class_a: lrp-s<k>.npy and clrp1-s<k>.npy [64,64] (float32; CLRP1 with the uniform dual seed |z_j|/(K-1)).

Run from the repository root (a few seconds):  /usr/bin/python3 scripts/reference/residual_zplus_reference.py
"""
import csv
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lrp_reference as L  # noqa: E402

MEAN, STD = 0.1417, 0.2478
MODEL = "models/fashion-pair-resnet.onnx"
DATA = "models/data/fashion-pairs-test"
OUT = "Tests/Clrp.Onnx.Tests/Fixtures/reference-resnet-zplus"


def rebuild(path, tmp):
    """Adds the Softmax the reference expects and turns Identity-of-initializer nodes into initializers."""
    m = onnx.load(path)
    inits = {i.name: i for i in m.graph.initializer}
    for n in [n for n in m.graph.node if n.op_type == "Identity"]:
        t = onnx.TensorProto()
        t.CopyFrom(inits[n.input[0]])
        t.name = n.output[0]
        m.graph.initializer.append(t)
        m.graph.node.remove(n)
    m.graph.node.append(onnx.helper.make_node("Softmax", [m.graph.output[0].name], ["probabilities"], axis=1))
    onnx.save(m, tmp)
    return L.load_onnx(tmp)[0]


def zplus_sums(norm_rule):
    def rule(fn, ins, R):
        if len(ins) != 2:                       # pools keep Norm
            return norm_rule(fn, ins, R)
        p = [x.clamp(min=0) for x in ins]
        s = R / L.stab(p[0] + p[1], L.NORM_STAB)
        return [p[0] * s, p[1] * s]
    return rule


def main():
    torch.set_num_threads(1)
    layers = rebuild(MODEL, "/tmp/fashion-pair-resnet-softmax.onnx")
    L.norm_rule = zplus_sums(L.norm_rule)
    images = np.load(os.path.join(DATA, "images.u8.npy"))
    scenes = list(csv.DictReader(open(os.path.join(DATA, "scenes.csv"))))
    opts = dict(epsilon=L.EPSILON, gamma=L.GAMMA, low=(0 - MEAN) / STD, high=(1 - MEAN) / STD)
    os.makedirs(OUT, exist_ok=True)
    x = (images[0:2].astype(np.float64) / 255 - MEAN) / STD
    np.save(os.path.join(OUT, "x.npy"), x.astype(np.float32))
    classes = []
    for k in range(2):
        c = int(scenes[k]["class_a"])
        classes.append(c)
        z, acts = L.forward(layers, torch.from_numpy(x[k:k + 1]))
        zj = abs(float(z[0, c]))
        seed = torch.zeros_like(z)
        seed[0, c] = zj
        R = L.lrp(layers, acts, seed, "paper", opts)
        dual = torch.full_like(z, zj / (z.shape[1] - 1))
        dual[0, c] = 0.0
        M = L.clrp_map(R, L.lrp(layers, acts, dual, "paper", opts))
        print(f"scene {k} class {c}: sum R = {float(R.sum()):.9f}, |z_j| = {zj:.9f}")
        np.save(os.path.join(OUT, f"lrp-s{k}.npy"), R[0].sum(0).numpy().astype(np.float32))
        np.save(os.path.join(OUT, f"clrp1-s{k}.npy"), M[0].sum(0).numpy().astype(np.float32))
    with open(os.path.join(OUT, "classes.json"), "w") as f:
        json.dump({"model": MODEL, "model_sha256": hashlib.sha256(open(MODEL, "rb").read()).hexdigest(), "scenes": [0, 1], "classes": classes, "mean": MEAN, "std": STD}, f)


if __name__ == "__main__":
    main()

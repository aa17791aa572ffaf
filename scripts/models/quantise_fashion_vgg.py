#!/usr/bin/python3
"""Builds two statically quantised versions of models/fashion-vgg.onnx, as deployed ONNX models ship them.

  models/fashion-vgg-qdq.onnx     QDQ format: int8 per-channel weights and int32 biases behind DequantizeLinear
                                  (axis 0), uint8 QuantizeLinear -> DequantizeLinear pairs on every Conv/Gemm input
                                  and on the logits; the float Conv/Relu/MaxPool/Gemm/Softmax stay.
  models/fashion-vgg-qop.onnx     operator format: QuantizeLinear at the input, QLinearConv (per-channel int8 weights,
                                  int32 bias, ReLU fused into the uint8 output range as ONNX Runtime's quantiser does),
                                  MaxPool and Flatten on uint8, QLinearMatMul (per-column weights) + com.microsoft
                                  QLinearAdd (bias; the hidden layer's ReLU fused again), DequantizeLinear, Softmax.

No onnxruntime here (Debian python3-onnx 1.12 + python3-torch 1.13 only), so the graphs are written with onnx.helper
the way onnxruntime.quantization.quantize_static writes them: weights symmetric int8 per output channel
(s = max|w|/127, zero point 0), biases int32 with scale s_x * s_w, activations asymmetric uint8 with the min/max of a
calibration run over the first 256 Fashion-MNIST training images (range widened to include 0).

Run from the repository root:  /usr/bin/python3 scripts/models/quantise_fashion_vgg.py
It prints the float-vs-quantised logit difference on the first 1,000 test images (computed here with a float64
simulation of the integer arithmetic) for models/README.md.
"""
import gzip
import hashlib
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

MEAN, STD = 0.2860, 0.3530
DATA = "/usr/share/datasets/fashion-mnist"


def read_images(name, count):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    x = raw.reshape(-1, 1, 28, 28)[:count].astype(np.float32) / 255.0
    return (x - MEAN) / STD


def read_labels(name, count):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:count]


src = onnx.load("models/fashion-vgg.onnx")
W = {t.name: numpy_helper.to_array(t) for t in src.graph.initializer}
convs = ["net.features.0", "net.features.2", "net.features.5", "net.features.7"]
dense = ["net.classifier.1", "net.classifier.4"]


def forward(x):
    """Float forward recording the ranges the quantiser needs (torch, float32)."""
    t = torch.from_numpy(x)
    r = {"input": t}
    for i, c in enumerate(convs):
        t = F.relu(F.conv2d(t, torch.from_numpy(W[c + ".weight"]), torch.from_numpy(W[c + ".bias"]), padding=1))
        r[f"conv{i}"] = t
        if i in (1, 3):
            t = F.max_pool2d(t, 2)
            r[f"pool{i}"] = t
    t = t.flatten(1)
    h = t @ torch.from_numpy(W[dense[0] + ".weight"]).T
    r["mm0"] = h
    t = F.relu(h + torch.from_numpy(W[dense[0] + ".bias"]))
    r["fc0"] = t
    h = t @ torch.from_numpy(W[dense[1] + ".weight"]).T
    r["mm1"] = h
    r["logits"] = h + torch.from_numpy(W[dense[1] + ".bias"])
    return {k: v.numpy() for k, v in r.items()}


calib = forward(read_images("train-images-idx3-ubyte.gz", 256))


def act_qparams(name):
    lo, hi = min(0.0, float(calib[name].min())), max(0.0, float(calib[name].max()))
    s = (hi - lo) / 255.0
    return np.float32(s), np.uint8(round(-lo / s))


def weight_q(w, axis=0):
    moved = np.moveaxis(w, axis, 0)
    s = (np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1) / 127.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / s.reshape(shape)), -127, 127).astype(np.int8)
    return q, s


inits, nodes = [], []


def const(name, array):
    inits.append(numpy_helper.from_array(np.asarray(array), name))
    return name


# ---------------------------------------------------------------- QDQ
def qdq(value, params_of, prefix):
    s, zp = act_qparams(params_of)
    const(prefix + "_scale", s)
    const(prefix + "_zp", zp)
    nodes.append(helper.make_node("QuantizeLinear", [value, prefix + "_scale", prefix + "_zp"], [prefix + "_q"], name=prefix + "_Q"))
    nodes.append(helper.make_node("DequantizeLinear", [prefix + "_q", prefix + "_scale", prefix + "_zp"], [prefix + "_dq"], name=prefix + "_DQ"))
    return prefix + "_dq", s


def dq_weights(layer, x_scale):
    q, s = weight_q(W[layer + ".weight"])
    const(layer + ".weight_q", q)
    const(layer + ".weight_scale", s)
    const(layer + ".weight_zp", np.zeros(len(s), np.int8))
    nodes.append(helper.make_node("DequantizeLinear", [layer + ".weight_q", layer + ".weight_scale", layer + ".weight_zp"], [layer + ".weight"], name=layer + "_weight_DQ", axis=0))
    bs = (x_scale * s).astype(np.float32)
    const(layer + ".bias_q", np.round(W[layer + ".bias"] / bs).astype(np.int32))
    const(layer + ".bias_scale", bs)
    nodes.append(helper.make_node("DequantizeLinear", [layer + ".bias_q", layer + ".bias_scale"], [layer + ".bias"], name=layer + "_bias_DQ", axis=0))


x = "input"
ranges = ["input", "conv0", "pool1", "conv2"]
for i, c in enumerate(convs):
    x, s = qdq(x, ranges[i], f"conv{i}_in")
    dq_weights(c, s)
    nodes.append(helper.make_node("Conv", [x, c + ".weight", c + ".bias"], [f"conv{i}_out"], name=f"Conv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", [f"conv{i}_out"], [f"relu{i}"], name=f"Relu{i}"))
    x = f"relu{i}"
    if i in (1, 3):
        nodes.append(helper.make_node("MaxPool", [x], [f"pool{i}"], name=f"MaxPool{i}", kernel_shape=[2, 2], strides=[2, 2]))
        x = f"pool{i}"
nodes.append(helper.make_node("Flatten", [x], ["flat"], name="Flatten", axis=1))
x = "flat"
for i, d in enumerate(dense):
    x, s = qdq(x, ["pool3", "fc0"][i], f"fc{i}_in")
    dq_weights(d, s)
    nodes.append(helper.make_node("Gemm", [x, d + ".weight", d + ".bias"], [f"fc{i}_out"], name=f"Gemm{i}", transB=1))
    x = f"fc{i}_out"
    if i == 0:
        nodes.append(helper.make_node("Relu", [x], ["fc0_relu"], name="Relu_fc0"))
        x = "fc0_relu"
x, _ = qdq(x, "logits", "logits")
nodes.append(helper.make_node("Softmax", [x], ["probabilities"], name="Softmax", axis=1))

io_in = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])
io_out = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])


def save(graph_name, path, opsets):
    g = helper.make_graph(nodes, graph_name, [io_in], [io_out], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets], producer_name="clrp scripts/models/quantise_fashion_vgg.py")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)
    data = open(path, "rb").read()
    print(f"{path}: {len(data):,} bytes, {len(m.graph.node)} nodes, sha256 {hashlib.sha256(data).hexdigest()}")


save("fashion_vgg_qdq", "models/fashion-vgg-qdq.onnx", [("", 13)])

# ---------------------------------------------------------------- operator format (QLinear*)
inits, nodes = [], []
s_in, zp_in = act_qparams("input")
const("input_scale", s_in)
const("input_zp", zp_in)
nodes.append(helper.make_node("QuantizeLinear", ["input", "input_scale", "input_zp"], ["input_q"], name="input_Q"))
x, xs, xzp = "input_q", "input_scale", "input_zp"
for i, c in enumerate(convs):
    q, s = weight_q(W[c + ".weight"])
    ys, yzp = act_qparams(f"conv{i}")  # the ReLU's output range: zero point 0, so saturation is the ReLU
    xs_v = numpy_helper.to_array(next(t for t in inits if t.name == xs))
    const(c + ".weight_q", q)
    const(c + ".weight_scale", s)
    const(c + ".weight_zp", np.zeros(len(s), np.int8))
    const(c + ".bias_q", np.round(W[c + ".bias"] / (xs_v * s)).astype(np.int32))
    const(f"conv{i}_y_scale", ys)
    const(f"conv{i}_y_zp", yzp)
    nodes.append(helper.make_node("QLinearConv", [x, xs, xzp, c + ".weight_q", c + ".weight_scale", c + ".weight_zp", f"conv{i}_y_scale", f"conv{i}_y_zp", c + ".bias_q"],
                                  [f"conv{i}_q"], name=f"QLinearConv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    x, xs, xzp = f"conv{i}_q", f"conv{i}_y_scale", f"conv{i}_y_zp"
    if i in (1, 3):
        nodes.append(helper.make_node("MaxPool", [x], [f"pool{i}_q"], name=f"MaxPool{i}", kernel_shape=[2, 2], strides=[2, 2]))
        x = f"pool{i}_q"
nodes.append(helper.make_node("Flatten", [x], ["flat_q"], name="Flatten", axis=1))
x = "flat_q"
for i, d in enumerate(dense):
    q, s = weight_q(W[d + ".weight"])  # [N, K] per output row = per column of the [K, N] MatMul operand
    const(d + ".weightT_q", np.ascontiguousarray(q.T))
    const(d + ".weight_scale", s)
    const(d + ".weight_zp", np.zeros(len(s), np.int8))
    ms, mzp = act_qparams(f"mm{i}")
    const(f"mm{i}_scale", ms)
    const(f"mm{i}_zp", mzp)
    nodes.append(helper.make_node("QLinearMatMul", [x, xs, xzp, d + ".weightT_q", d + ".weight_scale", d + ".weight_zp", f"mm{i}_scale", f"mm{i}_zp"], [f"mm{i}_q"], name=f"QLinearMatMul{i}"))
    b = W[d + ".bias"]
    bs = np.float32(max(np.abs(b).max(), 1e-8) / 127.0)
    const(d + ".bias_q", np.clip(np.round(b / bs) + 128, 0, 255).astype(np.uint8))
    const(d + ".bias_scale", bs)
    const(d + ".bias_zp", np.uint8(128))
    ys, yzp = act_qparams(["fc0", "logits"][i])
    const(f"fc{i}_scale", ys)
    const(f"fc{i}_zp", yzp)
    nodes.append(helper.make_node("QLinearAdd", [f"mm{i}_q", f"mm{i}_scale", f"mm{i}_zp", d + ".bias_q", d + ".bias_scale", d + ".bias_zp", f"fc{i}_scale", f"fc{i}_zp"],
                                  [f"fc{i}_q"], name=f"QLinearAdd{i}", domain="com.microsoft"))
    x, xs, xzp = f"fc{i}_q", f"fc{i}_scale", f"fc{i}_zp"
nodes.append(helper.make_node("DequantizeLinear", [x, xs, xzp], ["logits"], name="logits_DQ"))
nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="Softmax", axis=1))
save("fashion_vgg_qop", "models/fashion-vgg-qop.onnx", [("", 13), ("com.microsoft", 1)])

# ---------------------------------------------------------------- float vs quantised, float64 fake-quant simulation
test = read_images("t10k-images-idx3-ubyte.gz", 1000)
labels = read_labels("t10k-labels-idx1-ubyte.gz", 1000)
ref = forward(test)


def fq(v, name):
    s, zp = act_qparams(name)
    return (np.clip(np.round(v / np.float64(s)) + int(zp), 0, 255) - int(zp)) * np.float64(s)


t = torch.from_numpy(fq(test.astype(np.float64), "input"))
for i, c in enumerate(convs):
    q, s = weight_q(W[c + ".weight"])
    t = torch.from_numpy(fq(F.relu(F.conv2d(t, torch.from_numpy(q * s.astype(np.float64).reshape(-1, 1, 1, 1)), torch.from_numpy(W[c + ".bias"].astype(np.float64)), padding=1)).numpy(), f"conv{i}"))
    if i in (1, 3):
        t = F.max_pool2d(t, 2)
t = t.flatten(1).numpy()
for i, d in enumerate(dense):
    q, s = weight_q(W[d + ".weight"])
    t = t @ (q * s.reshape(-1, 1)).T.astype(np.float64) + W[d + ".bias"]
    t = fq(np.maximum(t, 0), "fc0") if i == 0 else fq(t, "logits")
diff = np.abs(t - ref["logits"])
print(f"float vs quantised logits on 1,000 test images (float64 simulation): max |d| {diff.max():.4f}, mean {diff.mean():.4f}, "
      f"logit range {ref['logits'].min():.2f}..{ref['logits'].max():.2f}; accuracy float {np.mean(ref['logits'].argmax(1) == labels):.3f}, "
      f"quantised {np.mean(t.argmax(1) == labels):.3f}")

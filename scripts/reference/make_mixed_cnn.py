#!/usr/bin/python3
"""Builds models/mixed-cnn.onnx: a small Fashion-MNIST-shaped classifier (untrained, seeded random weights) with
the operators the chain model fashion-vgg lacks, for the float64 reference (lrp_reference.py):

  x [N,1,28,28] -> Conv(1->6, 3x3, pad 1) -> BatchNormalization -> Relu                    (r1)
     r1 -> Conv(6->6, 3x3, pad 1) -> BN -> Relu -> Conv(6->6, 3x3, pad 1) -> BN -> Add(r1) -> Relu   (residual)
     -> AveragePool 2x2 -> [Conv 1x1 (6->4) -> Relu ; Conv 3x3 pad 1 (6->4) -> Relu] -> Concat (8 channels)
     -> MaxPool 2x2 -> Flatten -> Gemm(392->10) -> Softmax

BatchNorm statistics are random (not identity), so folding them is exercised. Requirements (Debian):
apt-get install python3-onnx python3-numpy. Run from the repository root: /usr/bin/python3 scripts/reference/make_mixed_cnn.py
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20181202)
inits, nodes = [], []


def init(name, array):
    inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
    return name


def conv(name, x, cin, cout, k, out):
    w = rng.normal(0, np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))
    b = rng.normal(0, 0.05, cout)
    p = k // 2
    nodes.append(helper.make_node("Conv", [x, init(name + ".w", w), init(name + ".b", b)], [out], name=name,
                                  kernel_shape=[k, k], pads=[p, p, p, p]))
    return out


def bn(name, x, c, out):
    nodes.append(helper.make_node("BatchNormalization", [x, init(name + ".scale", rng.uniform(0.5, 1.5, c)),
                                  init(name + ".bias", rng.normal(0, 0.1, c)), init(name + ".mean", rng.normal(0, 0.1, c)),
                                  init(name + ".var", rng.uniform(0.5, 2.0, c))], [out], name=name, epsilon=1e-5))
    return out


def op(kind, inputs, out, **attrs):
    nodes.append(helper.make_node(kind, inputs, [out], name=out, **attrs))
    return out


h = op("Relu", [bn("bn1", conv("conv1", "input", 1, 6, 3, "c1"), 6, "b1")], "r1")
h = op("Relu", [bn("bn2", conv("conv2", h, 6, 6, 3, "c2"), 6, "b2")], "r2")
h = bn("bn3", conv("conv3", h, 6, 6, 3, "c3"), 6, "b3")
h = op("Relu", [op("Add", ["r1", h], "residual")], "r3")
h = op("AveragePool", [h], "pool1", kernel_shape=[2, 2], strides=[2, 2])
a = op("Relu", [conv("conv4a", h, 6, 4, 1, "c4a")], "r4a")
b = op("Relu", [conv("conv4b", h, 6, 4, 3, "c4b")], "r4b")
h = op("Concat", [a, b], "concat", axis=1)
h = op("MaxPool", [h], "pool2", kernel_shape=[2, 2], strides=[2, 2])
h = op("Flatten", [h], "flat", axis=1)
w = rng.normal(0, np.sqrt(1.0 / 392), (10, 392))
nodes.append(helper.make_node("Gemm", [h, init("fc.w", w), init("fc.b", rng.normal(0, 0.05, 10))], ["logits"], name="fc", transB=1))
nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1))

graph = helper.make_graph(nodes, "mixed-cnn",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
                          [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])], inits)
model = helper.make_model(graph, producer_name="scripts/reference/make_mixed_cnn.py", opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "models/mixed-cnn.onnx")
print("wrote models/mixed-cnn.onnx:", len(nodes), "nodes")

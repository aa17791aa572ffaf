#!/usr/bin/python3
"""Build a Keras-style NHWC ONNX graph with onnx.helper, as tf2onnx writes a small Keras MobileNet-like classifier (issue 11).

Nothing is downloaded and TensorFlow is not needed: the graph is written node by node in the layout tf2onnx produces for
a channels-last Keras model:
  input_1 [N,32,32,3] (NHWC) -> Transpose(perm 0,3,1,2) -> NCHW
  Conv 3x3 stride 2, auto_pad SAME_UPPER (Keras padding="same"), 16 filters, bias -> Clip(0, 6) (Keras ReLU6)
  depthwise Conv 3x3 (group 16), SAME_UPPER, bias -> Clip(0, 6)
  pointwise Conv 1x1, 32 filters, bias -> Relu
  Conv 3x3 stride 2, SAME_UPPER, 32 filters, bias -> Relu
  Transpose(perm 0,2,3,1) back to NHWC -> ReduceMean(axes 1,2, keepdims 0) (Keras GlobalAveragePooling2D)
  MatMul [32,16] + Add (Keras Dense, which tf2onnx writes as MatMul+Add, not Gemm) -> Relu
  MatMul [16,10] + Add -> Softmax (the Keras output layer's activation)
Weights are seeded (NumPy default_rng(20180101)), He-uniform +-sqrt(6/fan_in), biases U(-0.1, 0.1): an untrained model
with activations of order 1. Opset 13 (Clip takes min/max as inputs; ReduceMean takes axes as an attribute).

Requirements (Debian): apt-get install python3-onnx python3-numpy (tested with onnx 1.12.0). Run from the repository root:
    /usr/bin/python3 scripts/models/build_keras_nhwc_graph.py [--out models/keras_nhwc_mobilenet.onnx]
"""
import argparse
import hashlib
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20180101


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/keras_nhwc_mobilenet.onnx")
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    inits, nodes = [], []

    def weight(name, shape, fan_in):
        bound = np.sqrt(6.0 / fan_in)
        inits.append(numpy_helper.from_array(rng.uniform(-bound, bound, shape).astype(np.float32), name))
        return name

    def bias(name, n):
        inits.append(numpy_helper.from_array(rng.uniform(-0.1, 0.1, n).astype(np.float32), name))
        return name

    def const(name, value):
        inits.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    six, zero = const("relu6_max", 6.0), const("relu6_min", 0.0)
    x = node("Transpose", ["input_1"], "model/conv1/Conv2D__6", perm=[0, 3, 1, 2])
    x = node("Conv", [x, weight("model/conv1/kernel", (16, 3, 3, 3), 27), bias("model/conv1/bias", 16)], "model/conv1/BiasAdd",
             kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER", dilations=[1, 1], group=1)
    x = node("Clip", [x, zero, six], "model/conv1_relu/Relu6")
    x = node("Conv", [x, weight("model/conv_dw_1/depthwise_kernel", (16, 1, 3, 3), 9), bias("model/conv_dw_1/bias", 16)],
             "model/conv_dw_1/BiasAdd", kernel_shape=[3, 3], strides=[1, 1], auto_pad="SAME_UPPER", dilations=[1, 1], group=16)
    x = node("Clip", [x, zero, six], "model/conv_dw_1_relu/Relu6")
    x = node("Conv", [x, weight("model/conv_pw_1/kernel", (32, 16, 1, 1), 16), bias("model/conv_pw_1/bias", 32)],
             "model/conv_pw_1/BiasAdd", kernel_shape=[1, 1], strides=[1, 1], auto_pad="SAME_UPPER", dilations=[1, 1], group=1)
    x = node("Relu", [x], "model/conv_pw_1_relu/Relu")
    x = node("Conv", [x, weight("model/conv2/kernel", (32, 32, 3, 3), 288), bias("model/conv2/bias", 32)], "model/conv2/BiasAdd",
             kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER", dilations=[1, 1], group=1)
    x = node("Relu", [x], "model/conv2_relu/Relu")
    x = node("Transpose", [x], "model/conv2_relu/Relu__28", perm=[0, 2, 3, 1])
    x = node("ReduceMean", [x], "model/global_average_pooling2d/Mean", axes=[1, 2], keepdims=0)
    x = node("MatMul", [x, weight("model/dense/MatMul/ReadVariableOp:0", (32, 16), 32)], "model/dense/MatMul")
    x = node("Add", [x, bias("model/dense/BiasAdd/ReadVariableOp:0", 16)], "model/dense/BiasAdd")
    x = node("Relu", [x], "model/dense/Relu")
    x = node("MatMul", [x, weight("model/predictions/MatMul/ReadVariableOp:0", (16, 10), 16)], "model/predictions/MatMul")
    x = node("Add", [x, bias("model/predictions/BiasAdd/ReadVariableOp:0", 10)], "model/predictions/BiasAdd")
    nodes.append(helper.make_node("Softmax", [x], ["predictions"], name="model/predictions/Softmax", axis=1))

    graph = helper.make_graph(
        nodes, "keras_nhwc_mobilenet",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__N", 32, 32, 3])],
        [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, ["unk__N", 10])],
        inits)
    model = helper.make_model(graph, producer_name="tf2onnx-style (ClrpMl scripts/models/build_keras_nhwc_graph.py)",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(data)
    print(f"{args.out}: {len(data):,} bytes, {len(nodes)} nodes, sha256 {hashlib.sha256(data).hexdigest()}\n"
          f"  ops: {' '.join(sorted({n.op_type for n in nodes}))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Writes the small ONNX seeds of scripts/fuzz/corpus/onnx/ (besides mixed-cnn.onnx, a copy of models/mixed-cnn.onnx):
a Conv/MaxPool/Gemm chain, a computed-shape Reshape, a graph with an unsupported op, one with a cycle, a Pad/Slice/
Resize/Split mix, a QDQ Conv and a QLinearConv (the dequantiser, issue 11). Requirements: apt-get install python3-onnx. Run from the repository root."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
F = TensorProto.FLOAT


def save(name, nodes, inits, inputs, outputs, opset=13, check=True):
    g = helper.make_graph(nodes, name, inputs, outputs, [numpy_helper.from_array(v.astype(np.float32) if v.dtype.kind == "f" else v, k) for k, v in inits.items()])
    m = helper.make_model(g, producer_name="scripts/fuzz/make_onnx_seeds.py", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, f"scripts/fuzz/corpus/onnx/{name}.onnx")


x = helper.make_tensor_value_info("x", F, ["N", 1, 8, 8])
save("chain", [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
               helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
               helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "g"], ["y"], transB=1),
               helper.make_node("Softmax", ["y"], ["s"], axis=1)],
     {"w": rng.normal(size=(2, 1, 3, 3)), "g": rng.normal(size=(3, 32))}, [x], [helper.make_tensor_value_info("s", F, ["N", 3])])
save("shape-reshape", [helper.make_node("Shape", ["x"], ["sh"]), helper.make_node("Gather", ["sh", "i0"], ["n"], axis=0),
                       helper.make_node("Unsqueeze", ["n", "ax"], ["nu"]), helper.make_node("Concat", ["nu", "m1"], ["ns"], axis=0),
                       helper.make_node("Reshape", ["x", "ns"], ["y"])],
     {"i0": np.array([0], dtype=np.int64), "ax": np.array([0], dtype=np.int64), "m1": np.array([-1], dtype=np.int64)},
     [x], [helper.make_tensor_value_info("y", F, ["N", 64])])
save("unsupported", [helper.make_node("Sin", ["x"], ["y"])], {}, [x], [helper.make_tensor_value_info("y", F, ["N", 1, 8, 8])])
save("cycle", [helper.make_node("Relu", ["x2"], ["x1"]), helper.make_node("Add", ["x", "x1"], ["x2"])], {}, [x],
     [helper.make_tensor_value_info("x2", F, ["N", 1, 8, 8])], check=False)
save("routing", [helper.make_node("Pad", ["x", "pads"], ["pd"], mode="reflect"),
                 helper.make_node("Slice", ["pd", "st", "en", "axs"], ["sl"]),
                 helper.make_node("Resize", ["sl", "", "sc"], ["rs"], mode="linear"),
                 helper.make_node("Split", ["rs", "sp"], ["a", "b"], axis=2),
                 helper.make_node("Add", ["a", "b"], ["ad"]), helper.make_node("GlobalAveragePool", ["ad"], ["y"])],
     {"pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "st": np.array([1, 1], dtype=np.int64),
      "en": np.array([9, 9], dtype=np.int64), "axs": np.array([2, 3], dtype=np.int64),
      "sc": np.array([1, 1, 2, 2], dtype=np.float32), "sp": np.array([8, 8], dtype=np.int64)},
     [x], [helper.make_tensor_value_info("y", F, ["N", 1, 1, 1])])
# Quantised seeds: a QDQ Conv (activation pair, per-axis int8 weight, int32 bias) and QLinearConv → uint8 MaxPool → DequantizeLinear.
q = {"s": np.array(0.05, dtype=np.float32), "w": np.arange(-4, 5, dtype=np.int8).reshape(1, 1, 3, 3),
     "ws": np.array([0.01], dtype=np.float32), "wzp": np.array([0], dtype=np.int8), "b": np.array([10], dtype=np.int32)}
save("quantised-qdq", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["xq"]), helper.make_node("DequantizeLinear", ["xq", "s", "zp"], ["xd"]),
                       helper.make_node("DequantizeLinear", ["w", "ws", "wzp"], ["wf"], axis=0),
                       helper.make_node("DequantizeLinear", ["b", "bs"], ["bf"], axis=0),
                       helper.make_node("Conv", ["xd", "wf", "bf"], ["c"]), helper.make_node("Relu", ["c"], ["r"]), helper.make_node("Flatten", ["r"], ["y"])],
     {**q, "zp": np.array(128, dtype=np.uint8), "bs": np.array([0.0005], dtype=np.float32)}, [x], [helper.make_tensor_value_info("y", F, ["N", 36])])
save("quantised-qlinear", [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["xq"]),
                           helper.make_node("QLinearConv", ["xq", "s", "zp", "w", "ws", "wzp", "ys", "zp", "b"], ["yq"]),
                           helper.make_node("MaxPool", ["yq"], ["pq"], kernel_shape=[2, 2], strides=[2, 2]),
                           helper.make_node("DequantizeLinear", ["pq", "ys", "zp"], ["y"])],
     {**q, "zp": np.array(0, dtype=np.uint8), "ys": np.array(0.1, dtype=np.float32)}, [x], [helper.make_tensor_value_info("y", F, ["N", 1, 3, 3])])
print("wrote the ONNX seeds")

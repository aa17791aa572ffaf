#!/usr/bin/python3
"""Export torchvision architectures as GRAPH-ONLY ONNX files for ClrpMl's real-model tests.

Random weights carry no information and full files would be large, so every file written here holds the
graph exactly as torch.onnx.export wrote it, with the data of every weight, bias and BatchNormalization
parameter removed (dims and names kept, data empty). The test helper
Tests/Clrp.Onnx.Tests/RealModels/GraphFiller.cs fills them deterministically before a test explains them.

What it produces (paths relative to the repository root):
  models/graphs/<arch>-bn.onnx       exported with training=TrainingMode.PRESERVE on an eval-mode model:
                                     BatchNormalization nodes kept (unfused)
  models/graphs/<arch>-folded.onnx   exported with training=TrainingMode.EVAL, do_constant_folding=True:
                                     torch folds every BatchNormalization that follows a Conv into it
  (SqueezeNet 1.1 has no BatchNormalization: one file, models/graphs/squeezenet1_1.onnx.)

Each file's metadata_props holds:
  clrp.graph_only  "1"
  clrp.source      architecture, torchvision/torch/onnx versions, input shape, opset, export mode
  clrp.fill        JSON list, one entry per stripped initializer:
                   {"name", "kind": "param", "param": torch parameter name, "role": weight|bias|bn_scale|bn_bias|bn_mean|bn_var,
                    "fan_in"}                                   a parameter as torch names it, or
                   {"name", "kind": "folded_weight"|"folded_bias", "param": conv weight/bias name (bias may be null),
                    "bn": BatchNorm module name, "eps", "fan_in"}   a Conv weight/bias that torch folded a BatchNorm into.
The filler generates every parameter from its torch name alone (seeded by the name), so a parameter gets the
same value in the -bn and -folded files, and a folded initializer is computed from the same Conv and
BatchNorm parameters as the unfused graph uses: both files then compute the same function.

Before export every BatchNorm gets random statistics and affine parameters, and every Conv/Linear bias random
values (seeded), so that no two
parameters are equal (torch de-duplicates equal initializers into Identity nodes) and so that the mapping
from each folded initializer to its Conv and BatchNorm is checked numerically here (W*k, (b-mean)*k+beta).

Architectures (torchvision 0.14 code, BSD-3-Clause; weights=None):
  resnet18 64x64 opset 13, resnet50 64x64 opset 17, densenet121 64x64 opset 11, googlenet 64x64 opset 13
  (aux_logits=False, transform_input=False), inception_v3 75x75 opset 13 (aux_logits=False,
  transform_input=False; 75 is its smallest input), mobilenet_v2 64x64 opset 11, mobilenet_v3_small 64x64
  opset 17, squeezenet1_1 64x64 opset 10, vgg16_bn 64x64 opset 13 (see VGG_NOTE), efficientnet_b0 64x64 opset 15.
  Issue 11: shufflenet_v2_x0_5, regnet_x/y_400mf, mnasnet0_5, resnext50_32x4d, wide_resnet50_2, alexnet (ALEXNET_NOTE);
  convnext_tiny at opset 17 (one LayerNormalization op) and 14 (LayerNorm decomposed), and convnext_small_test at both
  (CONVNEXT_TEST_NOTE). ConvNeXt has no BatchNorm: one file per opset, the opset-14 one suffixed _opset14.
All with 1000 classes and a dynamic batch axis N: input "input" [N,3,H,W], output "logits" [N,1000].

Requirements (Debian): apt-get install python3-torch python3-torchvision python3-onnx
(tested with torch 1.13.0a0, torchvision 0.14.1a0, onnx 1.12.0). CPU only, about a minute.

Run from the repository root:
    /usr/bin/python3 scripts/models/export_torchvision_graphs.py [--out-dir models/graphs] [--only resnet18,...]
"""
import argparse
import hashlib
import io
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper as nh
import torch
import torch.nn as nn
import torchvision
from torchvision import models as tvm

# VGG16-BN's classifier reads a 7x7x512 map (AdaptiveAvgPool2d(7) then Linear(25088, 4096)): 102M weights and a
# 224x224 input. For a small graph that a test can fill and explain in seconds, the 64x64 export keeps the 13
# Conv+BN+ReLU layers and 5 MaxPools of torchvision's vgg16_bn unchanged and makes the pool AdaptiveAvgPool2d(1)
# (exported as GlobalAveragePool) and the first Linear 512 -> 4096; the rest of the classifier is torchvision's.
VGG_NOTE = "vgg16_bn with avgpool=AdaptiveAvgPool2d(1) and classifier[0]=Linear(512,4096) (64x64 input)"


def vgg16_bn_small():
    m = tvm.vgg16_bn(weights=None)
    m.avgpool = nn.AdaptiveAvgPool2d(1)
    m.classifier[0] = nn.Linear(512, 4096)
    return m


ALEXNET_NOTE = "alexnet with avgpool=AdaptiveAvgPool2d(1) and classifier[1]=Linear(256,4096) (64x64 input)"


def alexnet_small():
    # At 64x64 AlexNet's features end at 1x1; AdaptiveAvgPool2d(6) would upsample it (no ONNX export), so as for VGG the
    # pool becomes global and the first Linear reads 256 features; the convolutions and the rest are torchvision's.
    m = tvm.alexnet(weights=None)
    m.avgpool = nn.AdaptiveAvgPool2d(1)
    m.classifier[1] = nn.Linear(256, 4096)
    return m


CONVNEXT_TEST_NOTE = ("torchvision ConvNeXt with block_setting CNBlockConfig(24,48,2), CNBlockConfig(48,None,2), "
                     "stochastic_depth_prob 0.1, 1000 classes (ConvNeXt-Tiny's blocks at a fraction of its width, for the fast tests)")


def convnext_small_test():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    return ConvNeXt([CNBlockConfig(24, 48, 2), CNBlockConfig(48, None, 2)], stochastic_depth_prob=0.1)


# name -> (constructor, input size, opset)
ARCHS = {
    "resnet18": (lambda: tvm.resnet18(weights=None), 64, 13),
    "resnet50": (lambda: tvm.resnet50(weights=None), 64, 17),
    "densenet121": (lambda: tvm.densenet121(weights=None), 64, 11),
    "googlenet": (lambda: tvm.googlenet(weights=None, aux_logits=False, transform_input=False, init_weights=True), 64, 13),
    "inception_v3": (lambda: tvm.inception_v3(weights=None, aux_logits=False, transform_input=False, init_weights=True), 75, 13),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(weights=None), 64, 11),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(weights=None), 64, 17),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(weights=None), 64, 10),
    "vgg16_bn": (vgg16_bn_small, 64, 13),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(weights=None), 64, 15),
    # Issue 11's families. ShuffleNetV2's x.chunk(2, dim=1) exports as Shape -> Gather -> Div -> Mul -> Slice at opset 13+.
    "shufflenet_v2_x0_5": (lambda: tvm.shufflenet_v2_x0_5(weights=None), 64, 13),
    "regnet_x_400mf": (lambda: tvm.regnet_x_400mf(weights=None), 64, 14),
    "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(weights=None), 64, 16),
    "mnasnet0_5": (lambda: tvm.mnasnet0_5(weights=None), 64, 12),
    "resnext50_32x4d": (lambda: tvm.resnext50_32x4d(weights=None), 64, 16),
    "wide_resnet50_2": (lambda: tvm.wide_resnet50_2(weights=None), 64, 13),
    "alexnet": (lambda: alexnet_small(), 64, 11),
    "efficientnet_v2_s": (lambda: tvm.efficientnet_v2_s(weights=None), 64, 16),
    # ConvNeXt: LayerNorm (one LayerNormalization op from opset 17; ReduceMean/Sub/Pow/Sqrt/Div before), GELU (Erf pattern),
    # NHWC Linear layers (MatMul + Add after a Permute), layer scale (Mul), stochastic depth (identity in eval).
    "convnext_tiny": (lambda: tvm.convnext_tiny(weights=None), 64, 17),
    "convnext_tiny_opset14": (lambda: tvm.convnext_tiny(weights=None), 64, 14),
    "convnext_small_test": (lambda: convnext_small_test(), 64, 17),
    "convnext_small_test_opset14": (lambda: convnext_small_test(), 64, 14),
}

SEED = 20180101
BN_ROLES = {1: "bn_scale", 2: "bn_bias", 3: "bn_mean", 4: "bn_var"}
BN_SUFFIX = {"bn_scale": "weight", "bn_bias": "bias", "bn_mean": "running_mean", "bn_var": "running_var"}


def randomise_batchnorm_and_biases(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(torch.rand(c, generator=g) + 0.5)
                mod.bias.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
                mod.running_mean.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
                mod.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            elif isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.bias is not None:
                # torchvision zero-initialises many biases; equal ones would be de-duplicated.
                mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) - 0.5) * 0.2)
            elif isinstance(mod, nn.LayerNorm) and mod.elementwise_affine:
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) + 0.5)
                mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) - 0.5) * 0.2)
            if hasattr(mod, "layer_scale") and isinstance(mod.layer_scale, nn.Parameter):
                # ConvNeXt's layer scale starts at 1e-6 everywhere: equal values would be de-duplicated too.
                mod.layer_scale.copy_(torch.rand(mod.layer_scale.shape, generator=g) + 0.5)


def export(model, size, opset, fold):
    x = torch.randn(1, 3, size, size)
    f = io.BytesIO()
    kwargs = dict(training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True) if fold else \
        dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(model, x, f, opset_version=opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **kwargs)
    return onnx.load_from_string(f.getvalue())


def consumers(graph):
    out = {}
    for node in graph.node:
        for slot, name in enumerate(node.input):
            out.setdefault(name, []).append((node, slot))
    return out


def fan_in(shape):
    return int(np.prod(shape[1:])) if len(shape) > 1 else int(shape[0])


def conv_table(graph, params):
    """Per Conv node in file order: (weight name, bias name or None, BN module or None, eps)."""
    cons = consumers(graph)
    table = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        bn, eps = None, None
        users = cons.get(node.output[0], [])
        if len(users) == 1 and users[0][0].op_type == "BatchNormalization" and users[0][1] == 0:
            bnode = users[0][0]
            scale = bnode.input[1]
            assert scale.endswith(".weight") and scale in params, f"BN scale '{scale}' is not a torch parameter name"
            bn = scale[: -len(".weight")]
            eps = next((a.f for a in bnode.attribute if a.name == "epsilon"), 1e-5)
        table.append((node.input[1], node.input[2] if len(node.input) > 2 and node.input[2] else None, bn, eps))
    return table


def fill_entries(model, params, unfused_convs):
    """One entry per float initializer that holds a parameter (or a folded one). Checks folded values numerically."""
    graph = model.graph
    cons = consumers(graph)
    inits = {i.name: i for i in graph.initializer}
    entries = {}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    assert len(convs) == len(unfused_convs), f"{len(convs)} Conv nodes here, {len(unfused_convs)} in the unfused export"
    for node, (w, b, bn, eps) in zip(convs, unfused_convs):
        wname = node.input[1]
        bname = node.input[2] if len(node.input) > 2 and node.input[2] else None
        if bn is None or wname == w:
            continue  # not folded: handled as plain parameters below
        wt = params[w].detach().numpy().astype(np.float64)
        gamma = params[bn + ".weight"].detach().numpy().astype(np.float64)
        beta = params[bn + ".bias"].detach().numpy().astype(np.float64)
        mean = params[bn + ".running_mean"].detach().numpy().astype(np.float64)
        var = params[bn + ".running_var"].detach().numpy().astype(np.float64)
        k = gamma / np.sqrt(var + eps)
        expected_w = wt * k.reshape(-1, *([1] * (wt.ndim - 1)))
        bias = params[b].detach().numpy().astype(np.float64) if b else np.zeros_like(mean)
        expected_b = (bias - mean) * k + beta
        got_w = nh.to_array(inits[wname]).astype(np.float64)
        got_b = nh.to_array(inits[bname]).astype(np.float64)
        assert np.allclose(got_w, expected_w, rtol=1e-4, atol=1e-6), f"folded weight {wname} != {w} * k({bn})"
        assert np.allclose(got_b, expected_b, rtol=1e-4, atol=1e-6), f"folded bias {bname} != ({b} - mean) * k + beta ({bn})"
        entries[wname] = {"name": wname, "kind": "folded_weight", "param": w, "bn": bn, "eps": eps, "fan_in": fan_in(wt.shape)}
        entries[bname] = {"name": bname, "kind": "folded_bias", "param": b, "bn": bn, "eps": eps}

    for name, init in inits.items():
        if name in entries or init.data_type != onnx.TensorProto.FLOAT:
            continue
        users = cons.get(name, [])
        if name in params:
            assert len(users) >= 1, f"parameter {name} is unused"
            node, slot = users[0]
            # Through pass-throughs: torch writes Identity for de-duplicated parameters and Transpose for Linear on N-D input.
            while node.op_type in ("Identity", "Transpose") and cons.get(node.output[0]):
                node, slot = cons[node.output[0]][0]
            if node.op_type in ("Conv", "Gemm", "MatMul", "ConvTranspose"):
                role = "weight" if slot == 1 else "bias"
            elif node.op_type == "BatchNormalization":
                role = BN_ROLES[slot]
                assert name.endswith("." + BN_SUFFIX[role]), f"{name} at BN slot {slot}"
            elif node.op_type == "LayerNormalization":
                role = "bn_scale" if slot == 1 else "bias"
            elif node.op_type == "Mul":
                role = "bn_scale"  # layer scale, or LayerNorm's gamma in the decomposed form
            elif node.op_type == "Add":
                role = "bias"  # Linear on N-D input (MatMul + Add), or LayerNorm's beta in the decomposed form
            else:
                raise AssertionError(f"parameter {name} feeds {node.op_type} slot {slot}")
            expected = params[name].detach().numpy()
            assert np.array_equal(nh.to_array(init), expected), f"initializer {name} differs from the torch parameter"
            entry = {"name": name, "kind": "param", "param": name, "role": role}
            if role == "weight":
                entry["fan_in"] = fan_in(expected.shape)
            entries[name] = entry
        else:
            count = int(np.prod(init.dims)) if len(init.dims) else 1
            assert count <= 1000, f"float initializer {name} ({count} elements) is neither a parameter nor folded"
    return list(entries.values())


def strip(model, entries, source):
    names = {e["name"] for e in entries}
    for init in model.graph.initializer:
        if init.name in names:
            init.ClearField("raw_data")
            init.ClearField("float_data")
    del model.metadata_props[:]
    for key, value in (("clrp.graph_only", "1"), ("clrp.source", source),
                       ("clrp.fill", json.dumps(entries, separators=(",", ":")))):
        p = model.metadata_props.add()
        p.key, p.value = key, value
    model.doc_string = "Graph only: weights stripped; filled at test time (see clrp.fill)."
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default="models/graphs")
    ap.add_argument("--only", default="", help="comma-separated architecture names")
    args = ap.parse_args()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    os.makedirs(args.out_dir, exist_ok=True)
    only = [a for a in args.only.split(",") if a]
    for arch, (ctor, size, opset) in ARCHS.items():
        if only and arch not in only:
            continue
        torch.manual_seed(SEED)
        model = ctor().eval()
        randomise_batchnorm_and_biases(model, SEED)
        params = dict(model.named_parameters())
        params.update({k: v for k, v in model.named_buffers() if v.dtype == torch.float32})
        has_bn = any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
        unfused = export(model, size, opset, fold=False)
        table = conv_table(unfused.graph, params)
        variants = [("bn" if has_bn else None, unfused)]
        if has_bn:
            variants.append(("folded", export(model, size, opset, fold=True)))
        for suffix, m in variants:
            entries = fill_entries(m, params, table)
            ops = sorted({n.op_type for n in m.graph.node})
            mode = {"bn": "TrainingMode.PRESERVE, do_constant_folding=False (BatchNormalization kept)",
                    "folded": "TrainingMode.EVAL, do_constant_folding=True (BatchNormalization folded into Conv)",
                    None: "TrainingMode.EVAL, do_constant_folding=True (no BatchNormalization)"}[suffix]
            desc = VGG_NOTE if arch == "vgg16_bn" else ALEXNET_NOTE if arch == "alexnet" \
                else CONVNEXT_TEST_NOTE if arch.startswith("convnext_small_test") else f"{arch.replace('_opset14', '')}(weights=None)"
            source = (f"torchvision {torchvision.__version__} {desc}; torch {torch.__version__}, onnx {onnx.__version__}; "
                      f"input [N,3,{size},{size}]; opset {opset}; {mode}")
            strip(m, entries, source)
            path = os.path.join(args.out_dir, f"{arch}-{suffix}.onnx" if suffix else f"{arch}.onnx")
            data = m.SerializeToString()
            with open(path, "wb") as f:
                f.write(data)
            n_bn = sum(1 for n in m.graph.node if n.op_type == "BatchNormalization")
            print(f"{path}: {len(data):,} bytes, {len(m.graph.node)} nodes, {len(entries)} stripped, "
                  f"{n_bn} BatchNormalization, sha256 {hashlib.sha256(data).hexdigest()}\n  ops: {' '.join(ops)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

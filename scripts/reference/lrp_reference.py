#!/usr/bin/python3
"""Independent float64 reference for ClrpMl's relevance engine (DESIGN.md section 1).

Loads an ONNX classifier with the `onnx` package, rebuilds it in PyTorch float64 from its
initializers (only Conv, Relu, MaxPool, Flatten/Reshape, Gemm and a final Softmax are accepted;
anything else fails loudly), and computes LRP, CLRP1, CLRP2, SGLRP, Gradient and Gradient*Input
maps literally as DESIGN.md section 1 defines them, Zennit-style:

  for a linear layer with rule terms (x_t, w_t):
      z    = sum_t layer(x_t, w_t)            (+ bias, epsilon rule only)
      s    = R / stab(z),   stab(d) = d + eps * (d >= 0 ? 1 : -1)
      R_in = sum_t x_t * d/dx_t [ sum(layer(x_t, w_t) * s) ]    (torch.autograd.grad)

It does not share code with the C# engine. Fixtures (float32 .npy + manifest.json) are written to
Tests/Clrp.Onnx.Tests/Fixtures/reference/ by default.

Requirements (Debian): apt-get install python3-torch python3-onnx dataset-fashion-mnist
Run from the repository root:
    /usr/bin/python3 scripts/reference/lrp_reference.py [--check-accuracy]
"""
import argparse
import gzip
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

MEAN = 0.2860
STD = 0.3530
EPSILON = 1e-6       # epsilon rule (DESIGN: default 1e-6, --epsilon)
STAB = 1e-9          # stabiliser of every other rule
GAMMA = 0.25
ALPHA, BETA = 2.0, 1.0
LINEAR_OPS = ("Conv", "Gemm")
# Fixtures at non-default values: (composite, epsilon, gamma, file tag).
VARIANTS = (("epsilon", 0.1, GAMMA, "eps0.1"), ("epsilon-gamma-box", EPSILON, 1.0, "gamma1"),
            ("epsilon-gamma-box", 0.1, 1.0, "eps0.1-gamma1"))


# ------------------------------------------------------------------------------------------------
# ONNX -> float64 layer list
# ------------------------------------------------------------------------------------------------
class Layer:
    def __init__(self, op, name, **kw):
        self.op = op
        self.name = name
        self.__dict__.update(kw)

    def __repr__(self):
        return f"{self.op}({self.name})"


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def load_onnx(path):
    """The graph as a list of layers in file order (topological), each with its data inputs and output.
    BatchNormalization right after a Conv whose output has no other consumer is folded into that Conv
    (w*k, (b - mean)*k + beta, k = gamma / sqrt(var + eps)), as DESIGN.md says; any other BN is refused."""
    model = onnx.load(path)
    g = model.graph
    consts = {init.name: numpy_helper.to_array(init) for init in g.initializer}
    graph_inputs = [i.name for i in g.input if i.name not in consts]
    if len(graph_inputs) != 1:
        raise ValueError(f"expected one graph input, got {graph_inputs}")
    consumers = {}
    for node in g.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    layers = []
    by_output = {}
    for node in g.node:
        a = attrs_of(node)
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(a["value"])
            continue
        data_inputs = [i for i in node.input if i and i not in consts]
        t = lambda name: torch.from_numpy(np.array(consts[name], dtype=np.float64))
        common = dict(inputs=data_inputs, output=node.output[0])
        if node.op_type == "Conv":
            w = t(node.input[1])
            b = t(node.input[2]) if len(node.input) > 2 and node.input[2] else torch.zeros(w.shape[0], dtype=torch.float64)
            if w.dim() != 4:
                raise ValueError(f"{node.name}: only 2-D Conv supported")
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise ValueError(f"{node.name}: auto_pad not supported")
            layer = Layer("Conv", node.name, w=w, b=b,
                          strides=tuple(a.get("strides", [1, 1])),
                          pads=tuple(a.get("pads", [0, 0, 0, 0])),
                          dilations=tuple(a.get("dilations", [1, 1])),
                          group=int(a.get("group", 1)), **common)
        elif node.op_type == "BatchNormalization":
            producer = by_output.get(data_inputs[0])
            if producer is None or producer.op != "Conv" or len(consumers.get(data_inputs[0], [])) != 1:
                raise ValueError(f"{node.name}: only BatchNormalization right after a Conv (folded) is supported")
            scale, beta, mean, var = (t(n) for n in node.input[1:5])
            k = scale / torch.sqrt(var + float(a.get("epsilon", 1e-5)))
            producer.w = producer.w * k.view(-1, 1, 1, 1)
            producer.b = (producer.b - mean) * k + beta
            producer.output = node.output[0]
            by_output[producer.output] = producer
            continue
        elif node.op_type == "Gemm":
            if int(a.get("transA", 0)) != 0:
                raise ValueError(f"{node.name}: transA=1 not supported")
            B = t(node.input[1])
            w = B if int(a.get("transB", 0)) else B.t()          # [out, in]
            w = float(a.get("alpha", 1.0)) * w
            if len(node.input) > 2 and node.input[2]:
                b = float(a.get("beta", 1.0)) * t(node.input[2]).reshape(-1)
                b = b.expand(w.shape[0]).clone()
            else:
                b = torch.zeros(w.shape[0], dtype=torch.float64)
            layer = Layer("Gemm", node.name, w=w.contiguous(), b=b, **common)
        elif node.op_type == "Relu":
            layer = Layer("Relu", node.name, **common)
        elif node.op_type == "MaxPool":
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or int(a.get("ceil_mode", 0)) \
                    or any(d != 1 for d in a.get("dilations", [1, 1])) or len(node.output) > 1 and node.output[1]:
                raise ValueError(f"{node.name}: MaxPool with auto_pad/ceil_mode/dilations/indices not supported")
            k = tuple(a["kernel_shape"])
            layer = Layer("MaxPool", node.name, kernel=k, strides=tuple(a.get("strides", [1, 1])),
                          pads=tuple(a.get("pads", [0, 0, 0, 0])), **common)
        elif node.op_type == "AveragePool":
            if any(p != 0 for p in a.get("pads", [0, 0, 0, 0])) or int(a.get("ceil_mode", 0)):
                raise ValueError(f"{node.name}: AveragePool with pads/ceil_mode not supported")
            k = tuple(a["kernel_shape"])
            layer = Layer("AveragePool", node.name, kernel=k, strides=tuple(a.get("strides", k)), **common)
        elif node.op_type == "GlobalAveragePool":
            layer = Layer("GlobalAveragePool", node.name, **common)
        elif node.op_type == "Add":
            if len(data_inputs) != 2:
                raise ValueError(f"{node.name}: only Add of two activations (residual) is supported")
            layer = Layer("Add", node.name, **common)
        elif node.op_type == "Concat":
            layer = Layer("Concat", node.name, axis=int(a["axis"]), **common)
        elif node.op_type == "Flatten":
            layer = Layer("Flatten", node.name, axis=int(a.get("axis", 1)), **common)
        elif node.op_type == "Reshape":
            layer = Layer("Reshape", node.name, shape=[int(s) for s in consts[node.input[1]]], **common)
        elif node.op_type == "Softmax":
            layer = Layer("Softmax", node.name, axis=int(a.get("axis", -1)), **common)
        else:
            raise ValueError(f"node {node.name}: operator {node.op_type} is not supported by the reference "
                             f"(supported: Conv, BatchNormalization after Conv, Relu, MaxPool, AveragePool, "
                             f"GlobalAveragePool, Add, Concat, Flatten, Reshape, Gemm, Softmax)")
        if layer.op not in ("Add", "Concat") and len(data_inputs) != 1:
            raise ValueError(f"node {node.name} ({node.op_type}): expected one data input, got {data_inputs}")
        layers.append(layer)
        by_output[layer.output] = layer
    if not layers or layers[-1].op != "Softmax":
        raise ValueError("the reference expects the graph to end with Softmax")
    if any(l.op == "Softmax" for l in layers[:-1]):
        raise ValueError("Softmax only allowed as the last node")
    net = layers[:-1]
    for layer in net:
        layer.graph_input = graph_inputs[0]
    return net, model


# ------------------------------------------------------------------------------------------------
# forward
# ------------------------------------------------------------------------------------------------
def conv_fn(layer):
    t, l, b_, r = layer.pads
    def f(x, w):
        if (t, l) != (b_, r):
            x = F.pad(x, (l, r, t, b_))
            pad = 0
        else:
            pad = (t, l)
        return F.conv2d(x, w, None, layer.strides, pad, layer.dilations, layer.group)
    return f


def linear_fn(layer):
    return conv_fn(layer) if layer.op == "Conv" else (lambda x, w: F.linear(x, w))


def add_bias(layer, z, b):
    return z + (b.view(1, -1, 1, 1) if layer.op == "Conv" else b.view(1, -1))


def maxpool_forward(layer, x):
    t, l, b_, r = layer.pads
    x = F.pad(x, (l, r, t, b_), value=-float("inf"))
    return F.max_pool2d(x, layer.kernel, layer.strides)


def apply_layer(layer, ins, maxpool=None):
    x = ins[0]
    if layer.op in LINEAR_OPS:
        return add_bias(layer, linear_fn(layer)(x, layer.w), layer.b)
    if layer.op == "Relu":
        return F.relu(x)
    if layer.op == "MaxPool":
        return maxpool(x, layer) if maxpool else maxpool_forward(layer, x)
    if layer.op == "AveragePool":
        return F.avg_pool2d(x, layer.kernel, layer.strides)
    if layer.op == "GlobalAveragePool":
        return x.mean(dim=(2, 3), keepdim=True)
    if layer.op == "Add":
        return ins[0] + ins[1]
    if layer.op == "Concat":
        return torch.cat(ins, dim=layer.axis)
    if layer.op == "Flatten":
        return x.reshape(int(np.prod(x.shape[:layer.axis])), -1)
    if layer.op == "Reshape":
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(layer.shape)]
        return x.reshape(shape)
    raise ValueError(layer.op)


def forward(layers, x, maxpool=None):
    """Returns the logits and every value by name (the graph input included)."""
    values = {layers[0].graph_input: x}
    for layer in layers:
        values[layer.output] = apply_layer(layer, [values[i] for i in layer.inputs], maxpool)
    return values[layers[-1].output], values


# ------------------------------------------------------------------------------------------------
# rules
# ------------------------------------------------------------------------------------------------
def stab(d, eps):
    return d + eps * torch.where(d >= 0, torch.ones_like(d), -torch.ones_like(d))


def rule_group(fn, terms, R, eps, bias=None, layer=None):
    """One Zennit-style rule pass: terms = [(x_t, w_t)]; returns sum_t x_t * grad_t."""
    xs = [xt.detach().clone().requires_grad_(True) for xt, _ in terms]
    outs = [fn(xt, wt) for xt, (_, wt) in zip(xs, terms)]
    z = sum(outs)
    if bias is not None:
        z = add_bias(layer, z, bias)
    s = (R / stab(z.detach(), eps)).detach()
    grads = torch.autograd.grad(sum(o for o in outs), xs, grad_outputs=s)
    return sum(xt.detach() * g for xt, g in zip(xs, grads))


def linear_rule(layer, rule, a, R, w=None, b=None, opts=None):
    fn = linear_fn(layer)
    w = layer.w if w is None else w
    b = layer.b if b is None else b
    pos = lambda v: v.clamp(min=0)
    neg = lambda v: v.clamp(max=0)
    if rule == "epsilon":
        return rule_group(fn, [(a, w)], R, opts["epsilon"], bias=b, layer=layer)
    if rule == "zplus":
        return rule_group(fn, [(pos(a), pos(w)), (neg(a), neg(w))], R, STAB)
    if rule == "alpha2beta1":
        rp = rule_group(fn, [(pos(a), pos(w)), (neg(a), neg(w))], R, STAB)
        rn = rule_group(fn, [(pos(a), neg(w)), (neg(a), pos(w))], R, STAB)
        return ALPHA * rp - BETA * rn
    if rule == "gamma":
        return rule_group(fn, [(a, w + opts["gamma"] * pos(w))], R, STAB)
    if rule == "zbox":
        C = a.shape[1]
        low = torch.as_tensor(opts["low"], dtype=torch.float64).expand(C).reshape(
            [1, C] + [1] * (a.dim() - 2))
        high = torch.as_tensor(opts["high"], dtype=torch.float64).expand(C).reshape(
            [1, C] + [1] * (a.dim() - 2))
        lo = low.expand_as(a).clone()
        hi = high.expand_as(a).clone()
        return rule_group(fn, [(a, w), (-lo, pos(w)), (-hi, neg(w))], R, STAB)
    if rule == "flat":
        return rule_group(fn, [(torch.ones_like(a), torch.ones_like(w))], R, STAB)
    if rule == "wsquare":
        return rule_group(fn, [(torch.ones_like(a), w * w)], R, STAB)
    raise ValueError(rule)


def maxpool_wta(layer, a, R):
    """Winner-take-all: each window's max element(s) get the output's relevance (ties share equally)."""
    a = a.detach().numpy()
    R = R.detach().numpy()
    N, C, H, W = a.shape
    kh, kw = layer.kernel
    sh, sw = layer.strides
    t, l, _, _ = layer.pads
    _, _, OH, OW = R.shape
    Rin = np.zeros_like(a)
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                h0, h1 = max(oh * sh - t, 0), min(oh * sh - t + kh, H)
                for ow in range(OW):
                    w0, w1 = max(ow * sw - l, 0), min(ow * sw - l + kw, W)
                    win = a[n, c, h0:h1, w0:w1]
                    mask = win == win.max()
                    Rin[n, c, h0:h1, w0:w1] += mask * (R[n, c, oh, ow] / mask.sum())
    return torch.from_numpy(Rin)


COMPOSITES = {
    # name: (first, other conv, dense); "first" rule given per op type of the first linear layer
    "paper":             ({"Conv": "zbox", "Gemm": "zbox"}, "zplus", "zplus"),
    "epsilon":           ({"Conv": "epsilon", "Gemm": "epsilon"}, "epsilon", "epsilon"),
    "epsilon-plus":      ({"Conv": "zplus", "Gemm": "epsilon"}, "zplus", "epsilon"),
    "epsilon-gamma-box": ({"Conv": "zbox", "Gemm": "zbox"}, "gamma", "epsilon"),
    "epsilon-plus-flat": ({"Conv": "flat", "Gemm": "flat"}, "zplus", "epsilon"),
    "alpha2-beta1":      ({"Conv": "alpha2beta1", "Gemm": "epsilon"}, "alpha2beta1", "epsilon"),
}


def rule_for(composite, layers, idx):
    first_idx = next(i for i, l in enumerate(layers) if l.op in LINEAR_OPS)
    first, conv, dense = COMPOSITES[composite]
    if idx == first_idx:
        return first[layers[idx].op]
    return conv if layers[idx].op == "Conv" else dense


def logit_layer_index(layers):
    """Walk back from the logits through single-input ops to the linear layer (CLRP2)."""
    by_output = {l.output: i for i, l in enumerate(layers)}
    i = len(layers) - 1
    while layers[i].op not in LINEAR_OPS:
        if len(layers[i].inputs) != 1 or layers[i].inputs[0] not in by_output:
            raise ValueError("no linear layer reached from the logits through single-input ops")
        i = by_output[layers[i].inputs[0]]
    return i


NORM_STAB = 1e-6     # average pools and residual Adds share in proportion, stabiliser 1e-6 (DESIGN)


def norm_rule(fn, ins, R):
    """Proportional sharing: R_i = x_i * d/dx_i [sum fn(x) * R / stab(fn(x))] for every input."""
    xs = [x.detach().clone().requires_grad_(True) for x in ins]
    z = fn(*xs)
    s = (R / stab(z.detach(), NORM_STAB)).detach()
    grads = torch.autograd.grad(z, xs, grad_outputs=s)
    return [x.detach() * g for x, g in zip(xs, grads)]


def lrp(layers, acts, seed, composite, opts, negate_row=None):
    """Backward walk from a seed at the logits over the graph in reverse order; relevance of a value
    read by several nodes is summed. negate_row=j negates row j of the logit layer (CLRP2)."""
    R = {layers[-1].output: seed}
    li = logit_layer_index(layers)
    def give(name, r):
        R[name] = R[name] + r if name in R else r
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if layer.output not in R:
            continue
        Ro = R.pop(layer.output)
        ins = [acts[n] for n in layer.inputs]
        a = ins[0]
        if layer.op in LINEAR_OPS:
            w, b = layer.w, layer.b
            if negate_row is not None and i == li:
                w, b = w.clone(), b.clone()
                w[negate_row] = -w[negate_row]
                b[negate_row] = -b[negate_row]
            give(layer.inputs[0], linear_rule(layer, rule_for(composite, layers, i), a, Ro, w, b, opts))
        elif layer.op == "Relu":
            give(layer.inputs[0], Ro)
        elif layer.op == "MaxPool":
            give(layer.inputs[0], maxpool_wta(layer, a, Ro))
        elif layer.op in ("AveragePool", "GlobalAveragePool", "Add"):
            for name, r in zip(layer.inputs, norm_rule(lambda *xs: apply_layer(layer, list(xs)), ins, Ro)):
                give(name, r)
        elif layer.op == "Concat":
            sizes = [x.shape[layer.axis] for x in ins]
            for name, r in zip(layer.inputs, torch.split(Ro, sizes, dim=layer.axis)):
                give(name, r)
        elif layer.op in ("Flatten", "Reshape"):
            give(layer.inputs[0], Ro.reshape(a.shape))
    return R[layers[0].graph_input]


class MaxPoolSharedTies(torch.autograd.Function):
    """MaxPool whose backward follows DESIGN's convention (the max element(s) of each window get the
    output's gradient, ties share equally); torch's own backward sends it to the first index only."""
    @staticmethod
    def forward(ctx, a, layer):
        ctx.save_for_backward(a)
        ctx.layer = layer
        return maxpool_forward(layer, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return maxpool_wta(ctx.layer, a, g), None


def gradient(layers, x, j, shared_ties=True):
    """dz_j/dx by autograd through the float64 net. MaxPool windows with tied maxima (uniform background)
    make the gradient ambiguous; shared_ties=True uses DESIGN's tie rule, False torch's first index."""
    xg = x.detach().clone().requires_grad_(True)
    z, _ = forward(layers, xg, maxpool=MaxPoolSharedTies.apply if shared_ties else None)
    (g,) = torch.autograd.grad(z[0, j], xg)
    return g


def count_tied_windows(layers, acts):
    out = []
    for layer in layers:
        if layer.op != "MaxPool":
            continue
        a = acts[layer.inputs[0]]
        y = maxpool_forward(layer, a)
        kh, kw = layer.kernel
        t, l, b_, r = layer.pads
        ap = F.pad(a, (l, r, t, b_), value=-float("inf"))
        win = F.unfold(ap.reshape(-1, 1, *ap.shape[2:]), layer.kernel, stride=layer.strides)  # [N*C, k, L]
        ties = (win == y.reshape(y.shape[0] * y.shape[1], 1, -1)).sum(1) > 1
        pos = ties & (y.reshape(y.shape[0] * y.shape[1], -1) > 0)
        out.append((layer.name, int(ties.sum()), int(pos.sum()), y.numel()))
    return out


# ------------------------------------------------------------------------------------------------
# self-test of every rule against explicit dense formulas (DESIGN.md rule table)
# ------------------------------------------------------------------------------------------------
def dense_matrix(layer, in_shape, w):
    """Explicit weight matrix M[out, in] of a bias-free linear layer, from basis vectors."""
    fn = linear_fn(layer)
    n = int(np.prod(in_shape))
    eye = torch.eye(n, dtype=torch.float64).reshape(n, *in_shape)
    return fn(eye, w).reshape(n, -1).t()


def explicit_rule(rule, layer, a, R, opts):
    in_shape = a.shape[1:]
    av = a.reshape(-1)
    Rv = R.reshape(-1)
    M = dense_matrix(layer, in_shape, layer.w)
    Mp, Mn = dense_matrix(layer, in_shape, layer.w.clamp(min=0)), dense_matrix(layer, in_shape, layer.w.clamp(max=0))
    C = in_shape[0]
    per_elem = lambda v: torch.as_tensor(v, dtype=torch.float64).expand(C).reshape([C] + [1] * (len(in_shape) - 1)).expand(in_shape).reshape(-1)
    if layer.op == "Conv":
        bias = layer.b.view(-1, 1).expand(layer.w.shape[0], R.numel() // layer.w.shape[0]).reshape(-1)
    else:
        bias = layer.b
    def ratio(num, eps):                                  # num[out, in]
        den = num.sum(1)
        return (num / stab(den, eps).unsqueeze(1) * Rv.unsqueeze(1)).sum(0)
    contrib = M * av.unsqueeze(0)
    if rule == "epsilon":
        den = contrib.sum(1) + bias
        return ((contrib / stab(den, opts["epsilon"]).unsqueeze(1)) * Rv.unsqueeze(1)).sum(0)
    if rule == "zplus":
        return ratio(contrib.clamp(min=0), STAB)
    if rule == "alpha2beta1":
        return ALPHA * ratio(contrib.clamp(min=0), STAB) - BETA * ratio(contrib.clamp(max=0), STAB)
    if rule == "gamma":
        return ratio((M + opts["gamma"] * Mp) * av.unsqueeze(0), STAB)
    if rule == "zbox":
        lo, hi = per_elem(opts["low"]), per_elem(opts["high"])
        return ratio(contrib - Mp * lo.unsqueeze(0) - Mn * hi.unsqueeze(0), STAB)
    if rule == "wsquare":
        return ratio(M * M, STAB)
    if rule == "flat":
        return ratio((M != 0).double(), STAB)             # 1 / #positions inside the input
    raise ValueError(rule)


def selftest_rules(opts):
    g = torch.Generator().manual_seed(1)
    rnd = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    cases = [
        (Layer("Gemm", "gemm", w=rnd(4, 7), b=rnd(4)), rnd(1, 7)),
        (Layer("Conv", "conv", w=rnd(3, 2, 3, 3), b=rnd(3), strides=(1, 1), pads=(1, 1, 1, 1),
               dilations=(1, 1), group=1), rnd(1, 2, 5, 5)),
        (Layer("Conv", "conv-s2", w=rnd(4, 2, 3, 3), b=rnd(4), strides=(2, 2), pads=(0, 1, 1, 0),
               dilations=(1, 1), group=1), rnd(1, 2, 6, 6)),
    ]
    worst = 0.0
    for layer, a in cases:
        y = add_bias(layer, linear_fn(layer)(a, layer.w), layer.b)
        R = rnd(*y.shape)
        for rule in ("epsilon", "zplus", "alpha2beta1", "gamma", "zbox", "wsquare", "flat"):
            got = linear_rule(layer, rule, a, R, opts=opts).reshape(-1)
            want = explicit_rule(rule, layer, a, R, opts)
            err = float((got - want).abs().max() / want.abs().max())
            worst = max(worst, err)
            if err > 1e-10:
                raise AssertionError(f"rule self-test failed: {layer.name} {rule}: relative error {err:.2e}")
    return worst


def normalised_sum(R):
    s = float(R.sum())
    return R / (s if abs(s) >= 1e-12 else 1.0)


def clrp_map(R, Rd):
    return torch.clamp(normalised_sum(R) - normalised_sum(Rd), min=0)


# ------------------------------------------------------------------------------------------------
def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = struct.unpack(">I", data[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser(description="float64 LRP/CLRP reference, writes test fixtures")
    ap.add_argument("--model", default="models/fashion-vgg.onnx")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--index", type=int, default=0, help="Fashion-MNIST test image index")
    ap.add_argument("--no-variants", action="store_true", help="skip the non-default epsilon/gamma fixtures")
    ap.add_argument("--out", default="Tests/Clrp.Onnx.Tests/Fixtures/reference")
    ap.add_argument("--epsilon", type=float, default=EPSILON)
    ap.add_argument("--gamma", type=float, default=GAMMA)
    ap.add_argument("--check-accuracy", action="store_true",
                    help="also classify the 10k test images with the float64 rebuild")
    args = ap.parse_args()
    torch.set_num_threads(1)

    layers, model = load_onnx(args.model)
    print("layers:", " ".join(l.op for l in layers), "| Softmax (logits = its input)")
    low = (0.0 - MEAN) / STD
    high = (1.0 - MEAN) / STD
    opts = {"epsilon": args.epsilon, "gamma": args.gamma, "low": low, "high": high}

    images = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"))
    x32 = ((images[args.index].astype(np.float32) / 255.0 - MEAN) / STD)[None, None].astype(np.float32)
    x = torch.from_numpy(x32.astype(np.float64))

    with torch.no_grad():
        z, acts = forward(layers, x)
    p = torch.softmax(z, dim=1)
    K = z.shape[1]
    order = torch.argsort(z[0], descending=True).tolist()
    targets = order[:2]
    np.set_printoptions(precision=6, suppress=True, linewidth=120)
    print(f"test image {args.index}: label {int(labels[args.index])}; logits {z[0].numpy()}")
    print(f"probabilities {p[0].numpy()}; targets (predicted, second) {targets}")
    print(f"rule self-test vs explicit dense formulas (Gemm, Conv pad 1, Conv stride 2 asym. pads): "
          f"max relative error {selftest_rules(opts):.1e}")
    for name, ties, pos, total in count_tied_windows(layers, acts):
        print(f"MaxPool {name}: {ties}/{total} windows with tied maxima, {pos} of them with a positive max "
              f"(ties share relevance and gradient equally)")

    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "input.npy"), x32)
    np.save(os.path.join(args.out, "logits.npy"), z.numpy().astype(np.float32))

    with open(args.model, "rb") as f:
        model_sha = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        "generator": "scripts/reference/lrp_reference.py",
        "model": os.path.relpath(args.model),
        "model_sha256": model_sha,
        "image": f"Fashion-MNIST t10k index {args.index} (label {int(labels[args.index])}), "
                 f"x = (pixel/255 - {MEAN}) / {STD}",
        "input": "input.npy",
        "logits": "logits.npy",
        "predicted": targets[0],
        "stabiliser_other_rules": STAB,
        "alpha": ALPHA, "beta": BETA,
        "maxpool_ties": "shared equally (LRP walks and the gradient); kind 'torch-maxpool-first-index' "
                        "fixtures route the gradient to torch's first maximal index instead",
        "kinds": {"map": "the method's final map [C,H,W]", "target": "raw target relevance R",
                  "dual": "raw dual relevance R-bar",
                  "torch-maxpool-first-index": "informative only: plain torch autograd, MaxPool ties unshared"},
        "fixtures": [],
    }
    summary = []

    def save(name, arr, method, composite, target, dual_seed=None, kind="map", epsilon=None, gamma=None):
        fname = f"{name}.npy"
        np.save(os.path.join(args.out, fname), arr[0].detach().numpy().astype(np.float32))
        box = composite in ("paper", "epsilon-gamma-box")
        lrp_family = composite is not None
        manifest["fixtures"].append({
            "file": fname, "method": method, "rules": composite, "target": target, "kind": kind,
            "epsilon": (epsilon or args.epsilon) if lrp_family else None,
            "gamma": (gamma or args.gamma) if lrp_family else None,
            "low": low if box else None, "high": high if box else None,
            "dual_seed": dual_seed,
        })

    def seed_lrp(j):
        s = torch.zeros_like(z)
        s[0, j] = abs(float(z[0, j]))
        return s

    for j in targets:
        zj = abs(float(z[0, j]))
        # --- LRP, all composites
        for comp in COMPOSITES:
            R = lrp(layers, acts, seed_lrp(j), comp, opts)
            save(f"lrp-{comp}-c{j}", R, "lrp", comp, j)
            summary.append((f"lrp-{comp}-c{j}", zj, float(R.sum()), float(R.sum()) / zj))
            if comp == "paper":
                print(f"conservation lrp-paper-c{j}: sum R_in = {float(R.sum()):.12f}, |z_j| = {zj:.12f}, "
                      f"relative error {abs(float(R.sum()) - zj) / zj:.1e}")
        # --- non-default epsilon and gamma: guards their plumbing (at eps = 1e-6 the epsilon and LRP-0 maps
        # differ by less than the tests' tolerance, so a composite that ignored the user's value would pass)
        for comp, eps, gam, tag in ([] if args.no_variants else VARIANTS):
            o = dict(opts, epsilon=eps, gamma=gam)
            R = lrp(layers, acts, seed_lrp(j), comp, o)
            save(f"lrp-{comp}-c{j}-{tag}", R, "lrp", comp, j, epsilon=eps, gamma=gam)
            sd = torch.full_like(z, zj / (K - 1))
            sd[0, j] = 0.0
            save(f"clrp1-{comp}-c{j}-{tag}", clrp_map(R, lrp(layers, acts, sd, comp, o)), "clrp1", comp, j,
                 dual_seed="uniform", epsilon=eps, gamma=gam)
            R0 = lrp(layers, acts, seed_lrp(j), comp, opts)
            print(f"class {j}: lrp-{comp} at {tag} vs defaults: relative L2 difference "
                  f"{float((R - R0).norm() / R0.norm()):.3f}")
        # --- CLRP1 / CLRP2 / SGLRP
        for comp in ("paper", "epsilon-plus"):
            R = lrp(layers, acts, seed_lrp(j), comp, opts)
            # CLRP1, uniform dual seed |z_j|/(K-1)
            sd = torch.full_like(z, zj / (K - 1))
            sd[0, j] = 0.0
            Rd = lrp(layers, acts, sd, comp, opts)
            M = clrp_map(R, Rd)
            name = f"clrp1-{comp}-c{j}"
            save(name, M, "clrp1", comp, j, dual_seed="uniform")
            summary.append((name, float(sd.sum()), float(Rd.sum()), float(M.sum())))
            if comp == "paper":
                save(name + "-target", R, "clrp1", comp, j, dual_seed="uniform", kind="target")
                save(name + "-dual", Rd, "clrp1", comp, j, dual_seed="uniform", kind="dual")
                # DualSeed.PerClassLogit: |z_c| at c != j
                sl = z.abs().clone()
                sl[0, j] = 0.0
                Rl = lrp(layers, acts, sl, comp, opts)
                Ml = clrp_map(R, Rl)
                save(f"clrp1-logits-{comp}-c{j}", Ml, "clrp1", comp, j, dual_seed="logits")
                summary.append((f"clrp1-logits-{comp}-c{j}", float(sl.sum()), float(Rl.sum()), float(Ml.sum())))
            # CLRP2: same seed, logit layer row j negated
            Rd2 = lrp(layers, acts, seed_lrp(j), comp, opts, negate_row=j)
            M2 = clrp_map(R, Rd2)
            name = f"clrp2-{comp}-c{j}"
            save(name, M2, "clrp2", comp, j)
            summary.append((name, zj, float(Rd2.sum()), float(M2.sum())))
            if comp == "paper":
                save(name + "-target", R, "clrp2", comp, j, kind="target")
                save(name + "-dual", Rd2, "clrp2", comp, j, kind="dual")
            # SGLRP: seed = d softmax_j / dz
            ss = -p[0, j] * p.clone()
            ss[0, j] = p[0, j] * (1 - p[0, j])
            Rs = lrp(layers, acts, ss, comp, opts)
            save(f"sglrp-{comp}-c{j}", Rs, "sglrp", comp, j)
            summary.append((f"sglrp-{comp}-c{j}", float(ss.sum()), float(Rs.sum()), float(Rs.abs().sum())))
        # --- baselines
        g = gradient(layers, x, j)
        save(f"gradient-c{j}", g, "gradient", None, j)
        save(f"gradient-input-c{j}", x * g, "gradient-input", None, j)
        Reps = lrp(layers, acts, seed_lrp(j), "epsilon", dict(opts, epsilon=1e-12))
        print(f"class {j}: LRP-0 walk (epsilon composite, eps 1e-12) vs gradient*input by autograd: max |diff| "
              f"{float((Reps - x * g).abs().max()):.1e} (max |x*grad| {float((x * g).abs().max()):.3f})")
        g_first = gradient(layers, x, j, shared_ties=False)
        save(f"gradient-c{j}-torch-first-index", g_first, "gradient", None, j, kind="torch-maxpool-first-index")
        print(f"class {j}: gradient, tied MaxPool windows shared vs torch first-index: relative L2 difference "
              f"{float((g - g_first).norm() / g.norm()):.3f}")
        summary.append((f"gradient-input-c{j}", float(z[0, j]), float((x * g).sum()), float(g.abs().sum())))

        # finite-difference check of the autograd gradient on a jittered copy of the input (no ties there)
        gen = torch.Generator().manual_seed(j)
        xj = x + 1e-3 * torch.randn(x.shape, generator=gen, dtype=torch.float64)
        gj = gradient(layers, xj, j)
        err, h = 0.0, 1e-6
        for pix in torch.randperm(x.numel(), generator=gen)[:32].tolist():
            xp, xm = xj.clone().reshape(-1), xj.clone().reshape(-1)
            xp[pix] += h
            xm[pix] -= h
            with torch.no_grad():
                fd = (forward(layers, xp.reshape(x.shape))[0][0, j] - forward(layers, xm.reshape(x.shape))[0][0, j]) / (2 * h)
            err = max(err, abs(float(fd) - float(gj.reshape(-1)[pix])))
        print(f"class {j}: gradient vs central differences (jittered input, 32 pixels): max |diff| = {err:.1e} "
              f"(max |grad| {float(gj.abs().max()):.3f})")

    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    print()
    print(f"{'fixture':32s} {'seed sum':>12s} {'sum R_in':>12s} {'ratio / note':>12s}")
    for name, a, b, c in summary:
        print(f"{name:32s} {a:12.6f} {b:12.6f} {c:12.6f}")
    print("(lrp rows: ratio = sum R_in / |z_j|, 1 = conservative; clrp rows: seed sum of the dual, sum of R_dual, "
          "sum of the CLRP map; sglrp: seed sum, sum R, sum |R|; gradient-input: z_j, sum x*grad, sum |grad|)")
    print(f"z^B bounds: low {low:.4f}, high {high:.4f}; wrote {len(manifest['fixtures'])} maps + input/logits "
          f"to {args.out}")

    if args.check_accuracy:
        xs = ((images.astype(np.float32) / 255.0 - MEAN) / STD)[:, None].astype(np.float64)
        correct = 0
        with torch.no_grad():
            for i in range(0, len(xs), 500):
                zz, _ = forward(layers, torch.from_numpy(xs[i:i + 500]))
                correct += int((zz.argmax(1).numpy() == labels[i:i + 500]).sum())
        print(f"float64 rebuild, test accuracy on {len(xs)} images: {correct / len(xs):.4f}")


if __name__ == "__main__":
    main()

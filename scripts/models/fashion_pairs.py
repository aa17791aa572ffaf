#!/usr/bin/python3
"""Two-object Fashion-MNIST scenes: the data behind the fashion-pair-* models and their evaluation set.

A scene is a 64x64 8-bit grey canvas with a light noise background and two Fashion-MNIST items of
DIFFERENT classes pasted at random, non-overlapping positions:

  background   per scene an amplitude A ~ U{0..BG_MAX}; every pixel ~ U{0..A} (uint8)
  item a, b    28x28 Fashion-MNIST images; class(b) != class(a); pasted as max(background, item)
  boxes        the items' exact 28x28 boxes (x0, y0, x1, y1), x1 = x0 + 28, y1 = y0 + 28 (exclusive),
               x0, y0 in 0..36; the two boxes do not overlap (they may touch)
  labels       the two classes (multi-label target: 1 at both, 0 elsewhere)

Everything is drawn from one numpy.random.RandomState(seed) (the legacy generator, whose stream numpy
keeps stable), so a (split, seed, count) triple always gives the same scenes.

Preprocessing for the models (OUTSIDE the ONNX graphs):
    x = (pixel/255 - MEAN) / STD        MEAN = 0.1417, STD = 0.2478
MEAN/STD were measured on 20,000 training scenes (split "train", seed TRAIN_SEED) with
`/usr/bin/python3 scripts/models/fashion_pairs.py --stats`; the z^B box bounds that follow are
LOW = (0 - MEAN)/STD and HIGH = (1 - MEAN)/STD.

Also a small command line:
    /usr/bin/python3 scripts/models/fashion_pairs.py --stats          recompute MEAN/STD
    /usr/bin/python3 scripts/models/fashion_pairs.py --write-eval     write models/data/fashion-pairs-test/
    /usr/bin/python3 scripts/models/fashion_pairs.py --preview P.png  an 8x4 grid of test scenes
"""
import argparse
import csv
import gzip
import hashlib
import os
import struct
import sys

import numpy as np

CANVAS = 64
ITEM = 28
BG_MAX = 40
MEAN = 0.1417
STD = 0.2478
LOW = (0.0 - MEAN) / STD
HIGH = (1.0 - MEAN) / STD
TRAIN_SEED = 20180102      # training scenes (Fashion-MNIST train split)
VAL_SEED = 20180103        # held-out scenes for reporting accuracy (Fashion-MNIST test split)
EVAL_SEED = 20181202       # the committed evaluation set (Fashion-MNIST test split)
EVAL_COUNT = 1000
CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    if (magic >> 8) & 0xFF != 0x08:
        raise ValueError(f"{path}: expected unsigned byte IDX data")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(split, data_dir=DEFAULT_DATA):
    """split: "train" (60,000 images) or "test" (10,000). Returns (uint8 [n,28,28], int64 [n])."""
    prefix = {"train": "train", "test": "t10k"}[split]
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return x, y


def _boxes_overlap(ax, ay, bx, by):
    return ax < bx + ITEM and bx < ax + ITEM and ay < by + ITEM and by < ay + ITEM


def make_scene(rng, images, labels, pool=None):
    """One scene from the RandomState rng. pool: indices of images to draw from (default all).
    Returns (uint8 [64,64] canvas, (class_a, box_a), (class_b, box_b), (index_a, index_b))."""
    n = len(images) if pool is None else len(pool)
    ia = int(rng.randint(n))
    ia = ia if pool is None else int(pool[ia])
    while True:
        ib = int(rng.randint(n))
        ib = ib if pool is None else int(pool[ib])
        if labels[ib] != labels[ia]:
            break
    span = CANVAS - ITEM + 1
    while True:  # both positions drawn together, rejected while the boxes overlap (about 1 in 4 accepted)
        ax, ay, bx, by = (int(v) for v in rng.randint(span, size=4))
        if not _boxes_overlap(ax, ay, bx, by):
            break
    amp = int(rng.randint(BG_MAX + 1))
    canvas = rng.randint(amp + 1, size=(CANVAS, CANVAS)).astype(np.uint8)
    for (x, y, i) in ((ax, ay, ia), (bx, by, ib)):
        region = canvas[y:y + ITEM, x:x + ITEM]
        np.maximum(region, images[i], out=region)
    box_a = (ax, ay, ax + ITEM, ay + ITEM)
    box_b = (bx, by, bx + ITEM, by + ITEM)
    return canvas, (int(labels[ia]), box_a), (int(labels[ib]), box_b), (ia, ib)


def make_scenes(images, labels, count, seed, pool=None):
    """count scenes from RandomState(seed). Returns (uint8 [count,64,64], int64 [count,2] classes,
    int64 [count,2,4] boxes (x0,y0,x1,y1), int64 [count,2] source indices)."""
    rng = np.random.RandomState(seed)
    xs = np.empty((count, CANVAS, CANVAS), np.uint8)
    cls = np.empty((count, 2), np.int64)
    boxes = np.empty((count, 2, 4), np.int64)
    src = np.empty((count, 2), np.int64)
    for k in range(count):
        canvas, (ca, ba), (cb, bb), (ia, ib) = make_scene(rng, images, labels, pool)
        xs[k] = canvas
        cls[k] = (ca, cb)
        boxes[k, 0], boxes[k, 1] = ba, bb
        src[k] = (ia, ib)
    return xs, cls, boxes, src


def normalise(pixels_u8):
    """uint8 [n, 64, 64] -> float32 [n, 1, 64, 64] model input (x - MEAN) / STD on pixel/255."""
    x = pixels_u8.astype(np.float32)[:, None, :, :] / np.float32(255.0)
    return (x - np.float32(MEAN)) / np.float32(STD)


def multi_hot(cls):
    t = np.zeros((len(cls), 10), np.float32)
    t[np.arange(len(cls)), cls[:, 0]] = 1.0
    t[np.arange(len(cls)), cls[:, 1]] = 1.0
    return t


def top2_exact(logits, cls):
    """Fraction of scenes whose two highest logits are exactly the two present classes."""
    top2 = np.argsort(-logits, axis=1)[:, :2]
    return float(np.mean([set(t.tolist()) == set(c.tolist()) for t, c in zip(top2, cls)]))


# ---- standard train / validation data for the three model scripts --------------------------------

def training_scenes(count, data_dir=DEFAULT_DATA, seed=TRAIN_SEED):
    x, y = load_split("train", data_dir)
    return make_scenes(x, y, count, seed)


def validation_scenes(count=5000, data_dir=DEFAULT_DATA, seed=VAL_SEED):
    x, y = load_split("test", data_dir)
    return make_scenes(x, y, count, seed)


def eval_scenes(data_dir=DEFAULT_DATA):
    x, y = load_split("test", data_dir)
    return make_scenes(x, y, EVAL_COUNT, EVAL_SEED)


# ---- the committed evaluation set ----------------------------------------------------------------

def write_npy(path, arr):
    """np.save, but with the header padded so the data starts at byte 128 (npy format 1.0)."""
    np.save(path, np.ascontiguousarray(arr))
    with open(path, "rb") as f:
        head = f.read(10)
    assert head[:6] == b"\x93NUMPY" and head[6] == 1
    hlen = struct.unpack("<H", head[8:10])[0]
    assert 10 + hlen == 128, f"{path}: npy data offset {10 + hlen}, expected 128"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_eval(out_dir, data_dir=DEFAULT_DATA, pngs=4):
    """images.u8.npy (uint8 [N,1,64,64], data at byte 128), scenes.csv, and the first scenes as PNG."""
    os.makedirs(out_dir, exist_ok=True)
    xs, cls, boxes, src = eval_scenes(data_dir)
    write_npy(os.path.join(out_dir, "images.u8.npy"), xs[:, None, :, :])
    with open(os.path.join(out_dir, "scenes.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["index", "class_a", "x0_a", "y0_a", "x1_a", "y1_a",
                    "class_b", "x0_b", "y0_b", "x1_b", "y1_b", "source_a", "source_b"])
        for k in range(len(xs)):
            w.writerow([k, cls[k, 0], *boxes[k, 0], cls[k, 1], *boxes[k, 1], src[k, 0], src[k, 1]])
    from PIL import Image
    for k in range(pngs):
        name = f"scene-{k:04d}-{scene_name(cls[k])}.png"
        Image.fromarray(xs[k], mode="L").save(os.path.join(out_dir, name), optimize=True)
    for name in sorted(os.listdir(out_dir)):
        p = os.path.join(out_dir, name)
        if os.path.isfile(p):
            print(f"{p}: {os.path.getsize(p)} bytes, sha256 {sha256(p)}")


def scene_name(pair):
    return "-".join(CLASSES[int(c)].replace("/", "-") for c in pair)


# ---- shared training / export for the fashion-pair-* model scripts -------------------------------

def add_training_args(ap, epochs, scenes, lr, batch=64):
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out-dir", default="models")
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--scenes", type=int, default=scenes,
                    help="training scenes per epoch (fresh scenes each epoch, from the train split)")
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument("--lr", type=float, default=lr, help="Adam learning rate, decayed linearly to 0")
    ap.add_argument("--seed", type=int, default=20180101, help="torch seed (weights, batch order)")
    ap.add_argument("--val-scenes", type=int, default=5000)


def predict(net, x, batch=250):
    import torch
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(net(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(out)


def train_multilabel(net, args):
    """Multi-label training (BCEWithLogits on the two present classes), Adam with a linear decay of the
    learning rate to 0, one CPU thread, fresh scenes each epoch (seeds TRAIN_SEED + epoch)."""
    import time
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    xtr, ytr = load_split("train", args.data)
    steps_per_epoch = (args.scenes + args.batch - 1) // args.batch
    total_steps = steps_per_epoch * args.epochs
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: max(0.0, 1.0 - k / total_steps))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    t0, c0 = time.time(), time.process_time()
    for epoch in range(args.epochs):
        xs, cls, _, _ = make_scenes(xtr, ytr, args.scenes, TRAIN_SEED + epoch)
        x = normalise(xs)
        t = multi_hot(cls)
        perm = torch.randperm(len(x)).numpy()
        net.train()
        total, hits, seen = 0.0, 0, 0
        for i in range(0, len(x), args.batch):
            idx = perm[i:i + args.batch]
            xb, tb = torch.from_numpy(x[idx]), torch.from_numpy(t[idx])
            opt.zero_grad()
            logits = net(xb)
            loss = loss_fn(logits, tb)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
            hits += int(top2_exact(logits.detach().numpy(), cls[idx]) * len(idx) + 0.5)
            seen += len(idx)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / seen:.4f}, train top-2 exact "
              f"{hits / seen:.4f} ({time.time() - t0:.0f}s wall, {time.process_time() - c0:.0f}s CPU)", flush=True)
    return time.process_time() - c0


def evaluate_and_export(net, name, args, ops_required=(), ops_forbidden=(), export_kwargs=None):
    """Reports top-2-exact accuracy on held-out test-split scenes and on the evaluation set, exports
    models/<name>.onnx (opset 13, input "input" [N,1,64,64], output "logits" [N,10]) and checks the graph."""
    import torch
    import onnx
    net.eval()
    xv, cv, _, _ = validation_scenes(args.val_scenes, args.data)
    acc_val = top2_exact(predict(net, normalise(xv)), cv)
    xe, ce, _, _ = eval_scenes(args.data)
    acc_eval = top2_exact(predict(net, normalise(xe)), ce)
    print(f"top-2 exact: {acc_val:.4f} on {args.val_scenes} held-out test-split scenes (seed {VAL_SEED}), "
          f"{acc_eval:.4f} on the {EVAL_COUNT}-scene evaluation set (seed {EVAL_SEED})")
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f"{name}.onnx")
    dummy = torch.from_numpy(normalise(xe[:1]))
    kwargs = dict(do_constant_folding=True)
    kwargs.update(export_kwargs or {})
    torch.onnx.export(net, dummy, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **kwargs)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    print("onnx ops:", " ".join(ops))
    for op in ops_required:
        if op not in ops:
            sys.exit(f"exported graph has no {op} node")
    for op in ops_forbidden:
        if op in ops:
            sys.exit(f"exported graph has a {op} node")
    size = os.path.getsize(path)
    print(f"{path}: {size} bytes, sha256 {sha256(path)}")
    if size > 5 * 1024 * 1024:
        sys.exit(f"{path} is larger than 5 MB")
    with torch.no_grad():
        logits = net(torch.from_numpy(normalise(xe[:4]))).numpy()
    np.set_printoptions(precision=5, suppress=True)
    for k in range(4):
        top = np.argsort(-logits[k])[:2]
        print(f"eval scene {k} ({scene_name(ce[k])}): top-2 {scene_name(top)}, logits {logits[k]}")
    print(f"torch {torch.__version__}, onnx {onnx.__version__}")
    return acc_val, acc_eval


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--stats", action="store_true", help="recompute MEAN/STD over 20,000 training scenes")
    ap.add_argument("--write-eval", action="store_true", help="write the evaluation set")
    ap.add_argument("--out-dir", default="models/data/fashion-pairs-test")
    ap.add_argument("--preview", default=None, help="write an 8x4 preview grid PNG of evaluation scenes")
    args = ap.parse_args()
    if args.stats:
        xs, _, _, _ = training_scenes(20000, args.data)
        v = xs.astype(np.float64) / 255.0
        print(f"mean {v.mean():.6f} std {v.std():.6f} (recorded: MEAN {MEAN}, STD {STD}); "
              f"z^B bounds low {LOW:.4f} high {HIGH:.4f}")
    if args.write_eval:
        write_eval(args.out_dir, args.data)
    if args.preview:
        from PIL import Image
        xs, cls, boxes, _ = eval_scenes(args.data)
        grid = np.full((4 * 66, 8 * 66), 255, np.uint8)
        for k in range(32):
            r, c = divmod(k, 8)
            grid[r * 66:r * 66 + 64, c * 66:c * 66 + 64] = xs[k]
        Image.fromarray(grid, mode="L").save(args.preview)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Cut the 64x64 grey face crops that models/emotion.onnx is checked and explained on.

Sources (freely licensed photos shipped by Debian packages; licences in models/samples/faces/README.md):
  astronaut.png     python3-skimage      /usr/lib/python3/dist-packages/skimage/data/astronaut.png
  grace_hopper.jpg  python-matplotlib-data /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg
  chelsea.png       python3-skimage      /usr/lib/python3/dist-packages/skimage/data/chelsea.png (a cat: out of domain)
  dog.jpg           darknet              /usr/share/darknet/data/dog.jpg (a dog's head: out of domain)

Each crop (<name>-64.png): a square box (x0, y0, size) in the original, cut in RGB, resized to 64x64 (PIL bilinear),
turned grey with the preprocessing of @vladmandic/human: grey = 0.2989 R + 0.5870 G + 0.1140 B on [0,1],
stored as an 8-bit grey PNG (round(grey*255)). The model input is then x = (png/255 - 0.5) * 2, i.e.
--mean 0.5 --std 0.5, z^B bounds -1 and +1; it is also written as a float32 .npy [1,1,64,64]
(<name>-64.npy, exactly that x computed from the PNG) so that tools need not decode pictures. The RGB box
itself, before resizing, is kept as <name>-crop.png (for overlays at a higher resolution).
The boxes of the human faces are those of scikit-image's LBP frontal-face cascade
(skimage.feature.Cascade(data.lbp_frontal_face_cascade_filename()).detect_multi_scale(img, 1.2, 1, (40,40),
(400,400))), enlarged 1.2x about their centre (a FER2013-like margin; with the tight cascade box the model
reads Grace Hopper as "surprise" 0.60, with 1.1-1.4x as "neutral"); the animal boxes were picked by hand.

Requirements (Debian): apt-get install python3-pil python3-numpy python3-skimage python-matplotlib-data darknet
Run from the repository root:
    /usr/bin/python3 scripts/emotion/make_faces.py
"""
import argparse
import hashlib
import os

import numpy as np
from PIL import Image

# name: (file, (x0, y0, size) square box, scale about the box centre)
SOURCES = {
    "astronaut": ("/usr/lib/python3/dist-packages/skimage/data/astronaut.png", (187, 62, 97), 1.2),
    "grace-hopper": ("/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg", (168, 113, 205), 1.2),
    "chelsea-cat": ("/usr/lib/python3/dist-packages/skimage/data/chelsea.png", (90, 0, 300), 1.0),
    "dog": ("/usr/share/darknet/data/dog.jpg", (200, 195, 125), 1.0),
}


def scaled_box(box, scale):
    x0, y0, size = box
    s = round(size * scale)
    return (round(x0 + size / 2 - s / 2), round(y0 + size / 2 - s / 2), s)


def crop_rgb(path, box):
    x0, y0, size = box
    return Image.open(path).convert("RGB").crop((x0, y0, x0 + size, y0 + size))


def crop(path, box):
    im = crop_rgb(path, box).resize((64, 64), Image.BILINEAR)
    rgb = np.asarray(im, dtype=np.float64) / 255.0
    grey = 0.2989 * rgb[..., 0] + 0.5870 * rgb[..., 1] + 0.1140 * rgb[..., 2]
    return np.clip(np.round(grey * 255.0), 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default="models/samples/faces")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name, (path, detected, scale) in SOURCES.items():
        box = scaled_box(detected, scale)
        g = crop(path, box)
        png = os.path.join(args.out_dir, f"{name}-64.png")
        Image.fromarray(g, mode="L").save(png, optimize=True)
        x = ((g.astype(np.float32) / np.float32(255.0) - np.float32(0.5)) * np.float32(2.0)).reshape(1, 1, 64, 64)
        npy = os.path.join(args.out_dir, f"{name}-64.npy")
        np.save(npy, x.astype("<f4"))
        rgb = os.path.join(args.out_dir, f"{name}-crop.png")
        crop_rgb(path, box).save(rgb, optimize=True)
        for p in (png, npy, rgb):
            with open(p, "rb") as f:
                print(f"{p}: {os.path.getsize(p)} bytes, sha256 {hashlib.sha256(f.read()).hexdigest()} "
                      f"(from {path}, box x0={box[0]} y0={box[1]} size={box[2]})")


if __name__ == "__main__":
    main()

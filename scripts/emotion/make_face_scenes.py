#!/usr/bin/python3
"""Writes models/data/faces-emotion/: the four committed 64x64 face crops (models/samples/faces/*-64.png) as an
evaluation folder that `clrp eval randomization` reads (images.u8.npy [4,1,64,64] and scenes.csv). Each "scene" is one
crop; class_a / class_b are models/emotion.onnx's top two classes (models/samples/faces/README.md) and both boxes are the
whole image (the randomisation test reads no boxes; the pointing game would be meaningless on this folder).

Run from the repository root:  /usr/bin/python3 scripts/emotion/make_face_scenes.py
"""
import os

import numpy as np
from PIL import Image

FACES = "models/samples/faces"
OUT = "models/data/faces-emotion"
# crop, top class, second class (emotion.onnx: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral)
SCENES = [("astronaut", 3, 6), ("grace-hopper", 6, 0), ("chelsea-cat", 2, 4), ("dog", 0, 4)]


def main():
    os.makedirs(OUT, exist_ok=True)
    images = np.stack([np.asarray(Image.open(f"{FACES}/{name}-64.png").convert("L"), dtype=np.uint8)[None] for name, _, _ in SCENES])
    np.save(f"{OUT}/images.u8.npy", images)
    with open(f"{OUT}/scenes.csv", "w", newline="\n") as f:
        f.write("index,class_a,x0_a,y0_a,x1_a,y1_a,class_b,x0_b,y0_b,x1_b,y1_b,source_a,source_b\n")
        for i, (name, a, b) in enumerate(SCENES):
            f.write(f"{i},{a},0,0,64,64,{b},0,0,64,64,{i},{i}\n")
    print(images.shape, images.dtype)


if __name__ == "__main__":
    main()

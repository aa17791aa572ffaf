// Converts the mini-Xception facial-expression model shipped by @vladmandic/human 3.3.6
// (models/emotion.json + emotion.bin, a TF.js graph model, NHWC, BatchNorm already folded into the convs)
// to an ONNX file (NCHW, explicit pads for TF 'SAME', opset 13).
//
//   cd scripts/emotion && npm ci --ignore-scripts && node convert.mjs [--out ../../models/emotion.onnx]
//
// The TF.js graph (21 nodes) uses only: Placeholder, Const, _FusedConv2D (fused BiasAdd [+ Relu]),
// DepthwiseConv2dNative, MaxPool, AddV2, Relu, Mean (spatial, keep_dims false), Softmax, Identity.
// They map to ONNX: Conv (group 1), Conv (group = channels: depthwise), Relu, MaxPool, Add,
// GlobalAveragePool + Flatten, Softmax. The graph ENDS WITH SOFTMAX, as the original does: its input (the
// Flatten output, named "logits") are the logits LRP/CLRP explain; the graph output is "probabilities".
//
// Weight layouts: TF Conv2D [kh, kw, in, out] -> ONNX [out, in, kh, kw];
//                 TF depthwise [kh, kw, C, mult] -> ONNX [C*mult, 1, kh, kw] (row c*mult + m), group C.
// TF 'SAME': out = ceil(in / stride), total = max((out - 1) * stride + k - in, 0),
//            begin = floor(total / 2), end = total - begin (TF puts the extra cell at the end).
// The input size is fixed (64x64), so every pad is computed statically; the batch is dynamic ("N").
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const modelDir = path.join(here, 'node_modules', '@vladmandic', 'human', 'models');
export const protoPath = path.join(repoRoot, 'Clrp.Onnx', 'Proto', 'onnx.proto');
export const LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/** Reads the TF.js graph model: the JSON topology and a Map name -> {shape, dtype, data (typed array)}. */
export function readTfjsModel(dir = modelDir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'emotion.json'), 'utf8'));
  const weights = new Map();
  for (const group of json.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let off = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`weight ${w.name} is quantized; not supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const bytes = buf.subarray(off, off + 4 * n);
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      let data;
      if (w.dtype === 'float32') data = new Float32Array(ab);
      else if (w.dtype === 'int32') data = new Int32Array(ab);
      else throw new Error(`weight ${w.name}: dtype ${w.dtype} not supported`);
      weights.set(w.name, { shape: w.shape, dtype: w.dtype, data });
      off += 4 * n;
    }
    if (off !== buf.length) throw new Error(`weights manifest covers ${off} of ${buf.length} bytes`);
  }
  return { json, weights };
}

const b64 = (s) => Buffer.from(s, 'base64').toString('latin1');
const listI = (a) => (a?.list?.i ?? []).map(Number);
const str = (a) => (a?.s !== undefined ? b64(a.s) : undefined);

function samePads(size, k, stride) {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, begin: Math.floor(total / 2), end: total - Math.floor(total / 2) };
}

function convGeometry(inShape, kh, kw, strides, padding) {
  // inShape: [C, H, W]
  const [, H, W] = inShape;
  if (padding === 'VALID') {
    return { pads: [0, 0, 0, 0], H: Math.floor((H - kh) / strides[0]) + 1, W: Math.floor((W - kw) / strides[1]) + 1 };
  }
  if (padding !== 'SAME') throw new Error(`padding ${padding} not supported`);
  const ph = samePads(H, kh, strides[0]);
  const pw = samePads(W, kw, strides[1]);
  return { pads: [ph.begin, pw.begin, ph.end, pw.end], H: ph.out, W: pw.out };
}

function transposeConv(w) {
  // [kh, kw, in, out] -> [out, in, kh, kw]
  const [kh, kw, ci, co] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) {
    out[((o * ci + c) * kh + i) * kw + j] = w.data[((i * kw + j) * ci + c) * co + o];
  }
  return { shape: [co, ci, kh, kw], data: out };
}

function transposeDepthwise(w) {
  // [kh, kw, C, mult] -> [C*mult, 1, kh, kw]
  const [kh, kw, C, mult] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < C; c++) for (let m = 0; m < mult; m++) {
    out[((c * mult + m) * kh + i) * kw + j] = w.data[((i * kw + j) * C + c) * mult + m];
  }
  return { shape: [C * mult, 1, kh, kw], data: out };
}

/** Builds the ONNX ModelProto as a plain object (protobufjs fromObject form). */
export function buildOnnx({ json, weights }) {
  const nodes = [];
  const inits = [];
  const shapes = new Map(); // tf name -> [C, H, W]
  const onnxName = new Map(); // tf name -> onnx value name
  let counter = 0;
  const clean = (s) => s.replace(/^StatefulPartitionedCall\/model_1\//, '').replace(/[^A-Za-z0-9_./-]/g, '_');
  const addInit = (name, dims, data) => {
    inits.push({ name, dims, dataType: 1, rawData: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  };
  const attrInts = (name, ints) => ({ name, type: 7, ints });
  const attrInt = (name, i) => ({ name, type: 2, i });

  const graphNodes = json.modelTopology.node;
  let inputName = null;
  let finalOutput = null;
  let logitsTf = null;
  for (const n of graphNodes) {
    const ins = (n.input ?? []).filter((s) => !s.startsWith('^')).map((s) => s.replace(/:0$/, ''));
    const dataFormat = str(n.attr?.data_format);
    if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`${n.name}: data_format ${dataFormat}`);
    const out = clean(n.name);
    switch (n.op) {
      case 'Const':
        break;
      case 'Placeholder': {
        const dims = n.attr.shape.shape.dim.map((d) => Number(d.size));
        if (dims.length !== 4 || dims[3] !== 1) throw new Error(`unexpected input shape ${dims}`);
        inputName = 'input';
        onnxName.set(n.name, inputName);
        shapes.set(n.name, [dims[3], dims[1], dims[2]]);
        break;
      }
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative': {
        const x = ins[0];
        const inShape = shapes.get(x);
        const w = weights.get(ins[1]);
        if (!w) throw new Error(`${n.name}: weight ${ins[1]} not found`);
        const strides = listI(n.attr.strides);
        const dil = listI(n.attr.dilations);
        if (strides[0] !== 1 || strides[3] !== 1 || dil.some((d) => d !== 1)) throw new Error(`${n.name}: strides ${strides} dilations ${dil}`);
        const padding = str(n.attr.padding);
        const [kh, kw] = w.shape;
        const g = convGeometry(inShape, kh, kw, [strides[1], strides[2]], padding);
        const depthwise = n.op === 'DepthwiseConv2dNative';
        const wt = depthwise ? transposeDepthwise(w) : transposeConv(w);
        // name the Conv after its TF layer (the weight's name) where there is one: 'conv2d_1/Conv2D',
        // 'separable_conv2d_1/separable_conv2d' (pointwise), '.../depthwise'; else after the TF node
        const layer = ins[1].endsWith('_weights') ? clean(ins[1]).replace(/_weights$/, '') : out;
        const convName = depthwise ? out : layer;
        const wName = addInit(`${convName}/W`, wt.shape, wt.data);
        const convIns = [onnxName.get(x), wName];
        let relu = false;
        if (!depthwise) {
          const fused = (n.attr.fused_ops?.list?.s ?? []).map(b64);
          if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused.length === 2 && fused[1] !== 'Relu')) {
            throw new Error(`${n.name}: fused ops ${fused} not supported`);
          }
          relu = fused[1] === 'Relu';
          const b = weights.get(ins[2]);
          if (b.shape.length !== 1 || b.shape[0] !== wt.shape[0]) throw new Error(`${n.name}: bias shape ${b.shape}`);
          convIns.push(addInit(`${convName}/B`, [b.shape[0]], b.data));
        }
        const convOut = relu ? convName : out;
        nodes.push({
          name: convName, opType: 'Conv', input: convIns, output: [convOut],
          attribute: [
            attrInts('kernel_shape', [kh, kw]), attrInts('strides', [strides[1], strides[2]]),
            attrInts('pads', g.pads), attrInts('dilations', [1, 1]), attrInt('group', depthwise ? inShape[0] : 1),
          ],
        });
        if (relu) nodes.push({ name: out, opType: 'Relu', input: [convOut], output: [out] });
        onnxName.set(n.name, out);
        shapes.set(n.name, [wt.shape[0], g.H, g.W]);
        break;
      }
      case 'MaxPool': {
        const ks = listI(n.attr.ksize);
        const st = listI(n.attr.strides);
        const inShape = shapes.get(ins[0]);
        const g = convGeometry(inShape, ks[1], ks[2], [st[1], st[2]], str(n.attr.padding));
        nodes.push({
          name: out, opType: 'MaxPool', input: [onnxName.get(ins[0])], output: [out],
          attribute: [attrInts('kernel_shape', [ks[1], ks[2]]), attrInts('strides', [st[1], st[2]]), attrInts('pads', g.pads)],
        });
        onnxName.set(n.name, out);
        shapes.set(n.name, [inShape[0], g.H, g.W]);
        break;
      }
      case 'AddV2': {
        const [a, b] = ins;
        if (shapes.get(a).join() !== shapes.get(b).join()) throw new Error(`${n.name}: shapes ${shapes.get(a)} vs ${shapes.get(b)}`);
        nodes.push({ name: out, opType: 'Add', input: [onnxName.get(a), onnxName.get(b)], output: [out] });
        onnxName.set(n.name, out);
        shapes.set(n.name, shapes.get(a));
        break;
      }
      case 'Relu':
        nodes.push({ name: out, opType: 'Relu', input: [onnxName.get(ins[0])], output: [out] });
        onnxName.set(n.name, out);
        shapes.set(n.name, shapes.get(ins[0]));
        break;
      case 'Mean': {
        const axes = Array.from(weights.get(ins[1]).data);
        if (axes.join() !== '1,2' || n.attr.keep_dims?.b) throw new Error(`${n.name}: Mean over ${axes}, keep_dims ${n.attr.keep_dims?.b}`);
        nodes.push({ name: `${out}/GlobalAveragePool`, opType: 'GlobalAveragePool', input: [onnxName.get(ins[0])], output: [`${out}/gap`] });
        nodes.push({ name: `${out}/Flatten`, opType: 'Flatten', input: [`${out}/gap`], output: ['logits'], attribute: [attrInt('axis', 1)] });
        onnxName.set(n.name, 'logits');
        shapes.set(n.name, [shapes.get(ins[0])[0]]);
        logitsTf = n.name;
        break;
      }
      case 'Softmax':
        nodes.push({ name: 'predictions/Softmax', opType: 'Softmax', input: [onnxName.get(ins[0])], output: ['probabilities'], attribute: [attrInt('axis', 1)] });
        onnxName.set(n.name, 'probabilities');
        shapes.set(n.name, shapes.get(ins[0]));
        break;
      case 'Identity':
        onnxName.set(n.name, onnxName.get(ins[0]));
        shapes.set(n.name, shapes.get(ins[0]));
        finalOutput = n.name;
        break;
      default:
        throw new Error(`${n.name}: op ${n.op} not supported by this converter`);
    }
    counter++;
  }
  if (onnxName.get(finalOutput) !== 'probabilities') throw new Error('the graph does not end with Softmax -> Identity');
  const K = shapes.get(finalOutput)[0];
  const tensorType = (dims) => ({
    tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } },
  });
  const [C, H, W] = shapes.get('input_1');
  return {
    model: {
      irVersion: 7,
      producerName: 'ClrpMl scripts/emotion/convert.mjs',
      producerVersion: '1.0',
      docString: 'mini-Xception facial expression classifier (oarriaga/face_classification, TF.js graph model from '
        + '@vladmandic/human 3.3.6, MIT) converted to ONNX. Input: grey 64x64, x = (grey - 0.5) * 2, grey = '
        + '0.2989 R + 0.5870 G + 0.1140 B on [0,1]. Classes: ' + LABELS.join(', ') + '. Ends with Softmax; its input "logits" are the logits.',
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'emotion',
        node: nodes,
        initializer: inits,
        input: [{ name: 'input', type: tensorType(['N', C, H, W]) }],
        output: [{ name: 'probabilities', type: tensorType(['N', K]) }],
      },
    },
    logitsTf,
    nodeCount: counter,
  };
}

export async function loadOnnxProto() {
  const root = await protobuf.load(protoPath);
  return root.lookupType('onnx.ModelProto');
}

export async function encodeModel(modelObj) {
  const ModelProto = await loadOnnxProto();
  const msg = ModelProto.fromObject(modelObj);
  const err = ModelProto.verify(msg);
  if (err) throw new Error(err);
  return Buffer.from(ModelProto.encode(msg).finish());
}

async function main() {
  const outPath = path.resolve(arg('--out', path.join(repoRoot, 'models', 'emotion.onnx')));
  const tf = readTfjsModel();
  const { model } = buildOnnx(tf);
  const bytes = await encodeModel(model);
  fs.writeFileSync(outPath, bytes);
  const { createHash } = await import('node:crypto');
  const ops = model.graph.node.map((n) => n.opType);
  console.log(`onnx ops (${ops.length}): ${ops.join(' ')}`);
  console.log(`${outPath}: ${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e); process.exit(1); });
}

// Runs an explainer model written by `clrp export` in onnxruntime-node: reads a float32 .npy input ([N,C,H,W] or
// [C,H,W]) and the classes to explain (k per image, the same for every image: a class c, or -r for the class ranked r;
// default -1, the predicted class), and writes every output of the graph as a .npy file next to a prefix.
//
//   node run-explainer.mjs M.explain.onnx x.npy out/prefix [targets, e.g. -1,-2 for the top 2, or 3]
//
// Writes out/prefix.<output>.npy (clrp.relevance, clrp.heatmap, clrp.logits, clrp.classes as int64, …) and prints one
// line per output. Exit code 0 on success, 2 with one line on stderr on bad input.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

function fail(message) {
  process.stderr.write(`run-explainer: error: ${message}\n`);
  process.exit(2);
}

/** Parses a little-endian float32 C-order .npy file (format 1.0–3.0). */
function readNpy(path) {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${path} is not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) fail(`${path}: expected little-endian float32 in C order`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s.length > 0).map(Number);
  const offset = start + headerLength;
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length));
  return { shape, data };
}

/** Writes a .npy file (format 1.0) of float32 or int64 data. */
function writeNpy(path, tensor) {
  const descr = tensor.type === 'int64' ? '<i8' : '<f4';
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
}

const [modelPath, inputPath, prefix, targetText] = process.argv.slice(2);
if (!modelPath || !inputPath || !prefix) fail('usage: node run-explainer.mjs M.explain.onnx x.npy out/prefix [targets]');

const session = await ort.InferenceSession.create(modelPath);
const imageName = session.inputNames.find(n => n !== 'clrp.targets');
const input = readNpy(inputPath);
const feeds = {};
const shape = input.shape.length === 3 ? [1, ...input.shape] : input.shape;
feeds[imageName] = new ort.Tensor('float32', input.data, shape);
const targets = (targetText ?? '-1').split(',').map(s => BigInt(s.trim()));
feeds['clrp.targets'] = new ort.Tensor('int64', BigInt64Array.from(targets), [1, targets.length]);

const results = await session.run(feeds);
for (const name of session.outputNames) {
  const t = results[name];
  writeNpy(`${prefix}.${name}.npy`, t);
  process.stdout.write(`${name} ${t.type} [${t.dims.join(',')}]\n`);
}

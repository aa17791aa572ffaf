// Checks models/emotion.onnx against the TF.js graph model it was converted from.
//
//   cd scripts/emotion && npm ci --ignore-scripts && node check.mjs [--model ../../models/emotion.onnx]
//
// TF.js (@tensorflow/tfjs-core + -converter + the CPU backend, the reference) runs the original
// emotion.json/emotion.bin from @vladmandic/human; ONNX Runtime (onnxruntime-node, CPU) runs the ONNX file,
// with the "logits" value (the Softmax input) added as a second graph output in memory. Inputs: every
// models/samples/faces/*.npy (float32 [1,1,64,64], x = (grey - 0.5) * 2), one by one and as one batch,
// plus 4 seeded uniform-noise inputs in [-1, 1]. Fails (exit 1) if any |logit difference| exceeds 1e-4.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfconv from '@tensorflow/tfjs-converter';
import ort from 'onnxruntime-node';
import { readTfjsModel, loadOnnxProto, repoRoot, LABELS, modelDir } from './convert.mjs';

const TOL = 1e-4;
const LOGITS_TF = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';
const PROBS_TF = 'Identity';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

function readNpyF32(file) {
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = buf.subarray(major === 1 ? 10 : 12, start).toString('latin1');
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False")) throw new Error(`${file}: ${header}`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return { shape, data };
}

function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main() {
  const modelPath = path.resolve(arg('--model', path.join(repoRoot, 'models', 'emotion.onnx')));
  const facesDir = path.resolve(arg('--faces', path.join(repoRoot, 'models', 'samples', 'faces')));
  await tf.setBackend('cpu');
  await tf.ready();

  // TF.js reference
  const { json } = readTfjsModel(modelDir);
  const weightData = new Uint8Array(Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(modelDir, p)))))).buffer;
  const tfModel = await tfconv.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData, userDefinedMetadata: json.userDefinedMetadata,
  }));

  // ONNX, with "logits" exposed as an extra output
  const ModelProto = await loadOnnxProto();
  const onnxBytes = fs.readFileSync(modelPath);
  const m = ModelProto.decode(onnxBytes);
  const lastOps = m.graph.node.slice(-1).map((n) => n.opType);
  m.graph.output.push({ name: 'logits', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 7 }] } } } });
  const session = await ort.InferenceSession.create(Buffer.from(ModelProto.encode(m).finish()), { executionProviders: ['cpu'] });

  const inputs = [];
  for (const f of fs.readdirSync(facesDir).filter((f) => f.endsWith('.npy')).sort()) {
    const { shape, data } = readNpyF32(path.join(facesDir, f));
    if (shape.join() !== '1,1,64,64') throw new Error(`${f}: shape ${shape}`);
    inputs.push({ name: f.replace(/\.npy$/, ''), data });
  }
  const rnd = mulberry32(20181202);
  for (let k = 0; k < 4; k++) inputs.push({ name: `noise-${k}`, data: Float32Array.from({ length: 4096 }, () => 2 * rnd() - 1) });

  async function run(batch) {
    const n = batch.length;
    const flat = new Float32Array(n * 4096);
    batch.forEach((b, i) => flat.set(b.data, i * 4096));
    const [tl, tp] = tf.tidy(() => tfModel.execute(tf.tensor4d(flat, [n, 64, 64, 1]), [LOGITS_TF, PROBS_TF]));
    const tfLogits = await tl.data(); const tfProbs = await tp.data();
    tl.dispose(); tp.dispose();
    const out = await session.run({ input: new ort.Tensor('float32', flat, [n, 1, 64, 64]) });
    return { tfLogits, tfProbs, oxLogits: out.logits.data, oxProbs: out.probabilities.data };
  }

  let maxLogit = 0; let maxProb = 0;
  const maxAbs = (a, b) => a.reduce((m2, v, i) => Math.max(m2, Math.abs(v - b[i])), 0);
  console.log(`ONNX ${path.relative(repoRoot, modelPath)}: last op ${lastOps[0]}; TF.js ${tf.version_core} (${tf.getBackend()}), onnxruntime-node ${ort.env.versions?.node ?? ''}`);
  for (const inp of inputs) {
    const r = await run([inp]);
    const dl = maxAbs(r.tfLogits, r.oxLogits); const dp = maxAbs(r.tfProbs, r.oxProbs);
    maxLogit = Math.max(maxLogit, dl); maxProb = Math.max(maxProb, dp);
    const top = [...r.oxProbs].map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]);
    console.log(`${inp.name.padEnd(18)} ${LABELS[top[0][1]]} ${top[0][0].toFixed(4)}, ${LABELS[top[1][1]]} ${top[1][0].toFixed(4)}`
      + ` | logits ${[...r.oxLogits].map((v) => v.toFixed(4)).join(' ')} | max|Δlogit| ${dl.toExponential(2)}, max|Δp| ${dp.toExponential(2)}`);
  }
  const rb = await run(inputs);
  const dlb = maxAbs(rb.tfLogits, rb.oxLogits);
  maxLogit = Math.max(maxLogit, dlb);
  console.log(`batch of ${inputs.length}: max|Δlogit| ${dlb.toExponential(2)}`);
  console.log(`overall: max|Δlogit| ${maxLogit.toExponential(3)}, max|Δprobability| ${maxProb.toExponential(3)} (tolerance ${TOL})`);
  if (!(maxLogit <= TOL)) { console.error('FAIL: ONNX logits differ from TF.js'); process.exit(1); }
  console.log('OK');
}

main().catch((e) => { console.error(e); process.exit(1); });

// Runs every model listed in a write_onnx_fixtures manifest with ONNX Runtime (onnxruntime-node) and compares its
// logits (and probabilities, when the graph has them) with LibTorch's. Usage:
//   node onnx_runtime_check.js NODE_MODULES_DIR FIXTURE_DIR
// Exits 1 when any output differs by more than 1e-4 x max(1, max |LibTorch logit|).
'use strict';
const fs = require('fs');
const path = require('path');

const kRelativeTolerance = 1e-4;
const [nodeModules, dir] = process.argv.slice(2);
const ort = require(path.resolve(nodeModules, 'onnxruntime-node'));
ort.env.logLevel = 'error';  // not the warning about where it would keep a telemetry id

function readFloats(file) {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

async function main() {
  const lines = fs.readFileSync(path.join(dir, 'manifest.tsv'), 'utf8').trim().split('\n');
  let failures = 0;
  for (const line of lines) {
    const [name, opset, shapeText, extra] = line.split('\t');
    const shape = shapeText.split(',').map(Number);
    const session = await ort.InferenceSession.create(path.join(dir, name + '.onnx'));
    const input = new ort.Tensor('float32', readFloats(path.join(dir, name + '.input.bin')), shape);
    const outputs = await session.run({input});
    const expected = readFloats(path.join(dir, name + '.logits.bin'));
    const logits = outputs.logits.data;
    let maxDiff = 0, maxLogit = 0, maxProbDiff = 0;
    if (logits.length !== expected.length) {
      console.log(`${name}: FAIL: ${logits.length} logits, expected ${expected.length}`);
      failures++;
      continue;
    }
    for (let i = 0; i < expected.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(logits[i] - expected[i]));
      maxLogit = Math.max(maxLogit, Math.abs(expected[i]));
      if (extra === 'probabilities') {
        maxProbDiff = Math.max(maxProbDiff, Math.abs(outputs.probabilities.data[i] - 1 / (1 + Math.exp(-expected[i]))));
      }
    }
    const allowed = kRelativeTolerance * Math.max(1, maxLogit);
    const ok = maxDiff <= allowed && maxProbDiff <= allowed;
    console.log(`${name} (opset ${opset}, input ${shape.join('x')}): max |logit diff| ${maxDiff.toExponential(2)}` +
                ` (max |logit| ${maxLogit.toFixed(2)}, allowed ${allowed.toExponential(2)})` +
                (extra === 'probabilities' ? `, max |probability diff| ${maxProbDiff.toExponential(2)}` : '') +
                (ok ? '' : '  FAIL'));
    if (!ok) failures++;
  }
  if (failures > 0 || lines.length === 0) {
    console.log(`FAIL: ${failures} of ${lines.length} models disagree with LibTorch`);
    process.exit(1);
  }
  console.log(`PASS: ${lines.length} models agree with LibTorch (onnxruntime-node ${ort.env.versions.node})`);
}

main().catch((error) => {
  console.log(`FAIL: ${error.stack || error}`);
  process.exit(1);
});

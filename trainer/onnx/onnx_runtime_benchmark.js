// The ONNX Runtime side of `//trainer:benchmark --modes=eval`: runs an exported model on random input with
// onnxruntime-node (CPU execution provider, all graph optimisations, sequential execution) and prints, like
// //trainer:benchmark_step,
//   images_per_second <value>
//   peak_rss_mib <value>
// Usage: node onnx_runtime_benchmark.js NODE_MODULES MODEL BATCH RESOLUTION THREADS STEPS WARMUP
'use strict';
const path = require('path');

async function main() {
  const [nodeModules, model, ...numbers] = process.argv.slice(2);
  const [batch, resolution, threads, steps, warmup] = numbers.map(Number);
  if (numbers.length !== 5 || numbers.some((n) => !Number.isInteger(Number(n)) || Number(n) < 0) || batch < 1 ||
      resolution < 1 || threads < 1 || steps < 1) {
    console.error('usage: node onnx_runtime_benchmark.js NODE_MODULES MODEL BATCH RESOLUTION THREADS STEPS WARMUP' +
                  ' (positive integers; WARMUP may be 0)');
    process.exit(2);
  }
  const ort = require(path.resolve(nodeModules, 'onnxruntime-node'));
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const values = new Float32Array(batch * 3 * resolution * resolution);
  for (let i = 0; i < values.length; i++) values[i] = Math.random() * 2 - 1;
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', values, [batch, 3, resolution, resolution])};
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const start = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) await session.run(feeds);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`images_per_second ${(steps * batch / seconds).toFixed(3)}`);
  console.log(`peak_rss_mib ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}`);  // maxRSS is in KiB
}

main().catch((error) => {
  console.error(`onnx_runtime_benchmark: ${error.stack || error}`);
  process.exit(1);
});

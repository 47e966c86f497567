// Runs an in-page benchmark (`#bench=standard`, or `#bench=cifar`: the CIFAR preset's real
// steps) in headless Chromium and prints its figures (not a test: a measurement for
// docs/measurements.md). Usage, after `trunk build --release`:
//   node tests/e2e/tools/bench.mjs [runs] [standard|cifar]
import { serveDist, launch, openApp, waitStatus } from '../harness.mjs';

const runs = Number(process.argv[2] || 1);
const workload = process.argv[3] || 'standard';
const server = await serveDist();
const browser = await launch();
try {
  for (let r = 0; r < runs; r++) {
    const { page, context } = await openApp(browser, server.url, `bench=${workload}`);
    const s = await waitStatus(page, (st) => st.bench && st.bench.done, 300000, 'benchmark');
    console.log(JSON.stringify(s.bench.results.map((x) => ({
      loss: x.loss, steps: x.steps,
      steps_per_sec: Math.round(x.steps_per_sec * 10) / 10, gflops: Math.round(x.gflops * 10) / 10,
      ms: [x.ms_forward, x.ms_loss, x.ms_backward, x.ms_update].map((v) => Math.round(v * 10) / 10),
    }))));
    if (s.bench.layers) console.log(JSON.stringify({ ms_augment: s.bench.ms_augment, layers: s.bench.layers }));
    await context.close();
  }
} finally {
  await browser.close();
  server.stop();
}

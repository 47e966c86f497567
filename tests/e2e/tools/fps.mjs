// Measures the lab's frame rate and training speed in headless Chromium (not a test: a
// measurement for docs/measurements.md). Usage, after `trunk build --release`:
//   node tests/e2e/tools/fps.mjs [hash]      (default hash: autoplay=1)
// Prints the time from page load to the first trained step and, after 10 s of training, the
// app's own fps / steps-per-second readouts.
import { serveDist, launch, openApp, waitStatus, status } from '../harness.mjs';

const hash = process.argv[2] || 'autoplay=1';
const server = await serveDist();
const browser = await launch();
try {
  const t0 = Date.now();
  const { page } = await openApp(browser, server.url, hash);
  const ready = Date.now() - t0;
  await waitStatus(page, (s) => s.step >= 1, 120000, 'first step');
  const first = Date.now() - t0;
  await page.waitForTimeout(10000);
  const s = await status(page);
  console.log(JSON.stringify({
    hash, ms_to_ready: ready, ms_to_first_step: first,
    fps: Math.round(s.fps * 10) / 10, steps_per_sec: Math.round(s.steps_per_sec), step: s.step,
  }));
} finally {
  await browser.close();
  server.stop();
}

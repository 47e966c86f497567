// Measures the lab's frame rate and training speed in headless Chromium (not a test: a
// measurement for docs/measurements.md). Usage, after `trunk build --release`:
//   node tests/e2e/tools/fps.mjs [hash]      (default hash: autoplay=1)
// With NO_WORKER=1 the page has no Web Worker, so runs train inside the frame (the fallback,
// and how every run trained before the workers).
// Prints the time from page load to the first trained step and, after 10 s of training, the
// app's own fps / steps-per-second readouts, then counts requestAnimationFrame callbacks in the
// page for 6 s: the mean rate, the slowest one-second window and the steps per second over
// those 6 s (from the status element's step count, to check the app's own readout).
import { serveDist, launch, openApp, waitStatus, status } from '../harness.mjs';

const hash = process.argv[2] || 'autoplay=1';
const server = await serveDist();
const browser = await launch();
try {
  const t0 = Date.now();
  // Long tasks (> 50 ms) of the page's main thread are recorded from the start.
  const init = `${process.env.NO_WORKER ? 'delete window.Worker;' : ''}
    window.__longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask', buffered: true });`;
  const { page } = await openApp(browser, server.url, hash, undefined, init);
  const ready = Date.now() - t0;
  await waitStatus(page, (s) => s.step >= 1, 120000, 'first step');
  const first = Date.now() - t0;
  await page.waitForTimeout(10000);
  const s = await status(page);
  const t1 = Date.now();
  const since = await page.evaluate(() => performance.now());
  const raf = await page.evaluate(() => new Promise((resolve) => {
    const times = [];
    const tick = (t) => {
      times.push(t);
      if (t - times[0] < 6000) requestAnimationFrame(tick);
      else {
        const windows = [];
        for (let w = times[0]; w + 1000 <= t; w += 250) {
          windows.push(times.filter((x) => x >= w && x < w + 1000).length);
        }
        resolve({ mean: (times.length - 1) * 1000 / (t - times[0]), worst: Math.min(...windows) });
      }
    };
    requestAnimationFrame(tick);
  }));
  const s2 = await status(page);
  const long = await page.evaluate((t) => window.__longTasks.filter(([s]) => s >= t).map(([, d]) => d), since);
  const measured = (s2.step - s.step) * 1000 / (Date.now() - t1);
  console.log(JSON.stringify({
    hash, engine: s.engine, ms_to_ready: ready, ms_to_first_step: first,
    fps: Math.round(s.fps * 10) / 10, steps_per_sec: Math.round(s.steps_per_sec), step: s.step,
    train_ms: Math.round(s.train_ms * 10) / 10,
    raf_fps: Math.round(raf.mean * 10) / 10, worst_1s_fps: raf.worst,
    steps_per_sec_measured: Math.round(measured),
    long_tasks: long.length, longest_task_ms: long.length ? Math.round(Math.max(...long)) : 0,
  }));
} finally {
  await browser.close();
  server.stop();
}

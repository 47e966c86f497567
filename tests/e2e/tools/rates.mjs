import { serveDist, launch, openApp, waitStatus, status } from '/work/main/tests/e2e/harness.mjs';
const hash = process.argv[2];
const srv = await serveDist(); const browser = await launch();
try {
  const { page } = await openApp(browser, srv.url, hash);
  await waitStatus(page, (s) => s.runs?.every((r) => r.step > 5), 60000, 'runs');
  await page.waitForTimeout(3000);
  const a = await status(page); const t0 = Date.now();
  await page.waitForTimeout(8000);
  const b = await status(page); const dt = (Date.now() - t0) / 1000;
  const rates = b.runs.map((r, i) => (r.step - a.runs[i].step) / dt);
  console.log(JSON.stringify({ engine: b.engine, rates: rates.map((r) => r.toFixed(1)), total: rates.reduce((x, y) => x + y, 0).toFixed(1), fps: b.fps.toFixed(1) }));
} finally { await browser.close(); srv.stop(); }

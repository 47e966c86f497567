// Offline: after one visit the service worker (web/sw.js) serves the app and the prepared
// CIFAR data from the browser's cache, so the lab loads and trains with the server gone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serveDist, launch, openApp, waitStatus, clickWidget, shot, DIST } from './harness.mjs';

const prepared = fs.existsSync(path.join(DIST, 'data', 'cifar10-16.bin'));
let browser;
after(async () => { await browser?.close(); });

test('after the first visit the app loads and trains with no server', async () => {
  const server = await serveDist();
  browser = await launch();
  let stopped = false;
  try {
    const { page, context } = await openApp(browser, server.url, '');
    // Wait until the service worker is active and its install-time cache holds the app.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const want = ['alphacl-web_bg.wasm', 'alphacl-web.js', 'index.html'].concat(prepared ? ['data/cifar10-16.bin'] : []);
    const t0 = Date.now();
    let cached = [];
    while (Date.now() - t0 < 60000) {
      cached = await page.evaluate(async () => {
        // The service worker's cache (its name carries a version, web/sw.js's CACHE).
        const name = (await caches.keys()).find((k) => k.startsWith('alphacl-'));
        if (!name) return [];
        const c = await caches.open(name);
        return (await c.keys()).map((r) => new URL(r.url).pathname);
      });
      if (want.every((w) => cached.some((p) => p.endsWith(w)))) break;
      await page.waitForTimeout(250);
    }
    assert.ok(want.every((w) => cached.some((p) => p.endsWith(w))), `cached: ${cached.join(', ')}`);

    server.stop();
    stopped = true;
    await page.waitForTimeout(300);
    await page.reload();
    await waitStatus(page, (s) => s.ready === true, 60000, 'app ready offline');
    await clickWidget(page, 'play');
    const s = await waitStatus(page, (st) => st.step >= 20 && Number.isFinite(st.loss), 60000, 'training offline');
    assert.equal(s.error, null);
    if (prepared) {
      await clickWidget(page, 'play'); // pause
      await clickWidget(page, 'data:6'); // the CIFAR-10 (16×16) preset, from the cache
      const c = await waitStatus(page, (st) => st.dataset === 'cifar:size=16', 60000, 'CIFAR offline');
      assert.equal(c.error, null);
      await clickWidget(page, 'play');
      await waitStatus(page, (st) => st.dataset === 'cifar:size=16' && st.step >= 5, 60000, 'CIFAR training offline');
    }
    await shot(page, 'offline');
    await context.close();
  } finally {
    if (!stopped) server.stop();
  }
});

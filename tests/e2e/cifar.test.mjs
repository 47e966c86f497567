// End-to-end test with real data: the prepared CIFAR-10 file loads and kNN accuracy rises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  appSuite, openApp, waitStatus, shot, clickWidget, decodePng, distinctColours, DIST,
} from './harness.mjs';

/** Waits until every named widget rectangle is published. */
async function waitRects(page, names, timeoutMs = 10000) {
  const t0 = Date.now();
  for (;;) {
    const rects = JSON.parse((await page.textContent('#alphacl-widgets')) || '{}');
    if (names.every((n) => rects[n])) return rects;
    if (Date.now() - t0 > timeoutMs) throw new Error(`widgets ${names} not published`);
    await page.waitForTimeout(100);
  }
}

const suite = appSuite();
const prepared = fs.existsSync(path.join(DIST, 'data', 'cifar10-16.bin'));

test('CIFAR-10 16×16 loads, trains and its kNN accuracy rises', { skip: !prepared && 'data not prepared' }, async () => {
  const hash = 'data=cifar:size=16&aug=simclr:crop=0.6,flip=0.5,jitter=0.4,gray=0.2,noise=0'
    + '&encoder=mlp:hidden=256,out=64&loss=nt-xent:tau=0.2&optim=adam:lr=0.001&batch=128&eval=50&autoplay=1';
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, hash);
  const first = await waitStatus(
    page, (s) => s.dataset === 'cifar:size=16' && s.knn_acc !== null, 120000, 'CIFAR run started',
  );
  let best = 0;
  const t0 = Date.now();
  let s = first;
  while (s.step < 400 && Date.now() - t0 < 240000) {
    s = await waitStatus(page, () => true, 1000);
    if (s.step >= 100 && s.knn_acc !== null) best = Math.max(best, s.knn_acc);
    await page.waitForTimeout(250);
  }
  assert.ok(s.step >= 100, `only ${s.step} steps`);
  assert.ok(first.knn_acc > 0.1 - 0.05, `initial kNN ${first.knn_acc}`);
  assert.ok(best > first.knn_acc, `kNN should rise: ${first.knn_acc} -> best ${best}`);
  await shot(page, 'cifar-training');
  // Hovering an α cell shows the pair's two images beside the map.
  await clickWidget(page, 'tab:alpha');
  const rects = await waitRects(page, ['alpha:map', 'alpha:pair']);
  const box = await page.locator('#the_canvas_id').boundingBox();
  const [mx, my, mw, mh] = rects['alpha:map'];
  await page.mouse.move(box.x + mx + mw * 0.3, box.y + my + mh * 0.6);
  await page.waitForTimeout(800);
  const after = JSON.parse(await page.textContent('#alphacl-widgets'));
  const [px, py, pw, ph] = after['alpha:pair'];
  assert.ok(ph > 200, `the pair panel holds two images (height ${ph})`);
  const png = decodePng(await shot(page, 'cifar-alpha-hover'));
  const colours = distinctColours(png, [Math.round(px), Math.round(py), Math.round(px + pw), Math.round(py + ph)]);
  assert.ok(colours > 40, `pair images look blank (${colours} colours)`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('#bench=cifar times the preset\'s real steps in the page, per phase and per layer', { skip: !prepared && 'data not prepared' }, async () => {
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, 'bench=cifar');
  const s = await waitStatus(page, (st) => st.bench && st.bench.done, 180000, 'CIFAR benchmark');
  assert.equal(s.bench.workload, 'cifar');
  assert.equal(s.bench.error, null);
  const r = s.bench.results[0];
  assert.equal(r.steps, 20);
  assert.ok(r.steps_per_sec > 0 && Number.isFinite(r.steps_per_sec), JSON.stringify(r));
  assert.ok(s.bench.ms_augment > 0 && s.bench.ms_augment < r.ms_forward, JSON.stringify(s.bench));
  assert.ok(s.bench.layers.length >= 8 && s.bench.layers.every((l) => l.ms_forward >= 0), JSON.stringify(s.bench.layers));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a missing data file is explained and the lab keeps its toy run', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'data=cifar:size=8&autoplay=1');
  const s = await waitStatus(page, (st) => st.error !== null, 30000, 'missing-file message');
  assert.match(s.error, /prepare-data\.sh|not on this server/);
  assert.equal(s.ready, true);
  assert.match(s.dataset, /^gauss/);
  await context.close();
});

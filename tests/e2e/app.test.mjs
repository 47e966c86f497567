// End-to-end tests of the foundation: the app loads, trains from a link and from a real click,
// keeps the loss finite and falling, reports bad links, and switches the loss live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appSuite, openApp, status, waitStatus, clickWidget, shot, decodePng, distinctColours,
} from './harness.mjs';

const suite = appSuite();


test('autoplay link trains: step rises, loss finite and falling, canvas not blank', async () => {
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, 'autoplay=1');
  const first = await waitStatus(page, (s) => s.step >= 1 && Number.isFinite(s.loss), 30000, 'first step');
  // A worker may be hundreds of steps in by the first status: compare with the first losses.
  const later = await waitStatus(page, (s) => s.step >= Math.max(400, first.step + 100), 120000, '400 steps');
  assert.ok(later.step > first.step);
  assert.ok(Number.isFinite(later.loss), `loss ${later.loss}`);
  const start = later.first_losses.reduce((a, b) => a + b, 0) / later.first_losses.length;
  assert.ok(later.loss < start, `loss should fall: ${start} (first 10 steps) -> ${later.loss}`);
  assert.equal(later.running, true);
  assert.equal(later.error, null);
  const png = decodePng(await shot(page, 'overview-training'));
  // Frame rate is reported (its value on a loaded CI machine is measured by the bench, not asserted here).
  assert.ok(later.fps > 0, `fps ${later.fps}`);
  // The speed readout also reports the frame time and the wasm heap.
  assert.ok(later.frame_ms > 0, `frame_ms ${later.frame_ms}`);
  assert.ok(later.wasm_memory_mb >= 1 && later.wasm_memory_mb < 1024, `wasm memory ${later.wasm_memory_mb} MB`);
  const colours = distinctColours(png);
  assert.ok(colours > 20, `screenshot looks blank (${colours} colours)`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a real click on Play starts training; Pause stops it', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, '');
  const s0 = await status(page);
  assert.equal(s0.running, false);
  assert.equal(s0.step, 0);
  await clickWidget(page, 'play');
  const s1 = await waitStatus(page, (s) => s.running && s.step > 20, 30000, 'training after Play');
  await clickWidget(page, 'play');
  const s2 = await waitStatus(page, (s) => !s.running && s.runs.every((r) => !r.running), 10000, 'paused');
  await page.waitForTimeout(700);
  const s3 = await status(page);
  assert.equal(s3.step, s2.step, 'no steps while paused');
  assert.ok(s2.step >= s1.step);
  await context.close();
});

test('an invalid link config shows an error and falls back to the default run', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'loss=infonse:tau=0.5&autoplay=1');
  const s = await status(page);
  assert.match(s.error || '', /unknown loss 'infonse'/);
  assert.equal(s.loss_spec, 'nt-xent:tau=0.5');
  await shot(page, 'bad-link-error');
  await context.close();
});

test('switching the loss mid-run keeps training without a reset', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'autoplay=1');
  const before = await waitStatus(page, (s) => s.step >= 50, 60000, '50 steps');
  await clickWidget(page, 'loss:acl-direct');
  const afterSwitch = await waitStatus(page, (s) => s.loss_spec.startsWith('acl-direct'), 10000, 'new loss spec');
  assert.ok(afterSwitch.step >= before.step, 'step must not reset');
  const later = await waitStatus(page, (s) => s.step > afterSwitch.step + 50, 60000, 'more steps');
  assert.ok(Number.isFinite(later.loss));
  assert.equal(later.loss_spec, 'acl-direct:tau=0.5,p=4,eps=0');
  await context.close();
});

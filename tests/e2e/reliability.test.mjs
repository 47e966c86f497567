// Issue 18 acceptance in the browser: nothing a link asks for crashes, freezes or erases the
// session — an over-budget link is refused with the reason and a reload opens the default run,
// a wide output keeps the status live, a diverged run recovers with the ×0.1 button, a bad link
// leaves the saved session and the address bar alone, repeated run keys are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appSuite, openApp, status, waitStatus, clickWidget } from './harness.mjs';

const suite = appSuite();
const DEFAULT_LOSS = 'nt-xent:tau=0.5';

/** The saved session and crash record in this page's localStorage. */
async function saved(page) {
  return page.evaluate(() => ({
    state: localStorage.getItem('alphacl-state'),
    crash: localStorage.getItem('alphacl-crash'),
  }));
}

test('a ≈20 GB link is refused with its estimate, and a reload opens the default run again', async () => {
  const huge = 'data=gauss:n=1000000,d=4096';
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, huge);
  const s = await status(page);
  assert.match(s.error || '', /memory/i, 'the reason is shown');
  assert.match(s.error || '', /GiB|GB/, 'with the estimate and the limit');
  assert.notEqual(s.dataset, 'gauss:n=1000000,d=4096', 'the over-budget run is not built');
  assert.equal(s.loss_spec, DEFAULT_LOSS);
  // The address bar keeps what was typed; a reload opens the default run with the reason again.
  assert.match(decodeURIComponent(page.url()), /n=1000000,d=4096/);
  await page.reload();
  const r = await waitStatus(page, (st) => st.ready, 60000, 'ready after reload');
  assert.match(r.error || '', /memory/i);
  assert.equal(r.loss_spec, DEFAULT_LOSS);
  assert.notEqual(r.dataset, 'gauss:n=1000000,d=4096');
  // The default run it opened trains.
  await clickWidget(page, 'play');
  await waitStatus(page, (st) => st.step >= 5 && Number.isFinite(st.loss), 30000, 'default run trains');
  assert.ok(!errors.some((e) => /unreachable|capacity overflow|panicked/.test(e)), errors.join('\n'));
  await context.close();
});

test('a link that crashed the page last time opens the default run with "the last link crashed"', async () => {
  const hash = 'loss=acl-direct:tau=0.5,p=4,eps=0&batch=32';
  const { page, context } = await openApp(suite.browser, suite.server.url, '');
  // The panic hook's record, as it writes it when a link crashes the page.
  await page.evaluate((h) => localStorage.setItem(
    'alphacl-crash', JSON.stringify({ hash: h, reason: 'panicked at capacity overflow' }),
  ), hash);
  await page.goto(`${suite.server.url}#${hash}`);
  await page.reload();
  const s = await waitStatus(page, (st) => st.ready, 60000, 'ready');
  assert.match(s.error || '', /last link crashed/i);
  assert.match(s.error || '', /capacity overflow/);
  assert.equal(s.loss_spec, DEFAULT_LOSS, 'the crashed link is not replayed');
  await context.close();
});

test('#encoder=mlp:hidden=64,out=4096&autoplay=1 updates the status within 5 s', async () => {
  // The first snapshot of a 4096-wide output used to take minutes (a 4096 × 4096 eigenproblem).
  const t0 = Date.now();
  const { page, context } = await openApp(
    suite.browser, suite.server.url, 'encoder=mlp:hidden=64,out=4096&autoplay=1',
  );
  const ready = Date.now() - t0;
  const a = await waitStatus(page, (st) => st.step >= 1, 5000, 'a first step within 5 s of ready');
  assert.ok(Date.now() - t0 < 15000, `loading and the first step took ${Date.now() - t0} ms (ready after ${ready} ms)`);
  // And it stays live: every later update within 5 s.
  let last = a;
  for (let k = 0; k < 2; k++) {
    last = await waitStatus(page, (st) => st.step > last.step, 5000, `update ${k + 2} within 5 s`);
  }
  assert.equal(last.error, null);
  assert.ok(Number.isFinite(last.loss), `loss ${last.loss}`);
  assert.match(last.config, /encoder=mlp:hidden=64,out=4096/);
  await context.close();
});

test('a diverged run recovers with the ×0.1 button and trains on with a finite loss', async () => {
  // SGD at lr=100 on raw (unnormalised) embeddings overflows within a few hundred steps; the
  // sigmoid of the modified triplet loss keeps a lower rate stable.
  const { page, context } = await openApp(
    suite.browser, suite.server.url, 'loss=modified-triplet:c=1&normalize=0&optim=sgd:lr=100&autoplay=1',
  );
  let s = await waitStatus(page, (st) => st.error !== null && !st.running, 40000, 'divergence');
  assert.match(s.error, /non-finite/);
  let lr = 100;
  let trained = null;
  // Each press rolls back to the last finite parameters and lowers the rate ten times.
  for (let press = 0; press < 3 && !trained; press++) {
    const failedAt = s.step;
    await clickWidget(page, 'lower_lr');
    lr /= 10;
    const want = new RegExp(`optim=sgd:lr=${lr}[,&]`);
    s = await waitStatus(page, (st) => want.test(st.config), 10000, `lr ${lr}`);
    try {
      trained = await waitStatus(
        page,
        (st) => st.error === null && st.running && st.step >= failedAt + 200 && Number.isFinite(st.loss),
        20000,
        `200 steps at lr ${lr}`,
      );
    } catch {
      s = await waitStatus(page, (st) => st.error !== null && !st.running, 10000, 'diverged again');
    }
  }
  assert.ok(trained, 'the run trained on after lowering the rate');
  assert.ok(Number.isFinite(trained.loss), `loss ${trained.loss}`);
  assert.ok(!trained.runs[0].diverged);
  // The edited config (what the optimiser field and a Copy link hold) has the new rate too.
  assert.match(decodeURIComponent(trained.link), new RegExp(`optim=sgd:lr=${lr}[,&]`));
  await context.close();
});

test('a bad link leaves the saved session and the address bar as they were', async () => {
  const good = 'loss=acl-quadratic:tau=0.3,eps=0&batch=32&seed=4';
  const first = await openApp(suite.browser, suite.server.url, good);
  const s0 = await status(first.page);
  assert.equal(s0.loss_spec, 'acl-quadratic:tau=0.3,eps=0');
  const before = await waitStatus(first.page, () => true);
  await first.page.waitForTimeout(800);
  const kept = await saved(first.page);
  assert.ok(kept.state && kept.state.includes('acl-quadratic'), `saved: ${kept.state}`);
  // A link with an unknown key, in the same browser (same localStorage).
  const bad = 'loss=acl-direct:tau=0.5&bogus=1';
  await first.page.goto(`${suite.server.url}#${bad}`);
  await first.page.reload();
  const s1 = await waitStatus(first.page, (st) => st.ready, 60000, 'ready on the bad link');
  assert.match(s1.error || '', /bogus/);
  await first.page.waitForTimeout(1200);
  assert.equal((await saved(first.page)).state, kept.state, 'the saved session is unchanged');
  assert.ok(first.page.url().endsWith(`#${bad}`), `address bar: ${first.page.url()}`);
  // A visit without a hash restores the good session.
  await first.page.goto(suite.server.url);
  await first.page.reload();
  const s2 = await waitStatus(first.page, (st) => st.ready, 60000, 'ready after the bad link');
  assert.equal(s2.config, before.config);
  assert.equal(s2.error, null);
  await first.context.close();
});

test('repeated run2= keys are refused with a message', async () => {
  const hash = 'loss=nt-xent:tau=0.5&run2=loss=acl-quadratic:tau=0.2&run2=loss=infonce:tau=0.3&run2=batch=16';
  const { page, context } = await openApp(suite.browser, suite.server.url, hash);
  const s = await status(page);
  assert.match(s.error || '', /'run2' given twice/);
  assert.ok(s.runs.length <= 1, `${s.runs.length} runs`);
  await page.waitForTimeout(800);
  assert.notEqual((await saved(page)).state, hash, 'the refused link is not saved');
  await context.close();
});

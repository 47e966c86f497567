// End-to-end tests of the lab's controls and views (issue: the lab).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appSuite, openApp, status, waitStatus, clickWidget, clickWidgetAt, shot, decodePng, distinctColours,
} from './harness.mjs';

const suite = appSuite();


test('moving the τ slider of the quadratic min player changes α sparsity live', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'loss=acl-quadratic:tau=1,eps=0&autoplay=1&view=alpha');
  const s0 = await waitStatus(page, (s) => s.step >= 60 && s.alpha_sparsity !== null, 60000, 'α snapshot');
  // Far left of the log slider = the smallest τ: the simplex projection keeps fewer negatives.
  await clickWidgetAt(page, 'param:tau', 0.02);
  const s1 = await waitStatus(page, (s) => s.loss_spec !== s0.loss_spec, 10000, 'τ changed');
  assert.match(s1.loss_spec, /^acl-quadratic:tau=0\.0/);
  const s2 = await waitStatus(
    page, (s) => s.step > s1.step + 60 && s.alpha_sparsity > s0.alpha_sparsity + 0.05, 60000, 'sparser α',
  );
  assert.ok(s2.alpha_sparsity > s0.alpha_sparsity, `${s0.alpha_sparsity} -> ${s2.alpha_sparsity}`);
  assert.ok(Number.isFinite(s2.loss));
  await shot(page, 'alpha-quadratic-small-tau');
  await context.close();
});

test('every view opens and draws something', async () => {
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, 'autoplay=1');
  await waitStatus(page, (s) => s.step >= 100, 60000, '100 steps');
  const widgets = JSON.parse((await page.textContent('#alphacl-widgets')) || '{}');
  const tabs = Object.keys(widgets).filter((k) => k.startsWith('tab:')).map((k) => k.slice(4));
  assert.ok(tabs.length >= 4, `tabs: ${tabs}`);
  for (const tab of tabs) {
    await clickWidget(page, `tab:${tab}`);
    await waitStatus(page, (s) => s.view === tab, 10000, `view ${tab}`);
    await page.waitForTimeout(600);
    const png = decodePng(await shot(page, `view-${tab}`));
    // The central area (right of the control panel) must not be empty.
    const colours = distinctColours(png, [320, 80, png.width, png.height]);
    assert.ok(colours > 8, `view ${tab} looks empty (${colours} colours)`);
  }
  const s = await status(page);
  assert.equal(s.error, null);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a diverging run pauses with the reason and keeps its history', async () => {
  const { page, context } = await openApp(
    suite.browser, suite.server.url, 'loss=triplet-contrastive&normalize=0&optim=sgd:lr=50,momentum=0.9&autoplay=1',
  );
  const s = await waitStatus(page, (st) => st.error !== null && !st.running, 60000, 'divergence');
  assert.match(s.error, /non-finite|diverg/i);
  assert.ok(s.step >= 1, 'history kept');
  await shot(page, 'diverged-banner');
  await clickWidget(page, 'lower_lr');
  const after = await waitStatus(page, (st) => /optim=sgd:lr=5[,&]/.test(st.config), 10000, 'lr lowered');
  assert.ok(after.step >= s.step, 'history kept after continuing');
  await context.close();
});

// The session survives a reload: the share state is kept in localStorage (and the address
// bar); "Reset to defaults" forgets it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appSuite, openApp, status, waitStatus, clickWidget } from './harness.mjs';

const suite = appSuite();

test('state persists across reloads and Reset to defaults forgets it', async () => {
  const hash = 'loss=acl-quadratic:tau=0.3,eps=0&batch=32&seed=4&view=alpha&hide=seed';
  const { page, context } = await openApp(suite.browser, suite.server.url, hash);
  const s0 = await status(page);
  assert.equal(s0.loss_spec, 'acl-quadratic:tau=0.3,eps=0');
  // The address bar follows the state.
  await waitStatus(page, () => true, 1000);
  await page.waitForTimeout(600);
  assert.match(decodeURIComponent(page.url()), /loss=acl-quadratic:tau=0\.3,eps=0.*view=alpha.*hide=seed/);
  // A visit without a hash restores the saved session.
  await page.goto(suite.server.url);
  const s1 = await waitStatus(page, (s) => s.ready, 60000, 'ready after reload');
  assert.equal(s1.config, s0.config);
  assert.equal(s1.view, 'alpha');
  assert.deepEqual(s1.hidden, ['seed']);
  assert.match(s1.notice || '', /Restored your last session/);
  // Reset to defaults: the default run, nothing hidden, and the next visit starts afresh.
  await clickWidget(page, 'menu:share');
  await page.waitForTimeout(400);
  await clickWidget(page, 'share:defaults');
  const s2 = await waitStatus(page, (s) => s.loss_spec === 'nt-xent:tau=0.5', 10000, 'defaults');
  assert.equal(s2.view, 'overview');
  assert.deepEqual(s2.hidden, []);
  await page.waitForTimeout(600);
  await page.goto(suite.server.url);
  const s3 = await waitStatus(page, (s) => s.ready, 60000, 'ready after second reload');
  assert.equal(s3.loss_spec, 'nt-xent:tau=0.5');
  assert.equal(s3.notice, null);
  await context.close();
});

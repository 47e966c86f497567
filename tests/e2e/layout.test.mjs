// End-to-end tests of the responsive layout (issue 17): at 1400×900, 1024×700 and 400×800 each
// view is screenshotted (target/e2e/layout-<size>-<view>.png), no two laid-out widgets overlap
// (the rectangles the app publishes in #alphacl-widgets, plots included as plot:<name>), every
// plot stays within the window's width and labels at least three ticks on each named axis
// (status.layout.plots), and on a phone-sized screen Play/Pause is in the top bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appSuite, openApp, status, waitStatus, clickWidget, shot, decodePng, distinctColours } from './harness.mjs';

const suite = appSuite();

const SIZES = [[1400, 900], [1024, 700], [400, 800]];
// The views whose plots this test checks (Compare and the α map are checked by their own tests).
const VIEWS = ['overview', 'alpha', 'curves', 'data', 'collapse', 'theory', 'players', 'compare'];

async function widgets(page) {
  return JSON.parse((await page.textContent('#alphacl-widgets')) || '{}');
}

/** Pairs of rectangles [x, y, w, h] that share more than a sliver (1 pt²). */
function overlaps(rects) {
  const names = Object.keys(rects).filter((n) => rects[n][2] > 0 && rects[n][3] > 0);
  const out = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [rects[names[i]], rects[names[j]]];
      const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
      const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
      if (w > 1 && h > 1) out.push(`${names[i]} ${JSON.stringify(a)} × ${names[j]} ${JSON.stringify(b)}`);
    }
  }
  return out;
}

for (const [w, h] of SIZES) {
  test(`at ${w}×${h} every view lays out without overlaps and with readable axes`, async () => {
    const { page, context, errors } = await openApp(suite.browser, suite.server.url, 'autoplay=1', { width: w, height: h });
    await waitStatus(page, (s) => s.step >= 30, 60000, '30 steps');
    try { await clickWidget(page, 'primer:dismiss', 3000); } catch { /* primer already dismissed */ }
    const s0 = await status(page);
    assert.equal(s0.layout.narrow, w < 900);
    assert.equal(s0.layout.controls, w < 900 ? 'folded' : 'side');
    assert.deepEqual(s0.layout.viewport, [w, h]);
    for (const view of VIEWS) {
      await clickWidget(page, `tab:${view}`);
      await waitStatus(page, (s) => s.view === view, 10000, `view ${view}`);
      await page.waitForTimeout(700);
      const png = decodePng(await shot(page, `layout-${w}x${h}-${view}`));
      assert.ok(distinctColours(png) > 8, `${view} at ${w}×${h} looks empty`);
      const rects = await widgets(page);
      assert.deepEqual(overlaps(rects), [], `${view} at ${w}×${h}: overlapping widgets`);
      const { layout } = await status(page);
      const plots = Object.entries(layout.plots);
      if (view === 'alpha') {
        // The α map is painted, not plotted: its map rectangle must fit the screen.
        const m = rects['alpha:map'];
        assert.ok(m, `alpha at ${w}×${h}: no α map drawn`);
        assert.ok(m[0] >= 0 && m[0] + m[2] <= w + 0.5, `the α map is cut at the side at ${w}×${h}: ${m}`);
      } else if (view !== 'players') assert.ok(plots.length >= 1, `${view} at ${w}×${h} draws no plot`);
      for (const [name, p] of plots) {
        const at = `${name} (${view} at ${w}×${h})`;
        assert.ok(p.x_label && p.y_label, `${at} has an unnamed axis: ${JSON.stringify(p)}`);
        assert.ok(p.x_ticks >= 3 && p.y_ticks >= 3, `${at} labels too few ticks: ${JSON.stringify(p)}`);
        const [x, y, pw, ph] = p.rect;
        assert.ok(x >= 0 && x + pw <= w + 0.5, `${at} is cut at the side: ${JSON.stringify(p.rect)}`);
        // Compare scrolls its three plots under the run table; every other view fits.
        if (!layout.narrow && view !== 'compare') assert.ok(y + ph <= h + 0.5, `${at} runs off the bottom: ${JSON.stringify(p.rect)}`);
        assert.equal(rects[`plot:${name}`]?.join(), p.rect.join(), `${at} is published as plot:${name}`);
      }
    }
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('at 400×800 Play/Pause is in the top bar and the controls open on request', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'autoplay=1', { width: 400, height: 800 });
  await waitStatus(page, (s) => s.running && s.step >= 5, 60000, 'playing');
  const rects = await widgets(page);
  const play = rects['top:play'];
  assert.ok(play, `no top-bar Play/Pause; widgets: ${Object.keys(rects)}`);
  assert.ok(play[0] >= 0 && play[0] + play[2] <= 400 && play[1] + play[3] <= 800, JSON.stringify(play));
  assert.ok(!('reset' in rects), 'the folded control panel lays out nothing');
  await clickWidget(page, 'top:play');
  await waitStatus(page, (s) => !s.running, 10000, 'paused by the top bar');
  await clickWidget(page, 'top:play');
  await waitStatus(page, (s) => s.running, 10000, 'playing again');
  await page.keyboard.press('Space');
  await waitStatus(page, (s) => !s.running, 10000, 'paused by Space');
  await clickWidget(page, 'layout:controls');
  const open = await waitStatus(page, (s) => s.layout.controls === 'open', 10000, 'controls open');
  assert.deepEqual(Object.keys(open.layout.plots), [], 'the controls replace the views');
  const r = await widgets(page);
  assert.ok(r.reset && r.reset[0] + r.reset[2] <= 400, `Reset within the screen: ${r.reset}`);
  await shot(page, 'layout-400x800-controls');
  await clickWidget(page, 'layout:controls');
  await waitStatus(page, (s) => s.layout.controls === 'folded', 10000, 'controls folded');
  await context.close();
});

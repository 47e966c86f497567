// End-to-end test of the live figure: Share & export > Live figure… lays an HTML canvas over
// the lab, drawn by plotters-canvas from the exports' own figure code; it has ink, is sized at
// the device pixel ratio, changes as training advances, and Close hides it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appSuite, openApp, waitStatus, clickWidget, shot, decodePng } from './harness.mjs';

const suite = appSuite();

/** The figure canvas as the page holds it: size, draws, ink share and a pixel checksum. */
async function figure(page) {
  return page.evaluate(() => {
    const c = document.getElementById('alphacl-figure');
    if (!c) return null;
    const r = c.getBoundingClientRect();
    const out = {
      shown: getComputedStyle(c).display !== 'none',
      width: c.width, height: c.height, cssWidth: r.width, cssHeight: r.height,
      dpr: window.devicePixelRatio, draws: Number(c.dataset.draws || 0), figure: c.dataset.figure,
      ink: 0, sum: 0,
    };
    if (c.width === 0 || c.height === 0) return out;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0, sum = 0;
    for (let i = 0; i < px.length; i += 4) {
      // Ink: a pixel that is not the white background.
      if (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235) ink++;
      sum = (sum * 31 + px[i] * 7 + px[i + 1] * 3 + px[i + 2]) % 1000000007;
    }
    out.ink = ink / (c.width * c.height);
    out.sum = sum;
    return out;
  });
}

/**
 * Asserts the lab covers the whole page with the figure open: with the page's background made
 * magenta, no magenta pixel shows. (An opaque CSS background on the figure canvas once made
 * Chromium skip a canvas-sized block of the WebGL canvas at the mirrored height, so the page's
 * background covered the top right of the lab.)
 */
async function assertNoHoles(page, what) {
  await page.evaluate(() => {
    for (const e of [document.documentElement, document.body]) e.style.background = 'rgb(255, 0, 255)';
  });
  await page.waitForTimeout(500);
  const png = decodePng(await shot(page, `live-figure-holes-${what.replace(/\W+/g, '-')}`));
  await page.evaluate(() => {
    for (const e of [document.documentElement, document.body]) e.style.background = '';
  });
  let n = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * png.channels;
      if (png.data[i] > 240 && png.data[i + 1] < 15 && png.data[i + 2] > 240) {
        n++; x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
    }
  }
  assert.equal(n, 0, `${what}: the page's background shows through ${n} pixels in x ${x0}–${x1}, y ${y0}–${y1}`);
}

async function waitFigure(page, pred, timeoutMs, what) {
  const t0 = Date.now();
  let last = null;
  while (Date.now() - t0 < timeoutMs) {
    last = await figure(page);
    if (last && pred(last)) return last;
    await page.waitForTimeout(150);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

test('the live figure is drawn over the lab, has ink, follows training and closes', async () => {
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, 'autoplay=1');
  await waitStatus(page, (s) => s.step >= 20, 60000, 'training');
  await clickWidget(page, 'menu:share');
  await clickWidget(page, 'share:figure');
  const first = await waitFigure(page, (f) => f.shown && f.draws >= 1 && f.ink > 0, 20000, 'a drawn figure');
  assert.equal(first.figure, 'curves');
  // At the device pixel ratio: canvas pixels = CSS size × devicePixelRatio.
  assert.ok(Math.abs(first.width - first.cssWidth * first.dpr) <= 1, JSON.stringify(first));
  assert.ok(Math.abs(first.height - first.cssHeight * first.dpr) <= 1, JSON.stringify(first));
  assert.ok(first.ink > 0.01 && first.ink < 0.6, `ink share ${first.ink}`);
  // Lying over the window's reserved rectangle.
  // The widget rectangles are published about four times a second: wait for the slot's.
  let slot;
  for (let i = 0; i < 40 && !slot; i++) {
    slot = JSON.parse(await page.textContent('#alphacl-widgets'))['figure:canvas'];
    if (!slot) await page.waitForTimeout(100);
  }
  assert.ok(slot, 'the figure slot is published');
  const box = await page.locator('#the_canvas_id').boundingBox();
  const placed = await page.evaluate(() => document.getElementById('alphacl-figure').getBoundingClientRect().toJSON());
  assert.ok(Math.abs(placed.x - (box.x + slot[0])) <= 2 && Math.abs(placed.y - (box.y + slot[1])) <= 2,
    `canvas at ${JSON.stringify(placed)}, slot ${slot}`);
  // Nothing of the lab is hidden: the page's background shows nowhere.
  await assertNoHoles(page, 'with the curves figure');
  // Training goes on: the figure is redrawn and its pixels change.
  const s0 = await waitStatus(page, () => true, 1000, 'status');
  await waitStatus(page, (s) => s.step >= s0.step + 200, 60000, '200 more steps');
  const later = await waitFigure(page, (f) => f.draws > first.draws && f.sum !== first.sum, 20000, 'a redrawn figure');
  assert.ok(later.ink > 0.01);
  await shot(page, 'live-figure-curves');
  // The α map, too.
  await clickWidget(page, 'figure:alpha');
  const alpha = await waitFigure(page, (f) => f.figure === 'alpha' && f.shown && f.ink > 0.1, 20000, 'the α figure');
  assert.ok(Math.abs(alpha.height / alpha.width - 560 / 620) < 0.02, `α aspect ${alpha.width}×${alpha.height}`);
  await shot(page, 'live-figure-alpha');
  await assertNoHoles(page, 'with the α figure');
  // The lab still answers underneath: Pause works while the figure is open.
  await clickWidget(page, 'play');
  await waitStatus(page, (s) => !s.running, 10000, 'paused with the figure open');
  await clickWidget(page, 'figure:close');
  await waitFigure(page, (f) => !f.shown, 5000, 'the canvas hidden');
  assert.deepEqual(errors, []);
  await context.close();
});

// Shared helpers for the browser end-to-end tests: a static server for dist/, a headless
// Debian Chromium driven by playwright-core, the app's status element, clicks on named
// widgets, and a tiny PNG decoder to prove screenshots are not blank.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// ALPHACL_DIST lets two people (or helpers) test separate builds: trunk build --dist <dir>.
export const DIST = process.env.ALPHACL_DIST ? path.resolve(process.env.ALPHACL_DIST) : path.join(ROOT, 'dist');
export const SHOTS = path.join(ROOT, 'target', 'e2e');

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-dev-shm-usage',
];

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Serves dist/ on 127.0.0.1 with Python's http.server; returns { url, stop }. */
export async function serveDist() {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: run 'trunk build --release' first`);
  }
  const port = await freePort();
  const proc = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', DIST], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url);
      if (r.ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => proc.kill() };
}

/** Launches headless Chromium (Debian's, never a downloaded one). */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Opens the app at `hash`, collecting console errors; resolves once status says ready. */
export async function openApp(browser, baseUrl, hash = '', viewport = { width: 1280, height: 800 }, init = null) {
  const context = await browser.newContext({ viewport });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(baseUrl + (hash ? `#${hash}` : ''));
  await page.waitForSelector('#the_canvas_id');
  await waitStatus(page, (s) => s.ready === true, 60000, 'app ready');
  return { page, context, errors };
}

/** The parsed JSON of #alphacl-status. */
export async function status(page) {
  const text = await page.textContent('#alphacl-status');
  return JSON.parse(text || '{}');
}

/** Polls the status until `pred(status)` holds. */
export async function waitStatus(page, pred, timeoutMs = 30000, what = 'condition') {
  const t0 = Date.now();
  let last = {};
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = await status(page);
      if (pred(last)) return last;
    } catch { /* status being rewritten */ }
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
}

/** Clicks the centre of the app widget published under `name` in #alphacl-widgets. */
export async function clickWidget(page, name, timeoutMs = 10000) {
  const t0 = Date.now();
  let rects = {};
  while (Date.now() - t0 < timeoutMs) {
    rects = JSON.parse((await page.textContent('#alphacl-widgets')) || '{}');
    if (rects[name]) break;
    await page.waitForTimeout(100);
  }
  const r = rects[name];
  if (!r) throw new Error(`widget '${name}' not published; known: ${Object.keys(rects).join(', ')}`);
  const box = await page.locator('#the_canvas_id').boundingBox();
  await page.mouse.click(box.x + r[0] + r[2] / 2, box.y + r[1] + r[3] / 2);
  return r;
}

/** Clicks inside widget `name` at horizontal fraction `fx` (0 = left edge, 1 = right edge). */
export async function clickWidgetAt(page, name, fx) {
  const rects = JSON.parse((await page.textContent('#alphacl-widgets')) || '{}');
  const r = rects[name];
  if (!r) throw new Error(`widget '${name}' not published`);
  const box = await page.locator('#the_canvas_id').boundingBox();
  await page.mouse.click(box.x + r[0] + r[2] * fx, box.y + r[1] + r[3] / 2);
}

/** Saves a screenshot under target/e2e/NAME.png and returns its bytes. */
export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  const buf = await page.screenshot({ path: file });
  return buf;
}

/** Decodes an 8-bit RGB/RGBA, non-interlaced PNG into { width, height, channels, data }. */
export function decodePng(buf) {
  const sig = buf.subarray(0, 8).toString('hex');
  if (sig !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let off = 8;
  let width = 0, height = 0, colorType = 0, depth = 0, interlace = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('ascii');
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0); height = body.readUInt32BE(4);
      depth = body[8]; colorType = body[9]; interlace = body[12];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (depth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) {
    throw new Error(`unsupported PNG (depth ${depth}, colour type ${colorType}, interlace ${interlace})`);
  }
  const channels = colorType === 6 ? 4 : 3;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 255;
    }
  }
  return { width, height, channels, data: out };
}

/** Number of distinct colours (quantised to 4 bits per channel) in a region of a PNG. */
export function distinctColours(png, region = null) {
  const { width, height, channels, data } = png;
  const [x0, y0, x1, y1] = region || [0, 0, width, height];
  const seen = new Set();
  for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) {
      const i = (y * width + x) * channels;
      seen.add(((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4));
    }
  }
  return seen.size;
}

/**
 * Registers suite hooks that serve dist/ and launch one browser for the file's tests; returns
 * an object whose `server` and `browser` are set once the suite has started.
 */
export function appSuite() {
  const suite = { server: null, browser: null };
  before(async () => {
    suite.server = await serveDist();
    suite.browser = await launch();
  });
  after(async () => {
    await suite.browser?.close();
    suite.server?.stop();
  });
  return suite;
}

// End-to-end tests of compare mode, share links, hide=, export/import and the guided tour, with
// real clicks in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  appSuite, openApp, status, waitStatus, clickWidget, shot, decodePng, distinctColours, SHOTS, ROOT, DIST,
} from './harness.mjs';

const suite = appSuite();

/** Opens a top-bar menu and clicks one of its items. */
async function menuItem(page, menu, item) {
  await clickWidget(page, menu);
  await page.waitForTimeout(400); // the menu's items are published with the next status write
  await clickWidget(page, item);
}

/** Clicks an export item and returns { name, bytes } of the downloaded file. */
async function exportFile(page, key) {
  const [dl] = await Promise.all([
    page.waitForEvent('download', { timeout: 20000 }),
    menuItem(page, 'menu:share', `export:${key}`),
  ]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), bytes: fs.readFileSync(file), file };
}

async function pause(page) {
  if ((await status(page)).running) await clickWidget(page, 'play');
  // Paused in the page and in every run's engine (a worker may finish its slice first).
  return waitStatus(page, (s) => !s.running && s.runs.every((r) => !r.running), 10000, 'paused');
}

test('compare mode: three runs added by clicks all advance, each with its own loss', async () => {
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, 'batch=32');
  await clickWidget(page, 'tab:compare');
  await clickWidget(page, 'compare:add');
  await waitStatus(page, (s) => s.runs.length === 2, 5000, 'two runs');
  await clickWidget(page, 'compare:add');
  await waitStatus(page, (s) => s.runs.length === 3, 5000, 'three runs');
  // Give run 3 a different loss by typing into its live loss field.
  await clickWidget(page, 'compare:loss:3');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('acl-direct:tau=0.5,p=4,eps=0');
  await waitStatus(page, (s) => s.runs[2].loss_spec === 'acl-direct:tau=0.5,p=4,eps=0', 5000, 'run 3 loss');
  await clickWidget(page, 'play');
  const s = await waitStatus(page, (st) => st.runs.every((r) => r.step >= 30), 60000, 'all runs training');
  const steps = s.runs.map((r) => r.step);
  // In workers the runs train side by side at their own speed (the charts compare them at
  // equal steps); in the frame they take one step each per round.
  if (s.engine === 'frame') {
    assert.ok(Math.max(...steps) - Math.min(...steps) <= 1, `runs advance equally: ${steps}`);
  } else {
    assert.equal(s.engine, 'worker');
    assert.ok(s.runs.every((r) => r.running && r.engine_steps_per_sec > 0), JSON.stringify(s.runs));
  }
  assert.ok(s.runs.every((r) => Number.isFinite(r.loss)), JSON.stringify(s.runs));
  assert.equal(s.runs[0].loss_spec, 'nt-xent:tau=0.5');
  assert.equal(s.view, 'compare');
  const png = decodePng(await shot(page, 'compare-three-runs'));
  assert.ok(distinctColours(png) > 30, 'compare view is not blank');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a copied link opened in a fresh context reproduces every run and its first 10 losses', async () => {
  const hash = 'seed=5&batch=32&loss=infonce:tau=0.3,eps=0&run2=loss=acl-quadratic:tau=0.3,eps=0&view=compare&autoplay=1';
  const a = await openApp(suite.browser, suite.server.url, hash);
  await a.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const sa = await waitStatus(a.page, (s) => s.runs.length === 2 && s.runs.every((r) => r.step >= 10), 60000, '10 steps');
  await pause(a.page);
  await menuItem(a.page, 'menu:share', 'share:copy');
  await waitStatus(a.page, (s) => /copied/.test(s.notice || ''), 5000, 'copy notice');
  const copied = await a.page.evaluate(() => navigator.clipboard.readText());
  assert.match(copied, /^http:\/\/127\.0\.0\.1:\d+\/.*#.*run2=loss=acl-quadratic/);
  assert.equal(copied, (await status(a.page)).link);
  const b = await openApp(suite.browser, copied, '');
  await clickWidget(b.page, 'play');
  const sb = await waitStatus(b.page, (s) => s.runs.length === 2 && s.runs.every((r) => r.step >= 10), 60000, '10 steps in B');
  assert.equal(sb.view, 'compare');
  for (let i = 0; i < 2; i++) {
    assert.equal(sb.runs[i].config, sa.runs[i].config);
    assert.equal(sb.runs[i].first_losses.length, 10);
    assert.deepEqual(sb.runs[i].first_losses, sa.runs[i].first_losses, `run ${i + 1} first losses`);
  }
  await a.context.close();
  await b.context.close();
});

test('hide= hides the named controls and views for a lesson', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'hide=data,loss,seed,view:theory,view:players');
  await page.waitForTimeout(600);
  const rects = JSON.parse(await page.textContent('#alphacl-widgets'));
  for (const gone of ['data:0', 'loss:acl-direct', 'seed', 'tab:theory', 'tab:players']) {
    assert.ok(!(gone in rects), `${gone} should be hidden`);
  }
  for (const kept of ['play', 'step', 'param:tau', 'tab:alpha', 'tab:compare']) {
    assert.ok(kept in rects, `${kept} should be shown`);
  }
  const s = await status(page);
  assert.deepEqual(s.hidden, ['data', 'loss', 'seed', 'view:theory', 'view:players']);
  assert.equal(s.error, null);
  await shot(page, 'hide-lesson');
  await context.close();
});

test('exports: CSV has one row per step, PNG is a real picture, SVG is XML, JSON parses', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'batch=32&eval=10&autoplay=1');
  await waitStatus(page, (s) => s.step >= 40, 60000, '40 steps');
  const s = await pause(page);
  const csv = await exportFile(page, 'csv');
  assert.equal(csv.name, 'alphacl-metrics.csv');
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  assert.deepEqual(lines[0].split(',').slice(0, 4), ['run', 'step', 'time_s', 'loss']);
  assert.equal(lines.length - 1, s.step, 'one row per logged step');
  lines.slice(1).forEach((l, i) => {
    const cols = l.split(',');
    assert.equal(cols[0], '1', 'one run: run 1');
    assert.equal(Number(cols[1]), i + 1);
    assert.ok(Number.isFinite(Number(cols[3])), `loss on row ${i + 1}`);
  });
  const json = await exportFile(page, 'json');
  const metrics = JSON.parse(json.bytes.toString('utf8'));
  assert.equal(metrics.runs[0].history.loss.length, s.step);
  const cfg = await exportFile(page, 'config');
  assert.equal(JSON.parse(cfg.bytes.toString('utf8')).config, s.config);
  for (const fig of ['curves', 'alpha', 'spectrum']) {
    const p = await exportFile(page, `${fig}.png`);
    assert.equal(p.name, `alphacl-${fig}.png`);
    const img = decodePng(p.bytes);
    assert.ok(img.width >= 800 && img.height >= 600, `${fig}: ${img.width}x${img.height}`);
    assert.ok(distinctColours(img) > 8, `${fig}.png looks blank`);
    fs.mkdirSync(SHOTS, { recursive: true });
    fs.copyFileSync(p.file, path.join(SHOTS, `export-${fig}.png`));
    const v = await exportFile(page, `${fig}.svg`);
    const text = v.bytes.toString('utf8');
    assert.match(text, /^(<\?xml[^>]*>\s*)?<svg[\s>]/, `${fig}.svg root`);
    assert.match(text.trim(), /<\/svg>$/);
    // Well-formed enough for a browser's XML parser:
    const err = await page.evaluate((t) => {
      const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
      const e = doc.querySelector('parsererror');
      return e ? e.textContent : null;
    }, text);
    assert.equal(err, null, `${fig}.svg parse error`);
  }
  await context.close();
});

test('weights exported then imported give the same embeddings; a bad file changes nothing', async () => {
  const { page, context } = await openApp(suite.browser, suite.server.url, 'batch=32&autoplay=1');
  await waitStatus(page, (s) => s.step >= 30, 60000, '30 steps');
  const s0 = await pause(page);
  const w = await exportFile(page, 'weights');
  assert.equal(w.name, 'alphacl-weights.json');
  const saved = s0.fingerprint;
  await clickWidget(page, 'play');
  await waitStatus(page, (s) => s.step >= s0.step + 30, 60000, 'more steps');
  const s1 = await pause(page);
  assert.notEqual(s1.fingerprint, saved, 'training moves the embeddings');
  // A weights file for another encoder is refused; the run is untouched.
  const bad = JSON.parse(w.bytes.toString('utf8'));
  bad.encoder = 'mlp:hidden=32,out=8';
  const badFile = `${w.file}.bad.json`;
  fs.writeFileSync(badFile, JSON.stringify(bad));
  let [fc] = await Promise.all([page.waitForEvent('filechooser'), menuItem(page, 'menu:share', 'import:weights')]);
  await fc.setFiles(badFile);
  const e = await waitStatus(page, (s) => s.error !== null, 10000, 'import error');
  assert.match(e.error, /unchanged/);
  assert.equal(e.fingerprint, s1.fingerprint);
  assert.equal(e.step, s1.step);
  [fc] = await Promise.all([page.waitForEvent('filechooser'), menuItem(page, 'menu:share', 'import:weights')]);
  await fc.setFiles(w.file);
  const s2 = await waitStatus(page, (s) => /Loaded/.test(s.notice || ''), 10000, 'import notice');
  assert.equal(s2.fingerprint, saved, 'same embeddings as when exported');
  assert.equal(s2.step, s1.step, 'history kept');
  await context.close();
});

test('every tour preset loads, opens its view and trains', async () => {
  const { page, context, errors } = await openApp(suite.browser, suite.server.url, '');
  const presets = ['infonce-entropy', 'hard-negatives', 'sparse-alpha', 'deep-linear-pca', 'relu-rank'];
  // The real-image step needs the prepared CIFAR file (scripts/setup.sh makes it).
  if (fs.existsSync(path.join(DIST, 'data', 'cifar10-16.bin'))) presets.push('cifar-beats-pixels');
  for (const key of presets) {
    await menuItem(page, 'menu:tour', `preset:${key}`);
    const s = await waitStatus(
      page, (st) => st.preset === key && st.runs.every((r) => r.step >= 20), 60000, `preset ${key}`,
    );
    assert.ok(s.runs.every((r) => Number.isFinite(r.loss)), `${key}: ${JSON.stringify(s.runs)}`);
    assert.equal(s.error, null, key);
    const png = decodePng(await shot(page, `tour-${key}`));
    assert.ok(distinctColours(png) > 20, `${key} screenshot looks blank`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("the browser's first 10 losses match the native CLI's for the same link (relative 1e-4)", async () => {
  // The browser build multiplies with the relaxed-SIMD FMA kernel, the CLI with its native
  // kernel: the same config and seed must give the same run up to rounding.
  const cli = path.join(ROOT, 'target', 'debug', 'alphacl');
  assert.ok(fs.existsSync(cli), `${cli} is built by 'cargo test' before the browser tests`);
  const cfg = 'batch=64&seed=3&loss=acl-direct:tau=0.5,p=4,eps=0';
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'alphacl-cli-'));
  const args = ['train', '--quiet', '--steps', '10', '--out', out];
  for (const kv of cfg.split('&')) args.push('--set', kv);
  execFileSync(cli, args, { stdio: 'pipe' });
  const rows = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
  const native = rows.map((r) => Number(r.split(',')[2]));
  assert.equal(native.length, 10);
  const { page, context } = await openApp(suite.browser, suite.server.url, `${cfg}&autoplay=1`);
  const s = await waitStatus(page, (st) => st.step >= 10, 60000, '10 steps');
  for (let i = 0; i < 10; i++) {
    const rel = Math.abs(s.first_losses[i] - native[i]) / Math.max(1e-6, Math.abs(native[i]));
    assert.ok(rel < 1e-4, `step ${i + 1}: browser ${s.first_losses[i]} vs native ${native[i]}`);
  }
  await context.close();
});

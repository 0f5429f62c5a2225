// The heart-display page in real headless Debian Chromium (playwright-core, never a downloaded
// browser), served by the real heart-host with the real component built by `cargo xtask build`.
//
// Environment: see harness.mjs. Screenshots go to tests/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { launchChromium, root, startHost, stopHost } from './harness.mjs';

const artifacts = join(root, 'tests', 'artifacts');
let host, base, context, chromium;

before(async () => {
  const started = await startHost();
  host = started.child;
  base = started.url;
  chromium = await launchChromium();
  context = chromium.browser;
});

after(async () => {
  await chromium?.close();
  await stopHost(host);
});

/** Opens the page and waits until the Wasm heart runs; collects console errors and failures. */
async function open(options = {}) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  if (options.reducedMotion) await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(`${options.base ?? base}/`);
  await page.waitForFunction(() => window.heartDisplay?.ready === true, null, { timeout: 30_000 });
  return { page, problems };
}

/** Samples the filled heart area (opaque pixels) at every animation frame for `ms`. */
function sampleArea(page, ms) {
  return page.evaluate((duration) => new Promise((resolve) => {
    const canvas = document.getElementById('heart');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const samples = [];
    const start = performance.now();
    const step = (now) => {
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let area = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 128) area++;
      samples.push([now - start, area]);
      if (now - start < duration) requestAnimationFrame(step); else resolve(samples);
    };
    requestAnimationFrame(step);
  }), ms);
}

/**
 * Beat period in ms from area samples: the time between upward crossings near the lub peak,
 * per beat. A crossing the sampling missed (a slow frame skipping a brief peak) makes one gap
 * span two beats; each gap counts as its whole number of median gaps, so a missed peak does not
 * pass for a slower heart, while a heart at the wrong rate still measures wrong.
 */
function beatPeriod(samples) {
  const areas = samples.map(([, a]) => a);
  const lo = Math.min(...areas), hi = Math.max(...areas);
  const threshold = lo + 0.8 * (hi - lo);
  const rises = [];
  for (let i = 1; i < samples.length; i++) {
    if (samples[i - 1][1] < threshold && samples[i][1] >= threshold) rises.push(samples[i][0]);
  }
  assert.ok(rises.length >= 3, `need 3 beats to measure, saw ${rises.length} (areas ${lo}..${hi})`);
  const gaps = rises.slice(1).map((t, i) => t - rises[i]);
  const unit = [...gaps].sort((a, b) => a - b)[Math.floor((gaps.length - 1) / 2)];
  const beats = gaps.map((g) => Math.max(1, Math.round(g / unit)));
  return gaps.reduce((a, b) => a + b, 0) / beats.reduce((a, b) => a + b, 0);
}

async function setBpm(page, bpm) {
  await page.locator('#bpm').fill(String(bpm));
  await page.waitForFunction((b) => window.heartDisplay.config().bpm === b, bpm);
}

test('page loads compressed, with no console errors or failed requests, wasm as application/wasm', async () => {
  const page = await context.newPage();
  const problems = [];
  const codings = {};
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
  page.on('response', (r) => { codings[new URL(r.url()).pathname] = r.headers()['content-encoding'] ?? 'identity'; });
  const wasm = page.waitForResponse((r) => r.url().endsWith('/heart_web_bg.wasm'));
  await page.goto(`${base}/`);
  const response = await wasm;
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-type'], 'application/wasm');
  // Chromium asks for Brotli; the page's files come precompressed in it.
  for (const path of ['/', '/app.js', '/heart_web.js', '/heart_web_bg.wasm']) {
    assert.equal(codings[path], 'br', `${path} was sent as ${codings[path]}`);
  }
  await page.waitForFunction(() => window.heartDisplay?.ready === true);
  await page.waitForTimeout(500);
  assert.deepEqual(problems, []);
  assert.ok(await page.locator('#heart').isVisible(), 'the canvas heart is shown, not the fallback');
  await page.close();
});

test('the heart pulses at the configured bpm (period from pixels within 10%)', async () => {
  const { page, problems } = await open();
  for (const bpm of [72, 120]) {
    await setBpm(page, bpm);
    const samples = await sampleArea(page, 4000);
    const areas = samples.map(([, a]) => a);
    assert.ok(Math.max(...areas) > Math.min(...areas) * 1.1, 'the filled area varies with the beat');
    const period = beatPeriod(samples);
    const expected = 60_000 / bpm;
    console.log(`bpm ${bpm}: measured period ${period.toFixed(1)} ms, expected ${expected.toFixed(1)} ms`);
    assert.ok(Math.abs(period - expected) / expected < 0.1, `period ${period} vs ${expected}`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('the bpm control switches the symbol at 59/60 and 100/101', async () => {
  const { page, problems } = await open();
  for (const [bpm, glyph, name] of [[59, '\u2661', 'resting'], [60, '\u2764\ufe0f', 'steady'],
    [100, '\u2764\ufe0f', 'steady'], [101, '\u{1F493}', 'racing']]) {
    await setBpm(page, bpm);
    assert.equal(await page.locator('#symbol').textContent(), glyph, `bpm ${bpm}`);
    assert.equal(await page.locator('#symbol-name').textContent(), name, `bpm ${bpm}`);
    assert.equal(await page.locator('#rate').textContent(), `${bpm} bpm`);
  }
  // Keyboard: focus the slider and step it with the arrow keys.
  await setBpm(page, 100);
  await page.locator('#bpm').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.locator('#symbol').textContent(), '\u{1F493}', 'ArrowRight to 101 bpm');
  assert.deepEqual(problems, []);
  await page.close();
});

test('frame pacing: stats over 5 s, and slow frames drop to 30 fps then recover', async () => {
  const { page, problems } = await open();
  const first = await page.evaluate(() => window.heartDisplay.stats());
  await page.waitForTimeout(5000);
  const after = await page.evaluate(() => window.heartDisplay.stats());
  const frames = after.frames - first.frames;
  const slow = after.slow_intervals - first.slow_intervals;
  console.log(`5 s: ${frames} frames, ${slow} intervals > 25 ms, update+draw p50 ${after.cost_p50_ms} ms, ` +
    `p95 ${after.cost_p95_ms} ms, interval p50 ${after.interval_p50_ms} ms, mode ${after.mode}`);
  assert.ok(frames > 100, `the loop runs (${frames} frames in 5 s)`);
  assert.equal(after.mode, 'full');

  await page.evaluate(() => window.heartDisplay.setFrameBurn(22));
  await page.waitForFunction(() => window.heartDisplay.stats().mode === 'half', null, { timeout: 5000 });
  const halfStart = await page.evaluate(() => window.heartDisplay.stats());
  await page.waitForTimeout(1000);
  const halfEnd = await page.evaluate(() => window.heartDisplay.stats());
  console.log(`burning 22 ms/frame: mode ${halfEnd.mode}, ${halfEnd.frames - halfStart.frames} frames in 1 s, ` +
    `compensated ${halfEnd.compensated_ms.toFixed(0)} ms`);
  assert.equal(halfEnd.target_fps, 30);
  assert.ok(halfEnd.compensated_ms > halfStart.compensated_ms, 'skipped frames are compensated');

  await page.evaluate(() => window.heartDisplay.setFrameBurn(0));
  await page.waitForFunction(() => window.heartDisplay.stats().mode === 'full', null, { timeout: 5000 });
  assert.deepEqual(problems, []);
  await page.close();
});

test('geometry parity: browser outline equals /api/heart JSON to 1e-6', async () => {
  const { page, problems } = await open();
  for (const [t, bpm, love] of [[0, 72, 7], [0.3, 150, 10], [12.34, 45, 1], [2.5, 100, 5]]) {
    const browser = await page.evaluate(([a, b, c]) => window.heartDisplay.outlinePoints(a, b, c), [t, bpm, love]);
    const response = await fetch(`${base}/api/heart?format=json&t=${t}&bpm=${bpm}&love=${love}`);
    const server = (await response.json()).points.flat();
    assert.equal(browser.length, 256);
    assert.equal(server.length, 256);
    const worst = Math.max(...browser.map((v, i) => Math.abs(v - server[i])));
    assert.ok(worst <= 1e-6, `t=${t} bpm=${bpm} love=${love}: max difference ${worst}`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('prefers-reduced-motion shows a still heart', async () => {
  const { page, problems } = await open({ reducedMotion: true });
  await page.waitForTimeout(300);
  const areas = (await sampleArea(page, 1500)).map(([, a]) => a);
  assert.ok(areas[0] > 1000, 'a heart is drawn');
  assert.equal(Math.max(...areas), Math.min(...areas), 'the area never changes');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the page takes its initial config from /api/config and saves a screenshot', async () => {
  const { page, problems } = await open();
  const served = await (await fetch(`${base}/api/config`)).json();
  const shown = await page.evaluate(() => window.heartDisplay.config());
  assert.equal(shown.bpm, served.bpm);
  assert.equal(shown.love_level, served.love_level);
  mkdirSync(artifacts, { recursive: true });
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(artifacts, 'page.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

/** One series' value from a /metrics scrape of the host (summed over label sets). */
async function scrapeValue(name, labelFilter = '') {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labelFilter))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('the page sends a beat per pulse and shows the presence the host reports', async () => {
  const before = await scrapeValue('heart_rate_total');
  const { page, problems } = await open();
  await setBpm(page, 120);
  // At 120 bpm a beat goes every 500 ms.
  await page.waitForTimeout(2600);
  const presence = await page.evaluate(() => window.heartDisplay.presence());
  assert.equal(presence.available, true);
  assert.ok(presence.sent >= 4 && presence.sent <= 8, `beats sent in 2.6 s at 60→120 bpm: ${presence.sent}`);
  assert.equal(presence.state, 'online');
  assert.match(await page.locator('#presence').textContent(), /presence: online/);
  const received = (await scrapeValue('heart_rate_total')) - before;
  assert.ok(received >= presence.sent - 1, `host received ${received} of ${presence.sent}`);
  assert.ok(await scrapeValue('heart_clients', 'state="online"') >= 1);
  // Leaving the page: its client stops beating.
  await page.close();
  assert.deepEqual(problems, []);
});

test('under a host without presence the page sends no beat and logs no error', async () => {
  // The same app with heart-host's presence service left out: the component answers
  // /api/presence itself, as it does under `spin up` and `wasmtime serve`.
  const bare = await startHost(['--no-presence']);
  try {
    const { page, problems } = await open({ base: bare.url });
    const requests = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.waitForFunction(() => window.heartDisplay.presence().available === false);
    // Two whole beats of the animation: a page that beats would have sent two by now.
    await page.waitForFunction(() => window.heartDisplay.stats().phase >= 2, null, { timeout: 10_000 });
    assert.deepEqual(requests.filter((p) => p === '/api/beat'), []);
    assert.equal(await page.locator('#presence').isVisible(), false);
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await stopHost(bare.child);
  }
});

test('the opt-in diagnostics line shows what served a frame; off, it fetches nothing', async () => {
  const served = await startHost(['--instance-reuse', '100'], { POD_NAME: 'heart-display-0' });
  try {
    const { page, problems } = await open({ base: served.url });
    const frames = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/heart.json') frames.push(r.url()); });
    assert.equal(await page.locator('#diagnostics-on').isChecked(), false, 'off by default');
    assert.equal(await page.locator('#diagnostics').isVisible(), false);
    // Two whole beats with the line off: no frame fetched for it.
    await page.waitForFunction(() => window.heartDisplay.stats().phase >= 2, null, { timeout: 10_000 });
    assert.deepEqual(frames, []);

    await page.locator('#diagnostics-on').check();
    // Two polls: the second comes from an instance that already served the first.
    await page.waitForFunction(() => window.heartDisplay.diagnostics()?.runtime?.requests >= 2, null, { timeout: 10_000 });
    const { timing, runtime } = await page.evaluate(() => window.heartDisplay.diagnostics());
    assert.equal(timing.instance, 'reused');
    assert.ok(timing.guest > 0 && timing.total >= timing.guest, JSON.stringify(timing));
    assert.ok(runtime.memory_bytes >= 65536 && runtime.age_ms > 0, JSON.stringify(runtime));
    assert.equal(runtime.config_generation, 1);
    assert.equal(runtime.pod, 'heart-display-0');
    const line = await page.locator('#diagnostics').textContent();
    assert.match(line, /^reused instance · guest [\d.]+ ms · total [\d.]+ ms · memory [\d.]+ MiB · request \d+ of this instance · age [\d.]+ s · config generation 1 · pod heart-display-0$/);
    mkdirSync(artifacts, { recursive: true });
    await page.locator('#diagnostics').screenshot({ path: join(artifacts, 'diagnostics.png') });

    // Remembered across a reload, and off again when unticked.
    await page.reload();
    await page.waitForFunction(() => window.heartDisplay?.ready === true, null, { timeout: 30_000 });
    assert.equal(await page.locator('#diagnostics-on').isChecked(), true, 'remembered');
    await page.waitForFunction(() => window.heartDisplay.diagnostics() !== null, null, { timeout: 10_000 });
    await page.locator('#diagnostics-on').uncheck();
    assert.equal(await page.locator('#diagnostics').isVisible(), false);
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await stopHost(served.child);
  }
});

/** A plain static file server for web/static and dist/web: no API behind it. */
function staticServer() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    const file = [join(root, 'web', 'static', name), join(root, 'dist', 'web', name)]
      .find((f) => !name.includes('..') && existsSync(f));
    if (!file) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('opened from a plain static server, the page runs with the defaults', async () => {
  const server = await staticServer();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    // Only the API and the server-rendered favicon are missing here, by design.
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && !['/api/config', '/heart.svg', '/api/presence'].includes(path)) problems.push(`HTTP ${r.status()}: ${path}`);
  });
  const beats = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/beat') beats.push(r.method()); });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.heartDisplay?.ready === true, null, { timeout: 30_000 });
  const config = await page.evaluate(() => window.heartDisplay.config());
  assert.equal(config.bpm, 72);
  assert.equal(config.love_level, 7);
  const areas = (await sampleArea(page, 1500)).map(([, a]) => a);
  assert.ok(Math.max(...areas) > Math.min(...areas) * 1.05, 'the heart pulses');
  // No presence here: the page never sends a beat and shows no status.
  assert.deepEqual(beats, []);
  const presence = await page.evaluate(() => window.heartDisplay.presence());
  assert.equal(presence.available, false);
  assert.equal(await page.locator('#presence').isVisible(), false);
  assert.deepEqual(problems, []);
  await page.close();
  await new Promise((r) => server.close(r));
});

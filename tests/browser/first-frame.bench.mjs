// First frame, measured in real headless Chromium: navigation start → the first heart drawn on
// the canvas (the page's `heart-first-frame` mark), the long tasks (> 50 ms) during load, and
// the page's transfer size: each file as sent (in the coding Chromium negotiated) and the whole
// first visit on the wire (every response up to the first frame, headers included; goal
// ≤ 60 KiB). Each run is a first visit (a fresh browser context: empty cache)
// to the real heart-host serving the built app. Prints medians over the runs, the HTML's own
// parse time from the same runs as the baseline, and writes target-independent JSON to
// tests/artifacts/first-frame.json.
//
// Usage: HEART_HOST_BIN=… node first-frame.bench.mjs [runs]   (`cargo xtask page-bench`)

import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchForFreshContexts, root, startHost, stopHost } from './harness.mjs';

const runs = Number(process.argv[2] ?? 15);
if (!Number.isInteger(runs) || runs < 1 || runs > 200) {
  throw new Error(`runs \`${process.argv[2]}\` is not a whole number in 1..=200`);
}

/** The files a first visit downloads, as built (what the component embeds). */
const FILES = [
  ['/', 'web/static/index.html'],
  ['/app.js', 'web/static/app.js'],
  ['/heart_web.js', 'dist/web/heart_web.js'],
  ['/heart_web_bg.wasm', 'dist/web/heart_web_bg.wasm'],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** One first visit: timings from the page's own performance timeline. */
async function visit(browser, base) {
  const context = await browser.newContext({ viewport: { width: 800, height: 900 }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  // Long tasks are only observable from the start if the observer exists before the page runs.
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${base}/`);
  await page.waitForFunction(() => performance.getEntriesByName('heart-first-frame').length > 0,
    null, { timeout: 30_000 });
  const figures = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const firstFrame = performance.getEntriesByName('heart-first-frame')[0].startTime;
    const canvas = document.getElementById('heart');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let drawn = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) drawn++;
    const entries = [nav, ...performance.getEntriesByType('resource')];
    const bytes = entries.map((e) => [new URL(e.name).pathname,
      { sent: e.encodedBodySize, decoded: e.decodedBodySize }]);
    const wire = entries.reduce((sum, e) => sum + e.transferSize, 0);
    const early = window.__longTasks.filter((t) => t.start < firstFrame);
    return {
      firstFrame,
      htmlParsed: nav.domContentLoadedEventEnd,
      longTasks: early.length,
      longTaskMs: early.reduce((sum, t) => sum + t.duration, 0),
      drawn,
      wire,
      bytes: Object.fromEntries(bytes),
    };
  });
  await context.close();
  if (figures.drawn === 0) throw new Error('the first-frame mark came before any heart pixel was drawn');
  return figures;
}

const { child, url } = await startHost();
const { browser, close } = await launchForFreshContexts();
const results = [];
try {
  await visit(browser, url); // Warm the host (compiled component, OS caches); not counted.
  for (let i = 0; i < runs; i++) results.push(await visit(browser, url));
} finally {
  await close();
  await stopHost(child);
}

const firstFrame = median(results.map((r) => r.firstFrame));
const htmlParsed = median(results.map((r) => r.htmlParsed));
const sizes = FILES.map(([path, file]) => {
  const body = readFileSync(join(root, file));
  const served = results[0].bytes[path] ?? null;
  return { path, sent: served?.sent ?? null, decoded: served?.decoded ?? null, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
});
const total = (key) => sizes.reduce((sum, s) => sum + s[key], 0);
const report = {
  runs,
  first_frame_ms: { median: firstFrame, min: Math.min(...results.map((r) => r.firstFrame)), max: Math.max(...results.map((r) => r.firstFrame)) },
  html_parsed_ms: { median: htmlParsed },
  first_frame_vs_html_parsed: firstFrame / htmlParsed,
  long_tasks_before_first_frame: { median_count: median(results.map((r) => r.longTasks)), median_ms: median(results.map((r) => r.longTaskMs)) },
  transfer: { files: sizes, raw: total('raw'), gzip: total('gzip'), sent: total('sent'), first_visit_wire: median(results.map((r) => r.wire)) },
  target_wire_bytes: 60 * 1024,
  target_ms: 300,
};

console.log(`first frame over ${runs} first visits (fresh contexts), heart-host on loopback:`);
console.log('| figure | median | range |');
console.log('| --- | ---: | --- |');
console.log(`| navigation → first heart on the canvas | ${firstFrame.toFixed(1)} ms | ${report.first_frame_ms.min.toFixed(1)}–${report.first_frame_ms.max.toFixed(1)} ms |`);
console.log(`| navigation → HTML parsed (DOMContentLoaded end; baseline) | ${htmlParsed.toFixed(1)} ms | |`);
console.log(`| first frame / HTML parsed | ${report.first_frame_vs_html_parsed.toFixed(2)}× | |`);
console.log(`| long tasks before the first frame | ${report.long_tasks_before_first_frame.median_count} (${report.long_tasks_before_first_frame.median_ms.toFixed(1)} ms) | |`);
console.log(`target: first frame ≤ ${report.target_ms} ms: ${firstFrame <= report.target_ms ? 'met' : 'missed'}`);
console.log('\n| file | as built | sent (negotiated coding) | gzip -9 |');
console.log('| --- | ---: | ---: | ---: |');
for (const s of sizes) console.log(`| ${s.path} | ${kib(s.raw)} | ${s.sent === null ? '—' : kib(s.sent)} | ${kib(s.gzip)} |`);
console.log(`| total | ${kib(total('raw'))} | ${kib(total('sent'))} | ${kib(total('gzip'))} |`);
const wire = report.transfer.first_visit_wire;
console.log(`first visit on the wire (every response to the first frame, headers included): ${kib(wire)}; ` +
  `target ≤ ${kib(report.target_wire_bytes)}: ${wire <= report.target_wire_bytes ? 'met' : 'missed'}`);
for (const s of sizes) {
  if (s.decoded !== null && s.decoded !== s.raw) {
    throw new Error(`${s.path}: the host sent ${s.decoded} bytes (decoded), the built file has ${s.raw}: stale build?`);
  }
}
const out = join(root, 'tests', 'artifacts');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'first-frame.json'), `${JSON.stringify(report, null, 2)}\n`);

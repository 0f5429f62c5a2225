// heart-display page: loads the wasm-bindgen bundle (heart-core compiled for the browser),
// wires the controls, and exposes `window.heart` for tests. All geometry comes from the Wasm.

const $ = (id) => document.getElementById(id);
const DEFAULTS = { bpm: 72, love_level: 7, color: '#dc143c', size: 256 };

async function effectiveConfig() {
  // Served by the app, /api/config has the operator's settings; from a static server it does
  // not exist, and the page runs with the defaults.
  try {
    const response = await fetch('/api/config', { headers: { accept: 'application/json' } });
    if (response.ok) return { ...DEFAULTS, ...(await response.json()) };
  } catch (_) { /* not served by the app */ }
  return { ...DEFAULTS };
}

function cssColor(value) {
  // <input type=color> needs #rrggbb; resolve names like "crimson" through the browser.
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = value;
  return probe.fillStyle;
}

function showFallback(reason) {
  document.body.classList.add('no-bundle');
  $('error').textContent = '';
  console.info(`heart-display: showing server-rendered frames (${reason})`);
  const img = $('fallback');
  const start = performance.now();
  if (!matchMedia('(prefers-reduced-motion: reduce)').matches) {
    setInterval(() => { img.src = `/heart.svg?t=${((performance.now() - start) / 1000).toFixed(2)}`; }, 100);
  }
}

/**
 * Presence: one beat per pulse to the host's `POST /api/beat` ({client, seq, bpm}), paused
 * while the tab is hidden. The page first asks `GET /api/presence`: heart-host answers
 * `{available: true}`; the component answers `{available: false}` where no host service takes
 * the route (`spin up`, `wasmtime serve`, heart-host --no-presence), and then the page sends
 * no beats at all, so no request fails. From a static server (no API) it stays off too.
 */
async function startBeats(heart, status) {
  const el = $('presence');
  try {
    const response = await fetch('/api/presence', { headers: { accept: 'application/json' } });
    status.available = response.ok && (await response.json()).available === true;
  } catch (_) {
    status.available = false;
  }
  if (!status.available) {
    console.info('heart-display: this host tracks no presence; beats are off');
    return;
  }
  let seq = 0;
  let timer = null;
  const show = (state) => {
    status.state = state;
    const text = `presence: ${state}`;
    if (el.textContent !== text) el.textContent = text;
    el.hidden = false;
  };
  const beat = async () => {
    const { bpm } = heart.config();
    // Schedule the next beat first, so a slow reply does not shift the rhythm.
    timer = setTimeout(beat, 60_000 / bpm);
    const body = JSON.stringify({ client: status.client, seq: seq++, bpm });
    status.sent += 1;
    try {
      const response = await fetch('/api/beat', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body,
      });
      if (response.ok) show((await response.json()).state);
    } catch (_) {
      show('unreachable');
    }
  };
  document.addEventListener('visibilitychange', () => {
    clearTimeout(timer);
    if (!document.hidden) beat();
  });
  beat();
}

/** `Server-Timing` as `{name: dur or desc}` (`instance: 'fresh'`, `guest: 0.19`, …). */
function serverTiming(header) {
  const metrics = {};
  for (const metric of (header ?? '').split(',')) {
    const [name, ...params] = metric.trim().split(';');
    if (!name) continue;
    for (const param of params) {
      const [key, value = ''] = param.trim().split('=');
      if (key === 'dur') metrics[name] = Number(value);
      if (key === 'desc') metrics[name] = value.replace(/^"|"$/g, '');
    }
  }
  return metrics;
}

/** The diagnostics line's text for one frame's `Server-Timing` and runtime figures. */
function diagnosticsText(timing, runtime) {
  const ms = (v) => `${v.toFixed(2)} ms`;
  const parts = [];
  if (timing.instance) parts.push(`${timing.instance} instance`);
  if (timing.instantiate !== undefined) parts.push(`instantiate ${ms(timing.instantiate)}`);
  if (timing.guest !== undefined) parts.push(`guest ${ms(timing.guest)}`);
  if (timing.total !== undefined) parts.push(`total ${ms(timing.total)}`);
  if (runtime) {
    parts.push(`memory ${(runtime.memory_bytes / 1048576).toFixed(1)} MiB`);
    parts.push(`request ${runtime.requests} of this instance`);
    parts.push(`age ${(runtime.age_ms / 1000).toFixed(1)} s`);
    if (runtime.config_generation != null) parts.push(`config generation ${runtime.config_generation}`);
    if (runtime.pod != null) parts.push(`pod ${runtime.pod}`);
  }
  return parts.length ? parts.join(' · ') : 'not served by heart-display';
}

/**
 * Runtime diagnostics, opt-in (the checkbox, remembered in localStorage, or `?diagnostics` in
 * the address): while on and the tab is visible, every 2 s the page fetches a small JSON frame
 * and shows what served it — the host's `Server-Timing` (fresh or reused instance, its
 * instantiation, guest and total time) and the component's own figures (memory, requests,
 * age, config generation, pod). Off, it sends nothing.
 */
function startDiagnostics(state) {
  const box = $('diagnostics-on');
  const line = $('diagnostics');
  const KEY = 'heart-display.diagnostics';
  let timer = null;
  const poll = async () => {
    try {
      const response = await fetch('/heart.json?size=16', { headers: { accept: 'application/json' } });
      const timing = serverTiming(response.headers.get('server-timing'));
      const frame = response.ok ? await response.json() : {};
      state.last = { timing, runtime: frame.runtime ?? null };
      line.textContent = diagnosticsText(timing, frame.runtime);
    } catch (e) {
      state.last = null;
      line.textContent = `unreachable (${e.message})`;
    }
  };
  const run = () => {
    clearInterval(timer);
    timer = null;
    if (box.checked && !document.hidden) {
      poll();
      timer = setInterval(poll, 2000);
    }
  };
  const set = (on) => {
    box.checked = on;
    line.hidden = !on;
    try { localStorage.setItem(KEY, on ? '1' : '0'); } catch (_) { /* storage off */ }
    run();
  };
  let remembered = null;
  try { remembered = localStorage.getItem(KEY); } catch (_) { /* storage off */ }
  box.addEventListener('change', () => set(box.checked));
  document.addEventListener('visibilitychange', run);
  set(new URLSearchParams(location.search).has('diagnostics') || remembered === '1');
}

/** A fresh presence status: this tab's client id, beats sent, last state, whether beats go. */
function presenceStatus() {
  const client = globalThis.crypto?.randomUUID?.()
    ?? `tab-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return { client, sent: 0, state: null, available: null };
}

async function main() {
  // Ask for the operator's config while the bundle loads: neither waits for the other.
  const configured = effectiveConfig();
  let bundle;
  try {
    bundle = await import('/heart_web.js');
    await bundle.default();
  } catch (e) {
    showFallback(`no browser bundle: ${e.message}`);
    return;
  }
  const heart = new bundle.Heart($('heart'), $('ecg'));
  const config = await configured;

  const apply = (key, value) => {
    try {
      heart.set(key, String(value));
      $('error').textContent = '';
      return true;
    } catch (e) {
      $('error').textContent = e.message;
      return false;
    }
  };
  const showReading = () => {
    const current = heart.config();
    $('symbol').textContent = heart.symbol();
    $('symbol-name').textContent = heart.symbol_name();
    $('rate').textContent = `${current.bpm} bpm`;
    $('bpm-out').textContent = current.bpm;
    $('love-out').textContent = current.love_level;
    $('size-out').textContent = current.size;
  };
  const resize = () => {
    const size = Number($('size').value);
    const css = Math.max(64, Math.min(size, $('heart').parentElement.clientWidth - 32));
    $('heart').style.width = `${css}px`;
    $('heart').style.height = `${css}px`;
    const ecg = $('ecg').getBoundingClientRect();
    heart.resize(css, ecg.width, ecg.height, window.devicePixelRatio || 1);
  };

  for (const key of ['bpm', 'love_level', 'color', 'size']) apply(key, config[key]);
  $('bpm').value = config.bpm;
  $('love').value = config.love_level;
  $('color').value = cssColor(config.color);
  $('size').value = Math.max(64, Math.min(512, config.size));

  $('bpm').addEventListener('input', (e) => { apply('bpm', e.target.value); showReading(); });
  $('love').addEventListener('input', (e) => { apply('love_level', e.target.value); showReading(); });
  $('color').addEventListener('input', (e) => { apply('color', e.target.value); });
  $('size').addEventListener('input', (e) => { apply('size', e.target.value); showReading(); resize(); });
  $('controls').addEventListener('submit', (e) => e.preventDefault());

  // HiDPI: resize on layout changes and when devicePixelRatio changes (zoom, moving screens).
  window.addEventListener('resize', resize);
  const watchDpr = () => {
    matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`)
      .addEventListener('change', () => { resize(); watchDpr(); }, { once: true });
  };
  watchDpr();

  const calm = matchMedia('(prefers-reduced-motion: reduce)');
  heart.set_reduced_motion(calm.matches);
  calm.addEventListener('change', (e) => heart.set_reduced_motion(e.matches));

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) heart.pause(); else heart.start();
  });

  resize();
  showReading();
  heart.start();
  // The first frame drawn on the canvas, for the page benchmark: the heart's own frame
  // callback runs before this one in each animation frame.
  const markFirstFrame = () => {
    if (heart.stats().frames > 0) performance.mark('heart-first-frame');
    else requestAnimationFrame(markFirstFrame);
  };
  requestAnimationFrame(markFirstFrame);
  const presence = presenceStatus();
  startBeats(heart, presence);
  const diagnostics = { last: null };
  startDiagnostics(diagnostics);

  // For tests and the curious: read-only views plus the slow-frame hook. (Not `window.heart`:
  // that name already refers to the #heart canvas through named element access.)
  window.heartDisplay = {
    ready: true,
    stats: () => heart.stats(),
    config: () => heart.config(),
    symbol: () => heart.symbol(),
    outlinePoints: (t, bpm, love) => Array.from(bundle.outline_points(t, bpm, love)),
    setFrameBurn: (ms) => heart.set_frame_burn_ms(ms),
    presence: () => ({ ...presence }),
    diagnostics: () => diagnostics.last,
  };
}

main();

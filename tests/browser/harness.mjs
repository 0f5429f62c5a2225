// What the page tests and the first-frame benchmark share: the real heart-host serving the
// repository's spin.toml, and Debian's Chromium in a throwaway profile (playwright-core, never
// a downloaded browser).
//
// Environment: HEART_HOST_BIN (the heart-host binary; `cargo xtask test` and `cargo xtask
// page-bench` set it), CHROMIUM (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts `heart-host up` on a free port with `extraArgs`; resolves to `{ child, url }`. */
export function startHost(extraArgs = [], env = {}) {
  const bin = process.env.HEART_HOST_BIN;
  if (!bin) throw new Error('HEART_HOST_BIN must point at the heart-host binary (cargo xtask test sets it)');
  const child = spawn(bin, ['up', '--from', join(root, 'spin.toml'), '--listen', '127.0.0.1:0', '--no-cache', ...extraArgs], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`heart-host did not start:\n${log}`)), 120_000);
    child.stdout.on('data', (d) => {
      const m = /heart-host listening on (http:\/\/[^\s]+?)\/?\s/.exec(String(d));
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`heart-host exited ${code}:\n${log}`)); });
  });
}

/** Stops a host from `startHost` with SIGTERM and waits for it to exit. */
export async function stopHost(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A throwaway profile: config and cache dirs for Chromium's environment. */
function profileDir() {
  const profile = mkdtempSync(join(tmpdir(), 'heart-chromium-'));
  for (const dir of ['config', 'cache']) mkdirSync(join(profile, dir));
  const env = { ...process.env, XDG_CONFIG_HOME: join(profile, 'config'), XDG_CACHE_HOME: join(profile, 'cache') };
  return { profile, env };
}

/**
 * Launches headless Chromium with one persistent context (HiDPI, 800×900); resolves to
 * `{ browser, close }` (close also removes the profile).
 */
export async function launchChromium() {
  const { profile, env } = profileDir();
  const browser = await chromium.launchPersistentContext(join(profile, 'user-data'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    env,
    args: ARGS,
    viewport: { width: 800, height: 900 },
    deviceScaleFactor: 2,
  });
  const close = async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { browser, close };
}

/**
 * Launches headless Chromium for fresh contexts (each `newContext()` starts with an empty
 * cache, as a first visit does); resolves to `{ browser, close }`.
 */
export async function launchForFreshContexts() {
  const { profile, env } = profileDir();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    env,
    args: ARGS,
  });
  const close = async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { browser, close };
}

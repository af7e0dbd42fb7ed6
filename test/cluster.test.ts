import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from './helpers/listen.js';

describe('ferry start --workers N (node:cluster)', () => {
  it('serves from several processes on one port, sums their metrics, and stops on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cluster-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/ferry.js', 'start', '--workers', '2'], {
      env: { ...process.env, FERRY_DB_FILE: path.join(dir, 'f.sqlite'), PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!output.includes('2 processes') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.match(output, /Ferry is running at http:\/\/localhost:\d+ \(SQLite file .*, 2 processes\)/);
      for (let i = 0; i < 20; i++) assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /ferry_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 20/);
    } finally {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000))]);
      if (code === 'timeout') child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      assert.equal(code, 0, output);
    }
  });
});

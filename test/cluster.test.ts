import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { spawnFerry } from './helpers/ferry-process.js';
import { freePort } from './helpers/listen.js';

describe('ferry start --workers N (node:cluster)', () => {
  it('serves from several processes on one port, sums their metrics, and stops on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cluster-'));
    const port = await freePort();
    const ferry = spawnFerry(['start', '--workers', '2'], { env: { ...process.env, FERRY_DB_FILE: path.join(dir, 'f.sqlite'), PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '' } });
    try {
      await ferry.waitFor('2 processes');
      assert.match(ferry.output(), /Ferry is running at http:\/\/localhost:\d+ \(SQLite file .*, 2 processes\)/);
      for (let i = 0; i < 20; i++) assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /ferry_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 20/);
    } finally {
      const code = await ferry.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      assert.equal(code, 0, ferry.output());
    }
  });
});

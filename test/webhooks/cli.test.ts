import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-webhooks-cli-'));
const env = { ...process.env, FERRY_DB_FILE: path.join(dir, 'ferry.sqlite'), DATABASE_URL: '' };

async function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/ferry.js', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('ferry webhooks (CLI)', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('queues a test event, lists it, counts it, and redelivers by id', async () => {
    const created = await ferry('apps', 'create', '--name', 'Hooked', '--redirect-uri', 'https://hooked.example.com/cb', '--webhook-url', 'https://hooks.hooked.example.com/aiia', '--webhook-secret', 's3cret', '--json');
    assert.equal(created.code, 0, created.stderr);
    const { clientId } = JSON.parse(created.stdout);

    const queued = await ferry('webhooks', 'test', clientId, '--json');
    assert.equal(queued.code, 0, queued.stderr);
    const delivery = JSON.parse(queued.stdout);
    assert.equal(delivery.event, 'WebhookTest');
    assert.equal(delivery.status, 'Pending');

    const listed = JSON.parse((await ferry('webhooks', 'deliveries', '--app', clientId, '--status', 'pending', '--json')).stdout);
    assert.deepEqual(listed.map((d: { id: string }) => d.id), [delivery.id]);
    const text = (await ferry('webhooks', 'deliveries')).stdout;
    assert.match(text, new RegExp(`${delivery.id} .* WebhookTest .* pending, first try`));
    assert.doesNotMatch(text, /s3cret/);

    const stats = JSON.parse((await ferry('webhooks', 'stats', '--json')).stdout);
    assert.equal(stats.deliveries.pending, 1);
    assert.equal(stats.due, 1);

    const redelivered = await ferry('webhooks', 'redeliver', delivery.id, '--json');
    assert.equal(redelivered.code, 0, redelivered.stderr);
    assert.equal(JSON.parse(redelivered.stdout).id, delivery.id, 'a pending delivery is brought forward, not copied');
  });

  it('says what is wrong', async () => {
    const unknown = await ferry('webhooks', 'redeliver', 'no-such-delivery');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No delivery no-such-delivery/);
    const bad = await ferry('webhooks', 'deliveries', '--status', 'lost');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--status must be one of pending, delivered, failed/);
    const noApp = await ferry('webhooks', 'test', 'nobody');
    assert.equal(noApp.code, 1);
    assert.match(noApp.stderr, /No app with client id nobody/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('has defaults a newcomer can run with', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.deepEqual(config.database, { dialect: 'sqlite', file: 'data/ferry.sqlite' });
    assert.equal(config.oneTimeRetentionSeconds, 86_400);
    assert.equal(config.sandbox, true);
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash', () => {
    assert.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080');
    assert.equal(loadConfig({ PUBLIC_URL: 'https://ferry.example.com/' }).publicUrl, 'https://ferry.example.com');
  });

  it('uses PostgreSQL when DATABASE_URL is set, and FERRY_DB_FILE for another SQLite file', () => {
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).database.dialect, 'postgres');
    assert.deepEqual(loadConfig({ FERRY_DB_FILE: '/tmp/x.sqlite' }).database, { dialect: 'sqlite', file: '/tmp/x.sqlite' });
  });

  it('names every bad value in one error', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', PUBLIC_URL: 'ftp://x', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', FERRY_SANDBOX: 'maybe', FERRY_ONE_TIME_RETENTION: '48h' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.message;
        for (const name of ['PORT', 'PUBLIC_URL', 'DATABASE_URL', 'LOG_LEVEL', 'FERRY_SANDBOX', 'FERRY_ONE_TIME_RETENTION']) assert.match(text, new RegExp(name));
        assert.equal(error.problems.length, 6);
        return true;
      },
    );
  });

  it('lets an operator shorten one-time retention, never lengthen it', () => {
    assert.equal(loadConfig({ FERRY_ONE_TIME_RETENTION: '30m' }).oneTimeRetentionSeconds, 1800);
    assert.equal(loadConfig({ FERRY_ONE_TIME_RETENTION: '2s' }).oneTimeRetentionSeconds, 2);
    assert.equal(loadConfig({ FERRY_ONE_TIME_RETENTION: '3600' }).oneTimeRetentionSeconds, 3600);
    assert.throws(() => loadConfig({ FERRY_ONE_TIME_RETENTION: '25h' }), /FERRY_ONE_TIME_RETENTION/);
    assert.throws(() => loadConfig({ FERRY_ONE_TIME_RETENTION: 'a day' }), /FERRY_ONE_TIME_RETENTION/);
  });
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ferry.js', import.meta.url));

/** `ferry ARGS…` as an operator runs it: a process of its own, its stdout and stderr collected. */
export function spawnFerry(args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => output,
    /** Waits (up to 30 s) until the output includes `text`; the caller asserts what it then holds. */
    async waitFor(text: string): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (!output.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    },
    /** SIGTERM, then the exit code, or 'timeout' (and SIGKILL) after 20 s. */
    async stop(): Promise<number | null | 'timeout'> {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      if (code === 'timeout') child.kill('SIGKILL');
      return code;
    },
  };
}

/**
 * Summarises a V8 .cpuprofile (from `run.ts --profile`): self time by function and by file, and
 * inclusive time of chosen frames, callers of chosen frames, and the top frames by inclusive time:
 *
 *   npx tsx bench/token/profile-summary.ts FILE [--top 30] [--match TEXT]… [--callers TEXT]… [--inclusive N]
 *
 * With `run.ts --profile`, Ferry's main thread is the largest file under bench/out/token-profiles/<target>/.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, match: { type: 'string', multiple: true }, callers: { type: 'string', multiple: true }, inclusive: { type: 'string' } } });
const file = positionals[0];
if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile');
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const top = Number(values.top);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
const idle = [...selfTime.entries()].filter(([id]) => /\(idle\)/.test(byId.get(id)!.callFrame.functionName)).reduce((a, [, t]) => a + t, 0);
const busy = total - idle;

const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/').replace(/^node:/, 'node:');
const frameName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

function tally(key: (n: ProfileNode) => string): [string, number][] {
  const sums = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const n = byId.get(id)!;
    if (/\(idle\)/.test(n.callFrame.functionName)) continue;
    sums.set(key(n), (sums.get(key(n)) ?? 0) + t);
  }
  return [...sums.entries()].sort((a, b) => b[1] - a[1]);
}

const pct = (t: number) => `${((t / busy) * 100).toFixed(1).padStart(5)} %`;
console.log(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)} %)\n`);
console.log('self time by function (share of busy time):');
for (const [name, t] of tally(frameName).slice(0, top)) console.log(`${pct(t)}  ${name}`);
console.log('\nself time by package or file:');
const bucket = (n: ProfileNode) => {
  const url = n.callFrame.url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.includes('/src/')) return short(url);
  if (url.startsWith('node:')) return url;
  return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native/other)';
};
for (const [name, t] of tally(bucket).slice(0, top)) console.log(`${pct(t)}  ${name}`);

// Inclusive time of frames whose name matches (a frame counted once per sample even when recursive).
for (const match of values.match ?? []) {
  let inclusive = 0;
  profile.samples.forEach((id, i) => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (frameName(byId.get(cur)!).includes(match)) {
        inclusive += profile.timeDeltas[i] ?? 0;
        break;
      }
    }
  });
  console.log(`\ninclusive ${match}: ${pct(inclusive)}`);
}

// Callers of frames whose name matches: the parent chain (up to 6 frames) that led to the self time.
for (const match of values.callers ?? []) {
  const chains = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    if (!frameName(node).includes(match)) return;
    const chain: string[] = [];
    for (let cur = parent.get(id); cur !== undefined && chain.length < 6; cur = parent.get(cur)) {
      const f = byId.get(cur)!;
      if (f.callFrame.functionName === '(root)') break;
      chain.push(frameName(f));
    }
    const key = chain.join(' < ');
    chains.set(key, (chains.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  console.log(`\ncallers of ${match}:`);
  for (const [chain, t] of [...chains.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${pct(t)}  ${chain}`);
}

// Top inclusive frames: where time goes including callees (each frame once per sample).
if (values.inclusive) {
  const sums = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = frameName(byId.get(cur)!);
      if (seen.has(name)) continue;
      seen.add(name);
      sums.set(name, (sums.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  });
  console.log('\ninclusive time by function:');
  for (const [name, t] of [...sums.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.inclusive))) console.log(`${pct(t)}  ${name}`);
}

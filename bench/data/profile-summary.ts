/**
 * Summarises a V8 .cpuprofile of a Ferry child (from `run.ts --profile`): self time by function and
 * by package or source file, and the inclusive time of frames whose name contains a given text.
 *
 *   npx tsx bench/data/profile-summary.ts FILE.cpuprofile [--top 30] [--match text …]
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

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, match: { type: 'string', multiple: true } } });
const file = positionals[0];
if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N] [--match text]');
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const top = Number(values.top);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const isIdle = (n: ProfileNode) => n.callFrame.functionName === '(idle)';
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
const busy = [...selfTime.entries()].filter(([id]) => !isIdle(byId.get(id)!)).reduce((a, [, t]) => a + t, 0);

const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/');
const frameName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const pct = (t: number) => `${((t / busy) * 100).toFixed(1).padStart(5)} %`;

function tally(key: (n: ProfileNode) => string): [string, number][] {
  const sums = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const n = byId.get(id)!;
    if (!isIdle(n)) sums.set(key(n), (sums.get(key(n)) ?? 0) + t);
  }
  return [...sums.entries()].sort((a, b) => b[1] - a[1]);
}

console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)} %)\n`);
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

// Inclusive time: a sample counts once when any frame on its stack matches.
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
  console.log(`\ninclusive "${match}": ${pct(inclusive)}`);
}

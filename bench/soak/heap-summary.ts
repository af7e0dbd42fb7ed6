/**
 * Summarises a V8 heap snapshot (.heapsnapshot) by what holds the bytes: self size per node
 * type, the biggest constructors/names, the biggest strings (a module's source is one string),
 * and the total of strings that are module sources with an inline source map. For the memory
 * investigation of issue 8.
 *
 *   npx tsx bench/soak/heap-summary.ts FILE.heapsnapshot [--top 30]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

export interface HeapSummary {
  total: number;
  byType: [string, number, number][];
  byName: [string, number, number][];
  biggestStrings: [string, number][];
  sourceMapStrings: { count: number; bytes: number };
}

export function summariseHeap(file: string, top = 30): HeapSummary {
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const byType = new Map<string, [number, number]>();
  const byName = new Map<string, [number, number]>();
  const strings: [string, number][] = [];
  const sourceMapStrings = { count: 0, bytes: 0 };
  let total = 0;
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + fType]!]!;
    const name = data.strings[data.nodes[i + fName]!] ?? '';
    const size = data.nodes[i + fSize]!;
    total += size;
    const t = byType.get(type) ?? [0, 0];
    t[0]++;
    t[1] += size;
    byType.set(type, t);
    const key = type === 'string' || type === 'concatenated string' || type === 'sliced string' ? `(${type})` : `${type}: ${name.slice(0, 70)}`;
    const n = byName.get(key) ?? [0, 0];
    n[0]++;
    n[1] += size;
    byName.set(key, n);
    if (type === 'string' && size > 20_000) strings.push([name.slice(0, 90).replace(/\s+/g, ' '), size]);
    if (type === 'string' && name.includes('sourceMappingURL=data:application/json')) {
      sourceMapStrings.count++;
      sourceMapStrings.bytes += size;
    }
  }
  const sorted = (m: Map<string, [number, number]>) => [...m].map(([k, [c, s]]) => [k, c, s] as [string, number, number]).sort((a, b) => b[2] - a[2]).slice(0, top);
  return { total, byType: sorted(byType), byName: sorted(byName), biggestStrings: strings.sort((a, b) => b[1] - a[1]).slice(0, 15), sourceMapStrings };
}

export function heapSummaryText(summary: HeapSummary): string {
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  return [
    `total self size ${mb(summary.total)} MB; module sources carrying an inline source map: ${summary.sourceMapStrings.count} strings, ${mb(summary.sourceMapStrings.bytes)} MB`,
    'by type:',
    ...summary.byType.map(([k, c, s]) => `  ${mb(s).padStart(7)} MB  ${String(c).padStart(8)}  ${k}`),
    'by name:',
    ...summary.byName.map(([k, c, s]) => `  ${mb(s).padStart(7)} MB  ${String(c).padStart(8)}  ${k}`),
    'biggest strings:',
    ...summary.biggestStrings.map(([k, s]) => `  ${mb(s).padStart(7)} MB  ${k}`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  for (const file of positionals) process.stdout.write(`${file}\n${heapSummaryText(summariseHeap(file, Number(values.top)))}\n`);
}

/**
 * Loaded into a Ferry process with `--import` (bench/soak/memory.ts), plain JavaScript so that it
 * loads before tsx: a loopback HTTP server on FERRY_MEMORY_PROBE_PORT that reports what the
 * process holds, for the memory investigation of issue 8. Not part of Ferry.
 *
 *   GET /memory           process.memoryUsage(), V8 heap statistics and heap spaces, thread count
 *   GET /gc               a full GC first (needs --expose-gc), then the same report
 *   GET /snapshot?file=F  v8.writeHeapSnapshot(F) (a full GC happens as part of it), then the report
 *   GET /modules          loaded module count and their total source length (from the CJS cache
 *                         and, for ESM, from process.moduleLoadList)
 */
import fs from 'node:fs';
import http from 'node:http';
import v8 from 'node:v8';

const port = Number(process.env.FERRY_MEMORY_PROBE_PORT);
const mb = (n) => Math.round((n / 2 ** 20) * 10) / 10;

function report() {
  const usage = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return {
    rss: mb(usage.rss),
    rssAnon: mb(field('RssAnon') * 1024),
    rssFile: mb(field('RssFile') * 1024),
    threads: field('Threads'),
    heapTotal: mb(usage.heapTotal),
    heapUsed: mb(usage.heapUsed),
    external: mb(usage.external),
    arrayBuffers: mb(usage.arrayBuffers),
    heapLimit: mb(heap.heap_size_limit),
    mallocedMemory: mb(heap.malloced_memory),
    peakMallocedMemory: mb(heap.peak_malloced_memory),
    totalPhysical: mb(heap.total_physical_size),
    nativeContexts: heap.number_of_native_contexts,
    spaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: mb(s.space_size), used: mb(s.space_used_size), physical: mb(s.physical_space_size) }])),
  };
}

if (Number.isInteger(port) && port > 0) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body;
    if (url.pathname === '/gc' && typeof globalThis.gc === 'function') {
      globalThis.gc();
      body = report();
    } else if (url.pathname === '/snapshot') {
      const file = v8.writeHeapSnapshot(url.searchParams.get('file') ?? undefined);
      body = { file, ...report() };
    } else body = report();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(port, '127.0.0.1');
  server.unref();
}

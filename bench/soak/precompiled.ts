/**
 * For the memory investigation of issue 8: Ferry's src/ (and the packages' src/, which it imports) compiled ahead of time to plain
 * JavaScript (esbuild, the compiler tsx itself uses; one file per source file, no bundling) under
 * bench/out/issue8/precompiled/, so that a `ferry start` without tsx's run-time loader can be
 * measured beside the usual one. Returns the `ferry` script to run.
 *
 * The tree mirrors the repository (src/ compiled, the files src/ reads beside its modules copied,
 * assets/ and node_modules/ linked), so paths Ferry builds from `import.meta.url` still resolve.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { OUT_DIR, ROOT } from '../lib/ferry-cluster.js';

export const PRECOMPILED_DIR = path.join(OUT_DIR, 'precompiled');

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

export async function buildPrecompiled(): Promise<string> {
  fs.rmSync(PRECOMPILED_DIR, { recursive: true, force: true });
  // src/ and the packages it imports (the demo uses packages/client).
  const files = [path.join(ROOT, 'src'), ...fs.readdirSync(path.join(ROOT, 'packages')).map((p) => path.join(ROOT, 'packages', p, 'src'))].filter((d) => fs.existsSync(d)).flatMap(walk);
  const sources = files.filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'));
  await build({
    entryPoints: sources,
    outdir: PRECOMPILED_DIR,
    outbase: ROOT,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: false,
    logLevel: 'warning',
  });
  for (const file of files.filter((f) => !/\.tsx?$/.test(f))) {
    const to = path.join(PRECOMPILED_DIR, path.relative(ROOT, file));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(file, to);
  }
  for (const link of ['assets', 'node_modules', 'package.json']) fs.symlinkSync(path.join(ROOT, link), path.join(PRECOMPILED_DIR, link));
  const entry = path.join(PRECOMPILED_DIR, 'bin', 'ferry.js');
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  fs.writeFileSync(entry, "const { main } = await import('../src/main.js');\nprocess.exitCode = await main(process.argv.slice(2));\n");
  return entry;
}

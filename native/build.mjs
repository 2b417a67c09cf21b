#!/usr/bin/env node
// Builds the optional BLAS kernels addon (native/build/Release/kernels.node). It NEVER fails: when a C
// compiler, the Node headers or OpenBLAS are missing it prints one warning and exits 0, and the engine
// falls back to the pure TypeScript kernels. Set ACTIVE_READING_NATIVE_VERBOSE=1 to see compiler output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'Release', 'kernels.node');
const verbose = process.env.ACTIVE_READING_NATIVE_VERBOSE === '1';
const hint =
  'install a C compiler and OpenBLAS (Debian/Ubuntu: apt-get install build-essential libopenblas-dev), then run `npm run build:native`';

function warn(reason) {
  console.warn(
    `active-reading: native kernels not built (${reason}); using the pure TypeScript kernels. To enable: ${hint}.`,
  );
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: verbose ? 'inherit' : 'pipe', ...opts });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return { ok: r.status === 0, text, missing: r.error?.code === 'ENOENT' };
}

function firstError(text) {
  const line = text.split('\n').find((l) => /error|cannot find|not found/i.test(l));
  return (line ?? text.trim().split('\n').pop() ?? '').trim().slice(0, 200);
}

try {
  if (process.env.ACTIVE_READING_SKIP_NATIVE === '1') {
    console.warn('active-reading: ACTIVE_READING_SKIP_NATIVE=1, native kernels not built.');
    process.exit(0);
  }
  const cc = process.env.CC || 'cc';

  // Node headers: prefer the ones shipped next to this node binary (no download needed).
  const prefix = resolve(dirname(process.execPath), '..');
  const nodeInclude = [join(prefix, 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find(
    (d) => existsSync(join(d, 'node_api.h')),
  );

  // Probe: compiler + cblas.h + libopenblas, with a tiny program.
  const probeDir = mkdtempSync(join(tmpdir(), 'ar-blas-'));
  try {
    const src = join(probeDir, 'probe.c');
    writeFileSync(src, '#include <cblas.h>\nint main(void){openblas_set_num_threads(1);return 0;}\n');
    const probe = run(cc, ['-I/usr/include/openblas', src, '-o', join(probeDir, 'probe'), '-lopenblas'], {
      stdio: 'pipe',
    });
    if (probe.missing) warn(`no C compiler (\`${cc}\` not found)`);
    if (!probe.ok) {
      const text = probe.text;
      if (/cblas\.h/.test(text) || /openblas/i.test(text)) warn('OpenBLAS headers or library not found');
      warn(`the OpenBLAS probe failed to compile: ${firstError(text)}`);
    }
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }

  // 1) node-gyp (local install, else the copy bundled with npm), with local headers when we have them.
  const require = createRequire(import.meta.url);
  const gypCandidates = [];
  try {
    gypCandidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  if (process.env.npm_execpath)
    gypCandidates.push(
      join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    );
  gypCandidates.push(
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  const gyp = gypCandidates.find((p) => existsSync(p));
  let built = false;
  let gypError = 'node-gyp not found';
  if (gyp) {
    const args = [gyp, 'rebuild', '--loglevel=error'];
    if (nodeInclude) args.push(`--nodedir=${resolve(nodeInclude, '..', '..')}`);
    const r = run(process.execPath, args, { cwd: here });
    built = r.ok && existsSync(out);
    if (!built) gypError = `node-gyp failed: ${firstError(r.text)}`;
  }

  // 2) Fallback: compile directly with the C compiler (needs only the Node headers).
  if (!built) {
    if (!nodeInclude) warn(`${gypError}; and no Node headers (node_api.h) found for a direct build`);
    mkdirSync(dirname(out), { recursive: true });
    const r = run(cc, [
      '-O3',
      '-march=native',
      '-fno-math-errno',
      '-pthread',
      '-std=c11',
      '-shared',
      '-fPIC',
      '-DNAPI_VERSION=8',
      '-DNODE_GYP_MODULE_NAME=kernels',
      `-I${nodeInclude}`,
      '-I/usr/include/openblas',
      join(here, 'kernels.c'),
      '-o',
      out,
      '-lopenblas',
      '-lm',
    ]);
    if (!r.ok) warn(`${gypError}; direct compile failed: ${firstError(r.text)}`);
  }

  // Check that it loads.
  const check = run(process.execPath, ['-e', `require(${JSON.stringify(out)}).setThreads(1)`], {
    stdio: 'pipe',
  });
  if (!check.ok) warn(`the built addon does not load: ${firstError(check.text)}`);
  console.log(`active-reading: native kernels built (${out})`);
} catch (err) {
  warn(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
}

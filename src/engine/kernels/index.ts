/**
 * Picks the compute kernels: `native` (N-API addon over OpenBLAS, native/build/Release/kernels.node) when it
 * loads, else the ts ones (TypeScript, with the GEMM and the exp-heavy element-wise kernels on WebAssembly SIMD).
 * `ACTIVE_READING_KERNELS=ts|native|auto` overrides `prefer`.
 * Build the addon with `apt-get install libopenblas-dev` then `npm run build:native` (node native/build.mjs).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { TS_KERNELS_DESCRIPTION, tsKernels } from './ts-kernels.js';
import type { ElementwiseKernels, Kernels } from './types.js';

export type { ElementwiseKernels, Kernels } from './types.js';
export { tsElementwise, tsKernels } from './ts-kernels.js';

export type KernelsPreference = 'auto' | 'ts' | 'native';

export interface LoadKernelsOptions {
  /** 'auto' (default): native when the addon loads, else ts. The env var ACTIVE_READING_KERNELS wins. */
  prefer?: KernelsPreference;
  /** BLAS threads for the native kernels (default: OpenBLAS's own, i.e. OPENBLAS_NUM_THREADS or all cores). */
  threads?: number;
  /** Where the one-line choice (and any fallback warning) goes; default console.warn (stderr). */
  log?: (line: string) => void;
  /** Internal/testing: path of the compiled addon. */
  addonPath?: string;
}

/** The element-wise kernels native/kernels.c exports (an older build may lack them: ops then use ts ones). */
const ELEMENTWISE = [
  'swigluForward',
  'swigluBackward',
  'rmsnormForward',
  'rmsnormBackward',
  'crossEntropyForward',
  'crossEntropyBackward',
  'causalSoftmax',
  'causalSoftmaxBackward',
  'add',
  'axpy',
  'rope',
] as const satisfies readonly (keyof ElementwiseKernels)[];

/** What native/kernels.c exports. */
interface NativeAddon extends Partial<ElementwiseKernels> {
  sgemm: Kernels['sgemm'];
  adamw: Kernels['adamw'];
  sgemmBatch?: Kernels['sgemmBatch'];
  setThreads(threads: number): void;
  getThreads(): number;
  config(): string;
}

export const ENV_VAR = 'ACTIVE_READING_KERNELS';
export const BUILD_HINT = 'apt-get install libopenblas-dev, then `npm run build:native`';

/** Default addon location; resolves the same from src/engine/kernels (vitest, tsx) and dist/engine/kernels. */
export const defaultAddonPath = fileURLToPath(
  new URL('../../../native/build/Release/kernels.node', import.meta.url),
);

const require = createRequire(import.meta.url);
const nativeCache = new Map<string, Kernels>();

/**
 * OpenBLAS 0.3.21 (Debian 12) does not recognise some newer or virtualised CPUs ("Intel Xeon Processor" VMs)
 * and falls back to its Prescott (SSE3) kernels: 34 instead of 110 GFLOP/s here. Unless the user set
 * OPENBLAS_CORETYPE, pick the kernel family from the CPU flags before the library loads (it reads the
 * variable once, when first loaded). Returns the value set, if any.
 */
function chooseOpenblasCoretype(): string | undefined {
  if (process.env.OPENBLAS_CORETYPE || process.platform !== 'linux' || process.arch !== 'x64')
    return undefined;
  let flags: Set<string>;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags'));
    if (!line) return undefined;
    flags = new Set(
      line
        .slice(line.indexOf(':') + 1)
        .trim()
        .split(/\s+/),
    );
  } catch {
    return undefined;
  }
  let core: string | undefined;
  if (['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f))) core = 'SkylakeX';
  else if (['avx2', 'fma'].every((f) => flags.has(f))) core = 'Haswell';
  if (core) process.env.OPENBLAS_CORETYPE = core;
  return core;
}

let coretypeChosen = false;

function loadAddon(path: string): { addon: NativeAddon } | { error: string } {
  try {
    if (!coretypeChosen) {
      coretypeChosen = true;
      chooseOpenblasCoretype();
    }
    const addon = require(path) as Partial<NativeAddon>;
    for (const fn of ['sgemm', 'adamw', 'setThreads', 'getThreads', 'config'] as const) {
      if (typeof addon[fn] !== 'function') return { error: `${path} does not export ${fn}()` };
    }
    return { addon: addon as NativeAddon };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND') return { error: `addon not built (${path} is missing)` };
    return { error: `addon failed to load: ${(e.message ?? String(err)).split('\n')[0]}` };
  }
}

function nativeKernels(addon: NativeAddon): Kernels {
  const elementwise = ELEMENTWISE.every((fn) => typeof addon[fn] === 'function')
    ? Object.fromEntries(ELEMENTWISE.map((fn) => [fn, addon[fn]]))
    : {};
  return {
    name: 'native',
    ...elementwise,
    ...(typeof addon.sgemmBatch === 'function' ? { sgemmBatch: addon.sgemmBatch } : {}),
    sgemm: addon.sgemm,
    adamw: addon.adamw,
    setThreads(threads: number): void {
      addon.setThreads(threads);
    },
  };
}

/** "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" -> "OpenBLAS 0.3.21 Haswell". */
function blasName(addon: NativeAddon): string {
  const words = addon.config().trim().split(/\s+/);
  const core = words.slice(2).find((w) => !/^(NO_|DYNAMIC_|USE_|MAX_|SMP)/.test(w) && !w.includes('='));
  return [...words.slice(0, 2), ...(core ? [core] : [])].join(' ') || 'OpenBLAS';
}

function resolvePreference(options: LoadKernelsOptions): { mode: KernelsPreference; source: string } {
  const env = process.env[ENV_VAR]?.trim();
  if (env) {
    if (env !== 'ts' && env !== 'native' && env !== 'auto') {
      throw new Error(`${ENV_VAR}=${env} is not valid; use ts, native or auto`);
    }
    return { mode: env, source: `${ENV_VAR}=${env}` };
  }
  const prefer = options.prefer ?? 'auto';
  if (prefer !== 'ts' && prefer !== 'native' && prefer !== 'auto') {
    throw new Error(`loadKernels: prefer must be 'auto', 'ts' or 'native' (got ${String(prefer)})`);
  }
  return { mode: prefer, source: `prefer: '${prefer}'` };
}

/**
 * Returns the kernels to use and logs exactly one line saying which were chosen (in the 'auto' fallback, a
 * warning line explaining why native is not used comes first). Throws only when native is forced but
 * unavailable (or on an invalid preference).
 */
export function loadKernels(options: LoadKernelsOptions = {}): Kernels {
  const log = options.log ?? ((line: string) => console.warn(line));
  const { mode, source } = resolvePreference(options);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new RangeError(`loadKernels: threads must be an integer >= 1 (got ${options.threads})`);
  }
  if (mode === 'ts') {
    log(`kernels: ts (${TS_KERNELS_DESCRIPTION}, 1 thread; ${source})`);
    return tsKernels;
  }
  const path = options.addonPath ?? defaultAddonPath;
  let kernels = nativeCache.get(path);
  let addon: NativeAddon | undefined;
  const loaded = loadAddon(path);
  if ('addon' in loaded) {
    addon = loaded.addon;
    if (!kernels) {
      kernels = nativeKernels(addon);
      nativeCache.set(path, kernels);
    }
  } else {
    if (mode === 'native') {
      throw new Error(
        `native kernels were requested (${source}) but are unavailable: ${loaded.error}. To build them: ${BUILD_HINT}; or use ${ENV_VAR}=ts.`,
      );
    }
    log(
      `warning: native kernels unavailable (${loaded.error}); falling back to the slower ts kernels. For the fast path: ${BUILD_HINT}.`,
    );
    log(`kernels: ts (${TS_KERNELS_DESCRIPTION}, 1 thread)`);
    return tsKernels;
  }
  if (options.threads !== undefined) kernels.setThreads(options.threads);
  log(
    `kernels: native (${blasName(addon)}, ${addon.getThreads()} thread${addon.getThreads() === 1 ? '' : 's'})`,
  );
  return kernels;
}

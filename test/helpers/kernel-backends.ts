import { loadKernels, tsKernels } from '../../src/engine/kernels/index.js';
import type { Kernels } from '../../src/engine/kernels/types.js';

/** The ts kernels, and the native ones where the addon loads (else a visible notice naming the test file). */
export function kernelBackends(testName: string): Kernels[] {
  try {
    return [tsKernels, loadKernels({ prefer: 'native', log: () => undefined })];
  } catch (error) {
    console.warn(
      `[${testName}] NOTICE: native kernels unavailable, testing ts only: ${(error as Error).message}`,
    );
    return [tsKernels];
  }
}

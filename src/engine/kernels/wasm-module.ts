/**
 * Instantiates one of the kernels' WebAssembly modules from its base64 bytes (wasm/*-binary.ts), or returns
 * undefined where the runtime has no WebAssembly or lacks a feature the module uses (SIMD): the caller then
 * keeps its TypeScript loops.
 */

/** The part of the WebAssembly global used here (tsconfig has no DOM lib, where its types live). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

export function instantiateWasm<Exports>(base64: string): Exports | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  const bytes = Buffer.from(base64, 'base64');
  if (!wasm || !wasm.validate(bytes)) return undefined;
  return new wasm.Instance(new wasm.Module(bytes)).exports as Exports;
}

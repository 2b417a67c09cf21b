import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedVersion: string | undefined;

/** This package's version (package.json, same relative place from src/ and dist/), for manifests and --version. */
export function toolVersion(): string {
  if (cachedVersion) return cachedVersion;
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../package.json');
  cachedVersion = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  return cachedVersion;
}

import { readFile } from 'node:fs/promises';
import { describeReadError } from '../../corpus/issues.js';

/** The error thrown when a QA-set file cannot be read at all: it names the file and the reason. */
export async function unreadable(file: string, err: unknown): Promise<Error> {
  return new Error(`QA set ${file}: ${await describeReadError(file, err)}`, { cause: err });
}

/** The whole file as bytes, or an Error naming the file. */
export async function readQaFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw await unreadable(file, err);
  }
}

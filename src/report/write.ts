import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../runtime/atomic-file.js';
import { renderReport } from './render.js';
import type { Report } from './types.js';

/** Renders the report and writes it so that a reader never sees half a file (creating the folder if needed). */
export async function writeReport(file: string, report: Report): Promise<void> {
  const html = renderReport(report);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, html);
}

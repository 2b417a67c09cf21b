/**
 * What the demo's tokenizer is trained on. Every method's model shares one small tokenizer (vocab ~1k), so
 * its merges decide how long each method's text is in tokens and how hard it is for a small model.
 */
import { openSource } from '../dataset/sources.js';

/** Study records per method in the tokenizer's training text: enough for its words, the same for each. */
const TOKENIZER_RECORDS_PER_METHOD = 2000;

/**
 * The tokenizer's training text: an even sample of each study run, the same number of records from each,
 * and the documents with the QA examples repeated to weigh as much as one method. Trained on the documents
 * alone it spelled the study data's own words ("alma mater", "specialised") letter by letter, which made
 * those methods' text longer and harder for a small model; on the study data alone, the QA words.
 */
export async function tokenizerTexts(
  worldTexts: readonly string[],
  studyDirs: readonly string[],
): Promise<string[]> {
  const sample: string[] = [];
  for (const dir of studyDirs) {
    const texts: string[] = [];
    for await (const doc of await openSource(dir, { include: 'response' })) texts.push(doc.text);
    const stride = Math.max(1, texts.length / TOKENIZER_RECORDS_PER_METHOD);
    for (let i = 0; i < texts.length; i += stride) sample.push(texts[Math.floor(i)]!);
  }
  const chars = (texts: readonly string[]) => texts.reduce((n, t) => n + t.length, 0);
  const repeats = Math.max(1, Math.round(chars(sample) / Math.max(1, studyDirs.length) / chars(worldTexts)));
  return [...sample, ...Array.from({ length: repeats }, () => worldTexts).flat()];
}

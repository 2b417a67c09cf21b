export type { QaImport, QaItem, QaProblem, SimpleQaItem } from './types.js';
export { importSimpleQaCsv, type SimpleQaImport, type SimpleQaOptions } from './simpleqa.js';
export { importFinanceBenchJsonl } from './financebench.js';
export { importQaJsonl } from './plain-jsonl.js';
export { writeQaJsonl } from './write.js';
export { loadQaSet, type LoadedQaSet, type QaSetFormat } from './load.js';
export { parsePythonLiteral, PythonLiteralError, type PyValue } from './python-literal.js';
export { citesEnglishWikipedia, wikipediaTitle, wikipediaTitles } from './wikipedia.js';

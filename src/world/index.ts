/** The synthetic knowledge world and its simulated reader (the offline demo). */
export * from './world.js';
export { factsOf, employerOf, peopleNamedIn, personByName, type Facts } from './facts.js';
export { renderDocument, writeWorldCorpus, WORLD_CORPUS_FILE, type WorldDocument } from './documents.js';
export {
  buildQaSet,
  EVAL_QUESTION_TEMPLATES,
  evalQuestion,
  guessingAccuracy,
  heldOutPeople,
  trainingQaText,
  type QaSetOptions,
  type QaSplit,
  type WorldQaItem,
} from './qa.js';
export { READER_QUESTION_TEMPLATES } from './phrasing.js';
export {
  createSimulatedReader,
  READER_VERSION,
  SIMULATION_NOTICE,
  type SimulatedReaderOptions,
} from './simulated-reader.js';

/**
 * A simulated reader: a TextGenerator, like a real LLM behind the same interface, that answers the study
 * engine's real prompts (Active Reading stages 1 and 2, paraphrase, qa, EntiGraph) for documents of a
 * fictional world. It recognises the prompt, finds the person the document is about, looks the person's
 * facts up in the world, and writes the answer with seeded templates. The output is a function of the
 * messages, the request seed and the reader seed (the temperature-0 output ignores the request seed, like
 * greedy decoding), so the study engine's cache and resume behave as with a real model.
 * It is a simulation: rule-based, not a language model; say so wherever its data is shown.
 */
import { createHash } from 'node:crypto';
import { abortedError, ModelRequestError } from '../models/errors.js';
import { tiktokenCounter } from '../models/tiktoken-counter.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from '../models/types.js';
import { loadTemplates, TEMPLATE_NAMES, type TemplateName } from '../study/templates.js';
import { writeEntities, writeQaPairs, writeRelation } from './baselines.js';
import { factsOf, peopleNamedIn } from './facts.js';
import { FORMS } from './forms.js';
import { styleOf, writeParaphrase } from './paraphrase.js';
import { PromptRecognizer } from './prompt-match.js';
import { rngFor } from './random.js';
import { formOfStrategy, writeStrategies, writeTaskStrategies } from './strategies.js';
import type { Person, World } from './world.js';

/** Put this wherever data of the simulated reader is shown (manifests, reports, README). */
export const SIMULATION_NOTICE =
  'SIMULATION: the study data of this run was written by a rule-based simulated reader over a synthetic ' +
  'world of fictional people (src/world/), not by a language model. It shows the pipeline working offline ' +
  'and measures the effect of restating facts; it does not measure any real LLM.';

/** Bumped when the reader's outputs change, so cached responses of an older reader are not reused. */
export const READER_VERSION = 1;

export interface SimulatedReaderOptions {
  /** Seed of the reader's own choices (default 0). */
  seed?: number;
  /** The prompts folder override the study uses (`--prompts DIR`), so its templates are recognised. */
  promptsDir?: string;
}

/** Tokens a chat template adds per message (role markers), as chat models count them. */
const TOKENS_PER_MESSAGE = 4;

export function createSimulatedReader(world: World, options: SimulatedReaderOptions = {}): TextGenerator {
  const readerSeed = options.seed ?? 0;
  const recognizer = new PromptRecognizer(loadTemplates(options.promptsDir));
  const counter = tiktokenCounter();
  const worldHash = createHash('sha256').update(JSON.stringify(world)).digest('hex').slice(0, 12);
  const id = `simulated-reader:world-${world.seed}`;

  const write = (request: GenerationRequest): string => {
    const recognized = recognizer.recognize(request.messages);
    if (!recognized) throw unrecognized(request);
    const person = personOf(world, recognized.vars.document ?? '', recognized.name);
    const facts = factsOf(person, world);
    const seed = request.temperature === 0 ? 0 : (request.seed ?? 0);
    const rng = rngFor('simulated-reader', readerSeed, seed, digest(request));
    const { vars } = recognized;
    switch (recognized.name) {
      case 'ar-strategies':
        return writeStrategies(rng, person, facts);
      case 'ar-task-strategies':
        return writeTaskStrategies(rng, person, facts);
      case 'ar-apply':
        return FORMS[formOfStrategy(vars.strategy ?? '')]({ person, world, facts, rng });
      case 'paraphrase':
        return writeParaphrase(rng, styleOf(vars.style ?? ''), person, facts, vars.style ?? '');
      case 'qa':
        return writeQaPairs(rng, person, facts);
      case 'entigraph-entities':
        return writeEntities(person, facts);
      case 'entigraph-relation':
        return writeRelation(rng, person, facts, vars.entity_a ?? '', vars.entity_b ?? '');
    }
  };

  return {
    id,
    cacheIdentity: `simulated-reader@${READER_VERSION}:world-${world.seed}-${worldHash}:reader-${readerSeed}`,
    async generate(request: GenerationRequest): Promise<GenerationResult> {
      if (request.signal?.aborted) throw abortedError(id, request.signal);
      const full = write(request);
      const promptTokens = request.messages.reduce(
        (n, m) => n + counter.count(m.content) + TOKENS_PER_MESSAGE,
        0,
      );
      const { text, tokens, truncated } = truncate(full, request.maxTokens, (s) => counter.count(s));
      return { text, promptTokens, completionTokens: tokens, finishReason: truncated ? 'length' : 'stop' };
    },
    countTokens: (text: string) => Promise.resolve(counter.count(text)),
    close: () => Promise.resolve(),
  };
}

function digest(request: GenerationRequest): string {
  return createHash('sha256')
    .update(JSON.stringify(request.messages.map((m) => [m.role, m.content])))
    .digest('hex');
}

/** The person the document is about: the first full name of the world in it (its title line). */
function personOf(world: World, document: string, prompt: TemplateName): Person {
  const person = peopleNamedIn(world, document)[0];
  if (!person) {
    throw new ModelRequestError(
      `simulated reader: the ${prompt} prompt's document names no person of world ${world.seed} ` +
        `(it begins "${document.slice(0, 60)}")`,
      { retryable: false, status: 400, code: 'SIMULATION_UNKNOWN_DOCUMENT' },
    );
  }
  return person;
}

function unrecognized(request: GenerationRequest): ModelRequestError {
  const user = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  return new ModelRequestError(
    `simulated reader: unrecognised prompt "${user.slice(0, 80).replace(/\s+/g, ' ')}..." ` +
      `(it answers only the study prompts: ${TEMPLATE_NAMES.join(', ')})`,
    { retryable: false, status: 400, code: 'SIMULATION_UNKNOWN_PROMPT' },
  );
}

/** Cuts the text at a word boundary to at most `maxTokens` tokens (binary search over the words). */
function truncate(
  text: string,
  maxTokens: number | undefined,
  count: (s: string) => number,
): { text: string; tokens: number; truncated: boolean } {
  const tokens = count(text);
  if (maxTokens === undefined || tokens <= maxTokens) return { text, tokens, truncated: false };
  const words = text.split(/(?<=\s)/);
  let lo = 0;
  let hi = words.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(words.slice(0, mid).join('').trimEnd()) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  const cut = words.slice(0, lo).join('').trimEnd();
  return { text: cut, tokens: count(cut), truncated: true };
}

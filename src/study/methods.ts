import type { Chunk } from '../corpus/types.js';
import type { RecordMethod } from '../dataset/record.js';
import type { ChatMessage } from '../models/types.js';
import type { LlmRuntime } from '../runtime/llm-runtime.js';
import { parseStrategies } from './parse-strategies.js';
import { requestSeed, seededShuffle } from './seeds.js';
import { describeTask, renderTemplate, type PromptTemplate, type TemplateName } from './templates.js';

/** A line of strategies.jsonl: the stage-1 output for one (method, chunk, rep). Users may edit it. */
export interface StageOneEntry {
  method: RecordMethod;
  doc_id: string;
  title: string;
  chunk_index: number;
  rep: number;
  /** Strategy texts (ar, ar-task) or "A <-> B" pair labels (entigraph), in unit order. */
  strategies: string[];
  questions?: string[];
  entities?: string[];
  pairs?: Array<[string, string]>;
  template: string;
}

/** One generation to make (or, for `repeat`, a literal document). */
export interface WorkUnit {
  strategy: number;
  messages: ChatMessage[];
  templateVersion: string;
  literal?: { text: string; tokens: number };
}

export interface SamplingConfig {
  temperature: number;
  topP?: number;
  maxTokens: number;
}

export interface MethodContext {
  templates: Record<TemplateName, PromptTemplate>;
  task: string;
  llm: LlmRuntime;
  sampling: SamplingConfig;
  seed: number;
  /** Entity pairs per rep for entigraph. */
  pairsPerRep: number;
}

export interface MethodSpec {
  name: RecordMethod;
  /** Stage 1: an LLM call whose parsed output is persisted to strategies.jsonl. */
  stageOne?: (chunk: Chunk, rep: number, ctx: MethodContext) => Promise<StageOneEntry>;
  /** The generations for one chunk and rep (after stage 1, if any). */
  units: (chunk: Chunk, rep: number, entry: StageOneEntry | undefined, ctx: MethodContext) => WorkUnit[];
}

const STAGE_ONE_ATTEMPTS = 3;

/** Stage 1 of Active Reading: ask for strategies, parse them, retry (new seed) when none parse. */
function activeReadingStageOne(method: 'ar' | 'ar-task') {
  return async (chunk: Chunk, rep: number, ctx: MethodContext): Promise<StageOneEntry> => {
    const taskSpecific = method === 'ar-task';
    const template = ctx.templates[taskSpecific ? 'ar-task-strategies' : 'ar-strategies'];
    const messages = renderTemplate(template, { document: chunk.text, task: describeTask(ctx.task) });
    let parsed = { strategies: [] as string[], questions: [] as string[] };
    for (let attempt = 0; attempt < STAGE_ONE_ATTEMPTS && parsed.strategies.length === 0; attempt++) {
      const outcome = await ctx.llm.generate({
        method,
        templateVersion: template.version,
        messages,
        temperature: ctx.sampling.temperature,
        topP: ctx.sampling.topP,
        maxTokens: ctx.sampling.maxTokens,
        seed: requestSeed(ctx.seed, method, 'stage1', chunk.doc_id, chunk.chunk_index, rep, attempt),
      });
      parsed = parseStrategies(outcome.text, { delimiter: taskSpecific });
    }
    return {
      ...coordinates(method, chunk, rep),
      strategies: parsed.strategies,
      ...(taskSpecific ? { questions: parsed.questions } : {}),
      template: template.version,
    };
  };
}

function activeReadingUnits(
  chunk: Chunk,
  _rep: number,
  entry: StageOneEntry | undefined,
  ctx: MethodContext,
): WorkUnit[] {
  const template = ctx.templates['ar-apply'];
  return (entry?.strategies ?? []).map((strategy, index) => ({
    strategy: index,
    messages: renderTemplate(template, { strategy, document: chunk.text }),
    templateVersion: template.version,
  }));
}

/** Rewrite styles for the paraphrase baseline (after WRAP); rep r uses style r mod n. */
export const PARAPHRASE_STYLES = [
  'in the style of an encyclopedia article, in clear and formal sentences',
  'in plain, simple language that a high-school student would understand',
  'as well-organised notes with one fact per bullet point, naming the subject in every bullet',
  'as a narrative that walks through the facts in order, the way a teacher would explain them',
];

async function entityStageOne(chunk: Chunk, rep: number, ctx: MethodContext): Promise<StageOneEntry> {
  const template = ctx.templates['entigraph-entities'];
  // Entities do not depend on the rep: one request per chunk, later reps hit the cache.
  const outcome = await ctx.llm.generate({
    method: 'entigraph',
    templateVersion: template.version,
    messages: renderTemplate(template, { document: chunk.text }),
    temperature: ctx.sampling.temperature,
    topP: ctx.sampling.topP,
    maxTokens: ctx.sampling.maxTokens,
    seed: requestSeed(ctx.seed, 'entigraph', 'entities', chunk.doc_id, chunk.chunk_index),
  });
  const entities = parseEntities(outcome.text);
  if (entities.length === 1 && entities[0]?.toLowerCase() !== chunk.title.toLowerCase()) {
    entities.push(chunk.title);
  }
  const allPairs: Array<[string, string]> = [];
  for (let i = 0; i < entities.length; i++) {
    for (let j = i + 1; j < entities.length; j++)
      allPairs.push([entities[i] as string, entities[j] as string]);
  }
  const order = seededShuffle(allPairs, `${ctx.seed}:${chunk.doc_id}:${chunk.chunk_index}`);
  const pairs: Array<[string, string]> = [];
  for (let k = 0; k < Math.min(ctx.pairsPerRep, order.length); k++) {
    pairs.push(order[(rep * ctx.pairsPerRep + k) % order.length] as [string, string]);
  }
  return {
    ...coordinates('entigraph', chunk, rep),
    strategies: pairs.map(([a, b]) => `${a} <-> ${b}`),
    entities,
    pairs,
    template: template.version,
  };
}

/** One entity per line; bullets, numbering and trailing explanations removed; case-insensitive dedup. */
export function parseEntities(text: string, max = 40): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const entity = raw
      .replace(/^\s*(?:[-*+•]|\d{1,3}[.)])\s*/, '')
      .replace(/\*\*/g, '')
      .replace(/\s+[-–—:(].*$/, '')
      .trim();
    if (!entity || entity.length > 80 || /:$/.test(raw.trim()) || /^#/.test(entity)) continue;
    const key = entity.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(entity);
    if (out.length >= max) break;
  }
  return out;
}

function coordinates(method: RecordMethod, chunk: Chunk, rep: number) {
  return { method, doc_id: chunk.doc_id, title: chunk.title, chunk_index: chunk.chunk_index, rep };
}

export const METHOD_SPECS: Record<RecordMethod, MethodSpec> = {
  ar: { name: 'ar', stageOne: activeReadingStageOne('ar'), units: activeReadingUnits },
  'ar-task': { name: 'ar-task', stageOne: activeReadingStageOne('ar-task'), units: activeReadingUnits },
  paraphrase: {
    name: 'paraphrase',
    units: (chunk, rep, _entry, ctx) => {
      const style = rep % PARAPHRASE_STYLES.length;
      const template = ctx.templates.paraphrase;
      return [
        {
          strategy: style,
          messages: renderTemplate(template, {
            document: chunk.text,
            style: PARAPHRASE_STYLES[style] as string,
          }),
          templateVersion: template.version,
        },
      ];
    },
  },
  qa: {
    name: 'qa',
    units: (chunk, _rep, _entry, ctx) => [
      {
        strategy: 0,
        messages: renderTemplate(ctx.templates.qa, { document: chunk.text }),
        templateVersion: ctx.templates.qa.version,
      },
    ],
  },
  entigraph: {
    name: 'entigraph',
    stageOne: entityStageOne,
    units: (chunk, _rep, entry, ctx) => {
      const template = ctx.templates['entigraph-relation'];
      return (entry?.pairs ?? []).map(([a, b], index) => ({
        strategy: index,
        messages: renderTemplate(template, { document: chunk.text, entity_a: a, entity_b: b }),
        templateVersion: template.version,
      }));
    },
  },
  repeat: {
    name: 'repeat',
    units: (chunk) => [
      {
        strategy: 0,
        messages: [],
        templateVersion: 'repeat',
        literal: { text: chunk.text, tokens: chunk.tokens },
      },
    ],
  },
};

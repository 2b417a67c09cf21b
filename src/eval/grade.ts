/**
 * Grading one answer: the lexical grader (deterministic, offline) or the SimpleQA judge through its own
 * LlmRuntime (cached and retried like every model call). Lexical scores are recorded either way, so a judge
 * run can be checked against string matching without a second run.
 */
import type { LlmRuntime } from '../runtime/llm-runtime.js';
import { gradeLexical, lexicalScores } from './graders/lexical.js';
import { buildJudgeMessages, type JudgeTemplate } from './graders/simpleqa-judge.js';
import { parseVerdict } from './graders/verdict.js';
import type { AnswerRecord, GradeRecord } from './records.js';

export interface Judge {
  llm: LlmRuntime;
  template: JudgeTemplate;
  /** The judge as the user named it, for the records. */
  model: string;
  maxTokens: number;
}

export function gradeLexically(answer: AnswerRecord): GradeRecord {
  const { verdict, exact_match, f1, contains } = gradeLexical(answer.answer, answer.gold);
  return { id: answer.id, verdict, grader: 'lexical', exact_match, f1, contains };
}

export async function gradeWithJudge(judge: Judge, answer: AnswerRecord): Promise<GradeRecord> {
  const scores = lexicalScores(answer.answer, answer.gold);
  // Nothing to judge: an empty answer is not attempted under the rubric, and asking would cost a request.
  if (answer.answer.trim() === '') {
    return {
      id: answer.id,
      verdict: 'not_attempted',
      grader: 'simpleqa',
      judge_model: judge.model,
      rule: 'empty answer',
      ...scores,
    };
  }
  const outcome = await judge.llm.generate({
    method: 'judge',
    templateVersion: judge.template.version,
    messages: buildJudgeMessages(answer.question, answer.gold, answer.answer, judge.template),
    temperature: 0,
    maxTokens: judge.maxTokens,
  });
  return {
    id: answer.id,
    verdict: parseVerdict(outcome.text),
    grader: 'simpleqa',
    judge_model: judge.model,
    judge_raw: outcome.text,
    ...scores,
  };
}

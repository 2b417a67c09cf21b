#!/usr/bin/env node
import { UsageError } from './args.js';
import { compareCommand, COMPARE_HELP } from './compare.js';
import { demoCommand, DEMO_HELP } from './demo.js';
import { evalCommand, EVAL_HELP } from './eval.js';
import { qaCommand, QA_HELP } from './qa.js';
import { studyCommand, STUDY_HELP } from './study.js';
import { trainCommand, TRAIN_HELP } from './train.js';

const HELP = `Usage: active-reading <command> [options]

Make a language model learn a body of documents, and measure how much it learned.

Commands
  demo      the whole loop offline on a fictional world: study, train, evaluate, report (start here)
  study     turn a corpus into Active Reading training data (and the paper's baselines)
  train     train a Llama-family model on that data with the TypeScript engine (CPU)
  qa        make a QA set: import SimpleQA or FinanceBench, or generate probe questions from a corpus
  eval      ask a model the questions closed-book (or with the source text) and grade the answers
  compare   put several evaluations side by side in one table and chart

Run "active-reading <command> --help" for the options of a command.
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  study: studyCommand,
  train: trainCommand,
  qa: qaCommand,
  eval: evalCommand,
  compare: compareCommand,
  demo: demoCommand,
};
const HELPS: Record<string, string> = {
  study: STUDY_HELP,
  train: TRAIN_HELP,
  qa: QA_HELP,
  eval: EVAL_HELP,
  compare: COMPARE_HELP,
  demo: DEMO_HELP,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELPS[rest[0] ?? ''] ?? HELP);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    const { toolVersion } = await import('../runtime/tool-version.js');
    process.stdout.write(`${toolVersion()}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run)
    throw new UsageError(`unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`active-reading: ${error.message} (see --help)\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(
        `active-reading: error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      if (process.env.ACTIVE_READING_DEBUG && error instanceof Error)
        process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    }
  },
);

/** The demo's data: its methods, and what a run measures. */
import type { MetricWithCi } from '../eval/metrics.js';
import type { DemoSize } from './sizes.js';

export const DEMO_METHODS = ['repeat', 'paraphrase', 'qa', 'ar'] as const;
export type DemoMethod = (typeof DEMO_METHODS)[number];

/** Accuracy of one model on one split. */
export interface DemoPoint {
  trainTokens: number;
  heldout: MetricWithCi;
}

export interface DemoRow {
  method: DemoMethod;
  studyTokens: number;
  studyRecords: number;
  trainTokens: number;
  heldout: MetricWithCi;
  train: MetricWithCi;
  /** Held-out accuracy of the intermediate snapshots and the final model, by tokens trained. */
  curve: DemoPoint[];
  seconds: { study: number; train: number; eval: number };
}

export interface DemoResult {
  status: 'complete' | 'interrupted';
  rows: DemoRow[];
  settings: DemoSettings;
  seconds: number;
  kernels: string;
  /** Held-out accuracy of guessing each attribute's most common train answer: the floor to read against. */
  guessing: number;
}

export interface DemoSettings {
  format: 'active-reading/demo@1';
  size: DemoSize;
  seed: number;
  methods: DemoMethod[];
  simulation: string;
}

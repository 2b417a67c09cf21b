/**
 * The report's data model: plain data that `eval`, `compare` and `demo` build and `renderReport` turns into one
 * self-contained HTML file. Every string is user-provided and is escaped on output; every number may be NaN or
 * missing and then shows as '–'.
 */

/**
 * How a number reads. 'percent' takes a fraction (0.662 reads "66.2%"), everywhere in this module: table cells,
 * intervals and charts with `unit: '%'`.
 */
export type NumberFormat = 'percent' | 'number';

/** A value with its 95% interval, rendered "66.2% (64.1–68.3)". */
export interface IntervalValue {
  value: number;
  low: number;
  high: number;
  /** Overrides the column's format. */
  format?: NumberFormat;
  /** Decimals (of the percentage for 'percent'); default 1 for percent, about 3 significant digits otherwise. */
  digits?: number;
}

/** A table cell; null, undefined and non-finite numbers render as '–'. */
export type Cell = string | number | IntervalValue | null | undefined;

export interface TableColumn {
  key: string;
  label: string;
  /** Default: right when every present cell of the column is numeric, left otherwise. */
  align?: 'left' | 'right';
  /** Format of plain numbers (and of intervals that name none). Default 'number'. */
  format?: NumberFormat;
  digits?: number;
  /** Set bold the best value of the column (ties included) when at least two rows have one. */
  best?: 'max' | 'min';
}

export interface TableSection {
  kind: 'table';
  title: string;
  columns: TableColumn[];
  rows: Record<string, Cell>[];
  note?: string;
}

export interface Bar {
  series: string;
  value: number;
  low?: number;
  high?: number;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

/** Grouped vertical bars with optional error bars; each series keeps its colour across the report. */
export interface BarChartSection {
  kind: 'bar-chart';
  title: string;
  yLabel: string;
  /** '%': values are fractions, shown as percentages. */
  unit?: '%';
  groups: BarGroup[];
  /** Fix the y range instead of fitting it to the data (values outside are clipped). */
  yMin?: number;
  yMax?: number;
  note?: string;
}

export interface LinePoint {
  x: number;
  y: number;
  low?: number;
  high?: number;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
}

/** Lines with markers and error bars, e.g. accuracy against training tokens. Points are drawn sorted by x. */
export interface LineChartSection {
  kind: 'line-chart';
  title: string;
  xLabel: string;
  yLabel: string;
  /** '%': y values are fractions, shown as percentages. */
  unit?: '%';
  series: LineSeries[];
  /** 'log' drops points with x <= 0 and says so under the chart. */
  xScale?: 'linear' | 'log';
  yMin?: number;
  yMax?: number;
  note?: string;
}

export interface TextSection {
  kind: 'text';
  title?: string;
  paragraphs: string[];
}

/** Run metadata: model, mode, grader, counts, "simulation"... */
export interface KeyValuesSection {
  kind: 'key-values';
  title?: string;
  entries: [string, string | number | boolean | null | undefined][];
}

export type Section = TableSection | BarChartSection | LineChartSection | TextSection | KeyValuesSection;

export interface Report {
  title: string;
  subtitle?: string;
  /** Shown as given (e.g. an ISO timestamp); nothing is added when absent, so output stays reproducible. */
  generatedAt?: string;
  /** A prominent banner under the title, e.g. "Simulation: no real model was trained." */
  notice?: string;
  /**
   * Series names in the order that picks their colours. Names not listed get the next colours in order of
   * first appearance; pass the same list to several reports to give a method the same colour in all of them.
   */
  seriesOrder?: string[];
  sections: Section[];
}

/** HTML reports: one self-contained file with tables and inline SVG charts, for eval, compare and the demo. */
export type {
  Bar,
  BarChartSection,
  BarGroup,
  Cell,
  IntervalValue,
  KeyValuesSection,
  LineChartSection,
  LinePoint,
  LineSeries,
  NumberFormat,
  Report,
  Section,
  TableColumn,
  TableSection,
  TextSection,
} from './types.js';
export { renderReport, renderSection } from './render.js';
export { writeReport } from './write.js';
export { renderBarChart } from './bar-chart.js';
export { renderLineChart } from './line-chart.js';
export { renderTable } from './table.js';
export { escapeHtml } from './escape.js';
export { DASH, compactNumber, formatCell, formatInterval, formatNumber, formatPercent } from './format.js';
export { PALETTE, SeriesColors } from './palette.js';
export { logTicks, niceTicks, type Ticks } from './scale.js';

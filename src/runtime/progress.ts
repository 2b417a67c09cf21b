/**
 * Progress reporting: a redrawn bar with rate and ETA on a TTY, plain periodic lines otherwise (CI, logs).
 * The caller supplies the unit ("tokens", "chunks") and updates `done`; the total may grow or be unknown.
 */
export interface ProgressOptions {
  label: string;
  unit: string;
  total?: number;
  stream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number };
  /** Interval of plain lines when not on a TTY. */
  lineIntervalMs?: number;
  /** Extra text appended to each line (e.g. tokens/s, cache hits). */
  detail?: () => string;
  now?: () => number;
}

export class Progress {
  private done = 0;
  private total: number | undefined;
  private readonly startedAt: number;
  private lastDraw = 0;
  /** `done` at the last line drawn (undefined before the first). */
  private drawnDone: number | undefined;
  private readonly tty: boolean;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.total = options.total;
    this.now = options.now ?? (() => Date.now());
    this.startedAt = this.now();
    const interval = this.tty ? 200 : (options.lineIntervalMs ?? 10_000);
    this.timer = setInterval(() => this.draw(), interval);
    this.timer.unref();
  }

  setTotal(total: number | undefined): void {
    this.total = total;
  }

  update(done: number): void {
    this.done = done;
  }

  /** One line of status: "label 1,234/5,000 tokens (24.7%) 311/s ETA 12s detail". */
  line(): string {
    const elapsed = Math.max(1e-3, (this.now() - this.startedAt) / 1000);
    const rate = this.done / elapsed;
    const parts = [this.options.label];
    if (this.total !== undefined && this.total > 0) {
      const fraction = Math.min(1, this.done / this.total);
      parts.push(
        `${fmt(this.done)}/${fmt(this.total)} ${this.options.unit} (${(fraction * 100).toFixed(1)}%)`,
      );
      if (this.tty) parts.splice(1, 0, bar(fraction, 24));
      const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
      parts.push(`${fmt(rate)}/s`, `ETA ${duration(eta)}`);
    } else {
      parts.push(`${fmt(this.done)} ${this.options.unit}`, `${fmt(rate)}/s`, `elapsed ${duration(elapsed)}`);
    }
    const detail = this.options.detail?.();
    if (detail) parts.push(detail);
    return parts.join(' ');
  }

  private draw(): void {
    this.lastDraw = this.now();
    this.drawnDone = this.done;
    if (this.tty) {
      const width = (this.stream as { columns?: number }).columns ?? 120;
      this.stream.write(
        `\r${this.line()
          .slice(0, width - 1)
          .padEnd(width - 1)}`,
      );
    } else {
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Final line (unless a plain line already showed this count), then stop the timer. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.tty && this.drawnDone === this.done) return;
    this.draw();
    if (this.tty) this.stream.write('\n');
  }

  get lastDrawAt(): number {
    return this.lastDraw;
  }
}

function bar(fraction: number, width: number): string {
  const full = Math.round(fraction * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '?';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  // Thousands separators by hand: toLocaleString goes through ICU and costs milliseconds per call.
  return Number.isInteger(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : n.toFixed(1);
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

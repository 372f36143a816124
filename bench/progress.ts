// The progress display of `npm run bench`: which section and step runs, for how
// long, and the overall elapsed time. On a terminal one status line is
// redrawn in place (with a spinner); otherwise each step is one plain line,
// so logs of CI runs read well too. Everything goes to stderr: stdout holds
// the final table only.

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export class Progress {
  private readonly tty: boolean;
  private readonly started = Date.now();
  private section = '';
  private sectionIndex = 0;
  private step = '';
  private stepStarted = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private lastLen = 0;

  constructor(private readonly sectionCount: number, private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb';
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 120);
      this.timer.unref();
    }
  }

  /** A new section ("1/4 throughput"). */
  beginSection(name: string): void {
    this.sectionIndex++;
    this.section = name;
    this.step = '';
    this.line(`[${this.sectionIndex}/${this.sectionCount}] ${name}`);
  }

  /** What runs now inside the section. */
  begin(step: string): void {
    this.step = step;
    this.stepStarted = Date.now();
    if (this.tty) this.draw();
    else this.out.write(`      ${step} ...\n`);
  }

  /** The step finished; `detail` is a short result ("2.31 Gbit/s"). */
  done(detail = ''): void {
    const took = secs(Date.now() - this.stepStarted);
    this.line(`      ${this.step}${detail ? `: ${detail}` : ''} (${took})`);
    this.step = '';
  }

  /** A message that stays on screen (a warning, a note). */
  note(text: string): void {
    this.line(`      ${text}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
    this.out.write(`bench finished in ${secs(Date.now() - this.started)}\n`);
  }

  private line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    if (this.tty) this.draw();
  }

  private clear(): void {
    if (this.tty && this.lastLen > 0) this.out.write(`\r${' '.repeat(this.lastLen)}\r`);
    this.lastLen = 0;
  }

  private draw(): void {
    if (!this.tty || !this.step) return;
    const spin = SPINNER[this.frame++ % SPINNER.length];
    const width = (this.out.columns ?? 100) - 1;
    let text = `${spin} [${this.sectionIndex}/${this.sectionCount}] ${this.section} · ${this.step} · ${secs(Date.now() - this.stepStarted)} (total ${secs(Date.now() - this.started)})`;
    if (text.length > width) text = `${text.slice(0, width - 1)}…`;
    this.clear();
    this.out.write(text);
    this.lastLen = text.length;
  }
}

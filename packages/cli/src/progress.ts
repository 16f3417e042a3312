import cliProgress from 'cli-progress';

/** One long piece of work whose progress is shown. */
export interface ProgressTask {
  /** Reports `done` steps of the total; `detail` says what runs now. */
  update(done: number, detail?: string): void;
  /** Ends the task, with its duration. */
  finish(): void;
}

/** Starts a {@link ProgressTask}: `label` names the work, `total` counts its steps. */
export type ProgressFactory = (label: string, total: number) => ProgressTask;

/** Where progress goes: a live bar on a terminal, plain lines otherwise. */
export interface ProgressOptions {
  /** A terminal stream for live bars; without one, progress is printed as plain lines. */
  readonly terminal?: NodeJS.WritableStream;
  /** Where plain lines go. */
  readonly line: (text: string) => void;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Makes progress reporters: a cli-progress bar when writing to a terminal, otherwise plain
 * lines at every quarter of the work (logs and CI stay readable), with the time taken at the end.
 */
export function createProgress(options: ProgressOptions): ProgressFactory {
  return (label, total) => {
    const started = Date.now();
    if (options.terminal) {
      const bar = new cliProgress.SingleBar(
        {
          stream: options.terminal,
          format: `${label.padEnd(24)} {bar} {value}/{total} | {duration_formatted} | ETA {eta_formatted} {detail}`,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { detail: '' });
      return {
        update: (done, detail) => bar.update(done, { detail: detail ?? '' }),
        finish: () => {
          bar.stop();
          options.line(`${label}: ${total}/${total} in ${seconds(Date.now() - started)}`);
        },
      };
    }
    let shown = -1;
    return {
      update(done) {
        const quarter = total === 0 ? 4 : Math.floor((done * 4) / total);
        if (quarter === shown || done >= total) return;
        shown = quarter;
        options.line(`${label}: ${done}/${total}`);
      },
      finish() {
        options.line(`${label}: ${total}/${total} in ${seconds(Date.now() - started)}`);
      },
    };
  };
}

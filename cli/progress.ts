import cliProgress from 'cli-progress';

export interface Progress {
  increment(by?: number): void;
  setTotal(total: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr for long work (DLQ replay, resync of many reservations). It draws
 * only on a terminal, so piped output and tests stay clean; the final counts go to stdout.
 */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const bar = new cliProgress.SingleBar(
    { stream, format: `${label} [{bar}] {value}/{total}`, hideCursor: true, clearOnComplete: false, noTTYOutput: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0);
  let value = 0;
  let currentTotal = Math.max(total, 1);
  return {
    increment(by = 1) {
      value += by;
      if (value > currentTotal) bar.setTotal((currentTotal = value));
      bar.increment(by);
    },
    setTotal(next) {
      bar.setTotal((currentTotal = Math.max(next, value, 1)));
    },
    stop() {
      bar.stop();
    },
  };
}

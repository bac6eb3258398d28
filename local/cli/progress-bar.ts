/**
 * A count towards a total on stderr: a bar redrawn in place on a TTY, a plain line at every tenth
 * otherwise (logs stay short). Counts only: never an id or an email.
 */
export interface ProgressBar {
  tick(by?: number): void;
  done(): void;
}

export function createProgressBar(
  total: number,
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressBar {
  const live = Boolean(stream.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI;
  let count = 0;
  let lastTenth = 0;
  const width = 30;
  const draw = () => {
    const filled = total === 0 ? width : Math.round((count / total) * width);
    stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${label}`);
  };
  if (live) draw();
  return {
    tick(by = 1) {
      count = Math.min(total, count + by);
      if (live) draw();
      else {
        const tenth = total === 0 ? 10 : Math.floor((count / total) * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          stream.write(`${new Date().toISOString()} ${count}/${total} ${label}\n`);
        }
      }
    },
    done() {
      if (live) stream.write('\n');
    },
  };
}

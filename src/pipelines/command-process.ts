/**
 * Runs one child process for a command step: without a shell, in its own process group (so stopping
 * it also stops what it started), its output read line by line. Stopping sends SIGTERM to the group
 * and, after a grace period, SIGKILL.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface ProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The name the program sees as argv[0]. */
  argv0: string;
  /** Aborting stops the process group; the run then rejects with the abort reason. */
  signal: AbortSignal;
  killGraceMs: number;
  onLine(stream: 'stdout' | 'stderr', line: string): void;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last non-empty line the process wrote to stdout. */
  lastStdoutLine: string | null;
  /** Its last lines on stderr, oldest first. */
  stderrTail: string[];
}

/** How many stderr lines a failure message quotes, and how much of each. */
const STDERR_TAIL = 20;
const TAIL_LINE_CHARS = 500;
/** How long a process that exited may leave its pipes held open by an escaped descendant. */
const PIPE_DRAIN_MS = 2_000;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

function readLines(stream: Readable, onLine: (line: string) => void): Promise<unknown> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', onLine);
  return once(lines, 'close');
}

/** Runs file with args to its end; rejects with the spawn error, or the abort reason when stopped. */
export async function runProcess(
  file: string,
  args: readonly string[],
  options: ProcessOptions,
): Promise<ProcessResult> {
  const result: ProcessResult = { code: null, signal: null, lastStdoutLine: null, stderrTail: [] };
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    argv0: options.argv0,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timers: NodeJS.Timeout[] = [];
  const stop = (): void => {
    killGroup(child.pid, 'SIGTERM');
    timers.push(setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.killGraceMs));
  };
  if (options.signal.aborted) stop();
  options.signal.addEventListener('abort', stop, { once: true });
  child.on('exit', () => {
    // Descendants left behind would outlive the attempt; the group goes with its leader.
    killGroup(child.pid, 'SIGKILL');
    const drain = (): void => {
      child.stdout.destroy();
      child.stderr.destroy();
    };
    timers.push(setTimeout(drain, PIPE_DRAIN_MS));
  });
  const stdoutDone = readLines(child.stdout, (line) => {
    options.onLine('stdout', line);
    if (line.trim() !== '') result.lastStdoutLine = line;
  });
  const stderrDone = readLines(child.stderr, (line) => {
    options.onLine('stderr', line);
    result.stderrTail.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}...` : line);
    if (result.stderrTail.length > STDERR_TAIL) result.stderrTail.shift();
  });
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    await Promise.all([stdoutDone, stderrDone]);
    result.code = code;
    result.signal = signal;
  } finally {
    options.signal.removeEventListener('abort', stop);
    for (const timer of timers) clearTimeout(timer);
  }
  if (options.signal.aborted) throw options.signal.reason;
  return result;
}

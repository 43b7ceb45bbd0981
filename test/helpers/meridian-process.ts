/** Runs the real `meridian` CLI as a child process, the way a user or an orchestrator would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(REPO_ROOT, 'src/cli/main.ts');

export interface MeridianProcess {
  child: ChildProcess;
  httpUrl: string;
  grpcAddress: string;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Runs `meridian <args>` to completion and gives back its exit code and output. */
export function runMeridian(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c));
  child.stderr?.on('data', (c: Buffer) => (stderr += c));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`meridian ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Starts `meridian up <args>` and resolves once it prints its ready line. */
export async function startMeridian(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<MeridianProcess> {
  const child = spawnCli(['up', ...args], env);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const ready = await new Promise<RegExpMatchArray>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`meridian up was not ready within ${timeoutMs} ms\n${stderr}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c;
      const match = /meridian ready: .*http (http:\/\/\S+), grpc grpc:\/\/(\S+),/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        done(match);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`meridian up exited with ${code} before it was ready\n${stderr}`));
    });
  });
  return {
    child,
    httpUrl: ready[1]!,
    grpcAddress: ready[2]!,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Spawns `meridian <args>` without waiting for anything. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

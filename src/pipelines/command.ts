/**
 * A command step's command line: split into arguments the way a POSIX shell would (quotes and
 * backslashes, but no variables, globs or pipes, because no shell runs it), and its executable found
 * the way execvp would, so a missing program is reported when the pipeline is defined.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';

/** Why a command line could not be split; the caller names the field. */
export class CommandSyntaxError extends Error {}

interface SplitState {
  args: string[];
  current: string;
  /** Whether the current argument exists even if empty (`''` is an argument). */
  started: boolean;
}

/** Splits `text` into arguments: whitespace separates, '...' is literal, "..." honours \" \\ \$ \`. */
export function splitCommand(text: string): string[] {
  const state: SplitState = { args: [], current: '', started: false };
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      endArgument(state);
      i++;
    } else if (ch === "'") {
      i = singleQuoted(text, i + 1, state);
    } else if (ch === '"') {
      i = doubleQuoted(text, i + 1, state);
    } else if (ch === '\\') {
      if (i + 1 >= text.length) throw new CommandSyntaxError('ends with a lone backslash');
      // A backslash before a newline continues the line, as in a shell.
      if (text[i + 1] !== '\n') append(state, text[i + 1] as string);
      i += 2;
    } else {
      append(state, ch);
      i++;
    }
  }
  endArgument(state);
  return state.args;
}

function append(state: SplitState, text: string): void {
  state.current += text;
  state.started = true;
}

function endArgument(state: SplitState): void {
  if (state.started) state.args.push(state.current);
  state.current = '';
  state.started = false;
}

function singleQuoted(text: string, start: number, state: SplitState): number {
  const end = text.indexOf("'", start);
  if (end < 0) throw new CommandSyntaxError(`has an unterminated single quote at character ${start}`);
  append(state, text.slice(start, end));
  return end + 1;
}

const DOUBLE_QUOTE_ESCAPES = new Set(['"', '\\', '$', '`']);

function doubleQuoted(text: string, start: number, state: SplitState): number {
  state.started = true;
  let i = start;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') return i + 1;
    if (ch === '\\' && i + 1 < text.length && DOUBLE_QUOTE_ESCAPES.has(text[i + 1] as string)) {
      append(state, text[i + 1] as string);
      i += 2;
    } else if (ch === '\\' && text[i + 1] === '\n') {
      i += 2;
    } else {
      append(state, ch);
      i++;
    }
  }
  throw new CommandSyntaxError(`has an unterminated double quote at character ${start}`);
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of the program `name` names: a path (containing a slash) is taken relative to
 * `cwd`; a bare name is looked up on `pathVariable`. Null when there is no such executable file.
 */
export function findExecutable(
  name: string,
  cwd: string = process.cwd(),
  pathVariable: string | undefined = process.env.PATH,
): string | null {
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : resolve(cwd, name);
    return isExecutableFile(path) ? path : null;
  }
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    // An empty PATH entry means the current directory, as execvp reads it.
    const candidate = resolve(cwd, dir === '' ? '.' : dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandSyntaxError, findExecutable, splitCommand } from './command.js';

describe('splitCommand', () => {
  it('splits on runs of whitespace', () => {
    expect(splitCommand('  python3   train.py\t--date  2024-01-01\n')).toEqual([
      'python3',
      'train.py',
      '--date',
      '2024-01-01',
    ]);
  });

  it('keeps single-quoted text literally, backslashes and double quotes included', () => {
    expect(splitCommand(`echo 'a b \\n "c"'`)).toEqual(['echo', 'a b \\n "c"']);
  });

  it('honours \\" \\\\ \\$ and \\` inside double quotes and keeps other backslashes', () => {
    expect(splitCommand('echo "say \\"hi\\" \\\\ \\$HOME \\n"')).toEqual(['echo', 'say "hi" \\ $HOME \\n']);
  });

  it('joins quoted and unquoted parts of one word', () => {
    expect(splitCommand(`--name="my model"'s'x`)).toEqual(['--name=my modelsx']);
  });

  it('keeps empty quoted arguments', () => {
    expect(splitCommand(`a '' "" b`)).toEqual(['a', '', '', 'b']);
  });

  it('escapes a space outside quotes and continues a line after a backslash-newline', () => {
    expect(splitCommand('cat my\\ file \\\n--flag')).toEqual(['cat', 'my file', '--flag']);
  });

  it('does not expand variables, globs or pipes', () => {
    expect(splitCommand('echo $HOME *.py | wc')).toEqual(['echo', '$HOME', '*.py', '|', 'wc']);
  });

  it('rejects unterminated quotes and a trailing backslash', () => {
    expect(() => splitCommand(`echo 'open`)).toThrow(
      new CommandSyntaxError('has an unterminated single quote at character 6'),
    );
    expect(() => splitCommand('echo "open')).toThrow(/unterminated double quote at character 6/);
    expect(() => splitCommand('echo \\')).toThrow(/lone backslash/);
  });
});

describe('findExecutable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-exe-'));
  const script = join(dir, 'tool.sh');
  writeFileSync(script, '#!/bin/sh\necho hi\n');
  chmodSync(script, 0o755);
  writeFileSync(join(dir, 'plain.txt'), 'not a program');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a bare name on PATH', () => {
    expect(findExecutable('tool.sh', '/', `/nonexistent:${dir}`)).toBe(script);
    expect(findExecutable('sh')).toMatch(/\/sh$/);
  });

  it('resolves a path with a slash against the working directory', () => {
    expect(findExecutable('./tool.sh', dir, '')).toBe(script);
    expect(findExecutable(script, '/', '')).toBe(script);
  });

  it('answers null for a missing program, a file that is not executable and a directory', () => {
    expect(findExecutable('no-such-program-xyz', '/', dir)).toBeNull();
    expect(findExecutable('./plain.txt', dir)).toBeNull();
    expect(findExecutable(dir)).toBeNull();
  });
});

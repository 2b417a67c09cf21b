import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_FLAGS, COMPARE_HELP } from '../../src/cli/compare.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { tempDir } from '../helpers/study-fixtures.js';
import { cli, cliSync, evalResponder, manyItems, requireCli, writeQaFile } from './eval-fixtures.js';

let dir: string;
let server: ScriptedServer;
beforeAll(async () => {
  await requireCli();
  dir = await tempDir('ar-compare-cli-');
  // The "ar" model knows every answer; the "base" model knows none.
  const items = manyItems(6);
  const known = Object.fromEntries(items.map((i) => [i.question, i.answer]));
  server = await startScriptedServer({
    respond: (body) => (body.model === 'ar-model' ? evalResponder(known) : evalResponder({ x: 'y' }))(body),
  });
});
afterAll(() => server.close());

describe('compare', () => {
  it('--help documents every flag; no directory is a usage error', () => {
    const help = cliSync(['compare', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(COMPARE_HELP);
    for (const flag of Object.keys(COMPARE_FLAGS)) expect(help.stdout).toContain(`--${flag}`);
    const none = cliSync(['compare']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give one or more eval output directories/);
    const bad = cliSync(['compare', 'x', '--colour']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('puts two evaluations side by side, in the order given', async () => {
    const qa = await writeQaFile(path.join(dir, 'qa.jsonl'), manyItems(6));
    const evalArgs = (model: string, out: string, label: string) => [
      'eval',
      '--qa',
      qa,
      '--out',
      out,
      '--model',
      model,
      '--base-url',
      server.url,
      '--label',
      label,
    ];
    const base = path.join(dir, 'eval-base');
    const ar = path.join(dir, 'eval-ar');
    expect((await cli(evalArgs('base-model', base, 'base'))).code).toBe(0);
    expect((await cli(evalArgs('ar-model', ar, 'ar'))).code).toBe(0);

    const report = path.join(dir, 'out', 'compare.html');
    const { code, stdout, stderr } = cliSync(['compare', base, ar, '--out', report]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Method\s+Mode\s+Grader\s+n\s+% correct/);
    expect(lines[2]).toMatch(/^base\s+closed-book\s+lexical\s+6\s+0\.0% /);
    expect(lines[3]).toMatch(/^ar\s+closed-book\s+lexical\s+6\s+100\.0% /);
    expect(lines[4]).toBe(`report: ${report}`);
    const html = await fs.readFile(report, 'utf8');
    expect(html).toContain('Evaluations compared');
    expect(html.indexOf('>base<')).toBeLessThan(html.indexOf('>ar<'));
    expect(html).toContain('<svg');

    const reversed = cliSync(['compare', ar, base, '--out', report]);
    expect(reversed.stdout.split('\n')[2]).toMatch(/^ar /);
  });

  it('a directory without summary.json is an error naming it', () => {
    const { code, stderr } = cliSync(['compare', dir, '--out', path.join(dir, 'x.html')]);
    expect(code).toBe(1);
    expect(stderr).toContain(path.join(dir, 'summary.json'));
  });
});

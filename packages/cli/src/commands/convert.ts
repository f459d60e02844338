import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { ErrorCodes, RedlineError, parseDuration, writeFileAtomic } from '@redline/core';
import { harToScenario } from '@redline/load';
import { parseCommandArgs } from '../args.js';
import { err, out, type CliIo } from '../io.js';

export const CONVERT_HELP = `Usage: redline convert har FILE.har [--out scenario.ts] [--think-time] [--max-think-time 10s] [--skip-static]

Turns a browser recording (HAR, from the DevTools network panel) into a scenario file: one VU
replays the requests in recorded order, grouped by page. Without --out the scenario goes to stdout.

  --out FILE            write the scenario to FILE
  --think-time          sleep between requests as the recording's timestamps say
  --max-think-time DUR  longest think time kept (default 10s)
  --skip-static         leave out images, fonts, stylesheets, scripts and media
  --name NAME           scenario name (default: the first page's title)

Pseudo-headers (:authority), hop-by-hop headers, Content-Length and Cookie are not replayed;
the VU's cookie jar keeps the cookies the responses set.`;

/** \`redline convert har FILE\`. */
export async function convertCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('convert', args, {
    out: { type: 'string', short: 'o' },
    'think-time': { type: 'boolean' },
    'max-think-time': { type: 'string' },
    'skip-static': { type: 'boolean' },
    name: { type: 'string' },
  });
  if (v.help) {
    out(io, CONVERT_HELP);
    return 0;
  }
  const [format, file, ...extra] = positionals;
  if (format !== 'har') throw new RedlineError(ErrorCodes.USAGE, `redline convert: expected a format and a file, such as "redline convert har recording.har"${format ? ` (unknown format "${format}")` : ''}`);
  if (!file || extra.length) throw new RedlineError(ErrorCodes.USAGE, 'redline convert har: expected exactly one HAR file');
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `cannot read HAR file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const result = harToScenario(text, {
    source: file,
    thinkTime: Boolean(v['think-time']),
    skipStatic: Boolean(v['skip-static']),
    ...(v['max-think-time'] !== undefined ? { maxThinkTimeMs: parseDuration(String(v['max-think-time'])) } : {}),
    ...(v.name !== undefined ? { name: String(v.name) } : {}),
  });
  if (v.out === undefined) {
    io.stdout.write(result.code);
    return 0;
  }
  const target = resolve(io.cwd, String(v.out));
  try {
    await writeFileAtomic(target, result.code);
  } catch (e) {
    throw new RedlineError(ErrorCodes.WRITE_FAILED, `cannot write ${String(v.out)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const skipped = [result.skippedStatic ? `${result.skippedStatic} static` : '', result.skippedOther ? `${result.skippedOther} non-http` : ''].filter(Boolean).join(', ');
  if (v.json) out(io, JSON.stringify({ out: target, requests: result.requests, skippedStatic: result.skippedStatic, skippedOther: result.skippedOther }));
  else {
    out(io, `scenario: ${relative(io.cwd, target)} (${result.requests} request${result.requests === 1 ? '' : 's'}${skipped ? `; skipped ${skipped}` : ''})`);
    err(io, `run it with: redline run ${relative(io.cwd, target)}`);
  }
  return 0;
}

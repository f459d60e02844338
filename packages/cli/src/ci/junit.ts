import { formatDuration, formatThresholdActual, type RunResult } from '@redline/core';
import { noResponseError } from '@redline/load';

/** Escapes text for XML attributes and content (and drops characters XML 1.0 cannot hold). */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  classname: string;
  name: string;
  failure?: { message: string; type: string; detail: string };
}

function suite(name: string, cases: readonly Case[], seconds: number): string {
  const failures = cases.filter((c) => c.failure).length;
  const body = cases
    .map((c) => {
      const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="0"`;
      if (!c.failure) return `${open}/>`;
      return `${open}>\n      <failure message="${xmlEscape(c.failure.message)}" type="${xmlEscape(c.failure.type)}">${xmlEscape(c.failure.detail)}</failure>\n    </testcase>`;
    })
    .join('\n');
  return `  <testsuite name="${xmlEscape(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds.toFixed(3)}">${cases.length ? `\n${body}\n  ` : ''}</testsuite>`;
}

/**
 * The run as JUnit XML (`--junit FILE`): the run itself (it measured something and was not
 * stopped), each threshold and each check as a testcase; failures carry the actual values.
 */
export function junitXml(r: RunResult): string {
  const seconds = r.summary.durationMs / 1000;
  const runCases: Case[] = [];
  const nothing = noResponseError(r);
  const runFailure = nothing
    ? { message: nothing.message, type: nothing.code, detail: nothing.message }
    : r.status !== 'completed'
      ? { message: `the run was ${r.status} after ${formatDuration(r.summary.durationMs)}`, type: `run.${r.status}`, detail: `status ${r.status}; ${r.summary.requests} requests, ${r.summary.errors} errors` }
      : undefined;
  runCases.push({ classname: `redline.${r.name}`, name: 'run completed with responses', ...(runFailure ? { failure: runFailure } : {}) });
  const thresholdCases: Case[] = r.thresholds.map((t) => {
    const actual = formatThresholdActual(t.metric, t.expression, t.actual, t.unit);
    return {
      classname: `redline.${r.name}.thresholds`,
      name: `${t.metric}: ${t.expression}`,
      ...(t.ok ? {} : { failure: { message: `actual ${actual}`, type: 'threshold', detail: `${t.metric} ${t.expression} failed: actual ${actual}${t.abortOnFail ? ' (abortOnFail)' : ''}` } }),
    };
  });
  const checkCases: Case[] = Object.entries(r.summary.checks.byName).map(([name, c]) => {
    const total = c.passes + c.fails;
    return {
      classname: `redline.${r.name}.checks`,
      name,
      ...(c.fails === 0
        ? {}
        : { failure: { message: `${c.fails} of ${total} failed`, type: 'check', detail: `check "${name}": ${c.fails} of ${total} failed (${((c.fails / Math.max(1, total)) * 100).toFixed(2)} %), ${c.passes} passed` } }),
    };
  });
  const all = [...runCases, ...thresholdCases, ...checkCases];
  const failures = all.filter((c) => c.failure).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="redline ${xmlEscape(r.name)}" tests="${all.length}" failures="${failures}" errors="0" time="${seconds.toFixed(3)}">`,
    suite(`${r.name}: run`, runCases, seconds),
    suite(`${r.name}: thresholds`, thresholdCases, seconds),
    suite(`${r.name}: checks`, checkCases, seconds),
    '</testsuites>',
    '',
  ].join('\n');
}

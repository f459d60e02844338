// The command line goes into result.json, which travels (CI artifacts, bug reports): header values
// (`Authorization: Bearer …`) and script environment values must not travel with it.

const VALUE_FLAGS = new Set(['-H', '--header', '-e', '--env']);

function redactValue(flag: string, value: string): string {
  if (flag === '-H' || flag === '--header') {
    const colon = value.indexOf(':');
    return colon < 0 ? '<redacted>' : `${value.slice(0, colon)}: <redacted>`;
  }
  const eq = value.indexOf('=');
  return eq < 0 ? value : `${value.slice(0, eq)}=<redacted>`;
}

/** `argv` (the arguments after `redline`) with the values of `--header`/`-H` and `-e`/`--env` redacted. */
export function redactCommandLine(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name) && name !== arg) out.push(`${name}=${redactValue(name, arg.slice(eq + 1))}`);
    else if (VALUE_FLAGS.has(arg) && i + 1 < argv.length) {
      out.push(arg, redactValue(arg, argv[i + 1]!));
      i++;
    } else out.push(arg);
  }
  return out;
}

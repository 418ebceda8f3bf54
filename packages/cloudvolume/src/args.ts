/**
 * A small argument parser for the CLI: `--name value`, `--name=value`, boolean
 * flags, and values that start with "-" (negative coordinates) for options that
 * take a value. Unknown options are an error, so typos never pass silently.
 */
export class UsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | true>;
}

export function parseArgs(argv: readonly string[], spec: { values: readonly string[]; flags: readonly string[] }): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (spec.flags.includes(name)) {
      if (eq >= 0) {
        const v = arg.slice(eq + 1).toLowerCase();
        if (!["true", "false", "1", "0", "yes", "no"].includes(v)) throw new UsageError(`--${name} is a flag; got value ${JSON.stringify(arg.slice(eq + 1))}`);
        if (["true", "1", "yes"].includes(v)) options[name] = true;
        else delete options[name];
      } else options[name] = true;
      continue;
    }
    if (!spec.values.includes(name)) {
      const known = [...spec.values, ...spec.flags].map((n) => `--${n}`).join(", ");
      throw new UsageError(`unknown option --${name}${known ? ` (expected one of ${known})` : ""}`);
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
    options[name] = value;
  }
  return { positionals, options };
}

export function str(o: ParsedArgs, name: string, required: true): string;
export function str(o: ParsedArgs, name: string, required?: false): string | undefined;
export function str(o: ParsedArgs, name: string, required = false): string | undefined {
  const v = o.options[name];
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  return v === true ? "true" : v;
}

export function int(o: ParsedArgs, name: string, opts: { min?: number } = {}): number | undefined {
  const v = str(o, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || (opts.min !== undefined && n < opts.min)) throw new UsageError(`--${name} must be an integer${opts.min !== undefined ? ` >= ${opts.min}` : ""}, got ${JSON.stringify(v)}`);
  return n;
}

export function vec3(o: ParsedArgs, name: string, required: boolean, check: (n: number) => boolean = Number.isFinite, what = "numbers"): [number, number, number] | undefined {
  const v = str(o, name, required as false);
  if (v === undefined) return undefined;
  const parts = v.split(",").map((p) => (p.trim() === "" ? NaN : Number(p)));
  if (parts.length !== 3 || !parts.every(check)) throw new UsageError(`--${name} must be three ${what} x,y,z, got ${JSON.stringify(v)}`);
  return [parts[0], parts[1], parts[2]];
}

export function bbox6(o: ParsedArgs, name: string): [number, number, number, number, number, number] {
  const v = str(o, name, true);
  const parts = v.split(",").map((p) => (p.trim() === "" ? NaN : Number(p)));
  if (parts.length !== 6 || !parts.every(Number.isInteger)) throw new UsageError(`--${name} must be six integers x0,y0,z0,x1,y1,z1, got ${JSON.stringify(v)}`);
  if (parts[3] <= parts[0] || parts[4] <= parts[1] || parts[5] <= parts[2]) throw new UsageError(`--${name} ${v} is empty: each max must exceed its min`);
  return parts as [number, number, number, number, number, number];
}

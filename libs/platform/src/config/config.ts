import { isIP } from 'node:net';

/**
 * Typed configuration from environment variables, validated once at start-up.
 * Every problem is collected so an operator sees all of them in one message.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export interface Field<T> {
  readonly describe: string;
  parse(raw: string | undefined): { value: T } | { problem: string };
}

type Options<T> = { default?: T };

function field<T>(describe: string, opts: Options<T>, convert: (raw: string) => T | undefined): Field<T> {
  return {
    describe,
    parse(raw) {
      if (raw === undefined || raw === '') {
        return opts.default !== undefined ? { value: opts.default } : { problem: `is required (${describe})` };
      }
      const value = convert(raw);
      return value === undefined ? { problem: `must be ${describe}, got '${raw.slice(0, 80)}'` } : { value };
    },
  };
}

export const env = {
  string: (opts: Options<string> & { describe?: string; minLength?: number } = {}) =>
    field(opts.describe ?? 'a non-empty string', opts, (raw) => (raw.length >= (opts.minLength ?? 1) ? raw : undefined)),
  int: (opts: Options<number> & { min?: number; max?: number } = {}) => {
    const min = opts.min ?? Number.MIN_SAFE_INTEGER;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    return field(`an integer from ${min} to ${max}`, opts, (raw) => {
      const n = Number(raw);
      return /^-?\d+$/.test(raw.trim()) && n >= min && n <= max ? n : undefined;
    });
  },
  port: (opts: Options<number> = {}) => env.int({ ...opts, min: 0, max: 65535 }),
  ip: (opts: Options<string> = {}) => field('an IPv4 or IPv6 address, e.g. 0.0.0.0 or ::', opts, (raw) => (isIP(raw.trim()) ? raw.trim() : undefined)),
  bool: (opts: Options<boolean> = {}) =>
    field('true or false', opts, (raw) => ({ true: true, false: false })[raw.trim().toLowerCase()]),
  url: (opts: Options<string> & { protocols: string[] }) =>
    field(`a URL with scheme ${opts.protocols.join(' or ')}`, opts, (raw) => {
      try {
        return opts.protocols.includes(new URL(raw).protocol.replace(/:$/, '')) ? raw : undefined;
      } catch {
        return undefined;
      }
    }),
  oneOf: <const V extends string>(values: readonly V[], opts: Options<V> = {}) =>
    field(`one of ${values.join(', ')}`, opts, (raw) => values.find((v) => v === raw)),
  list: (opts: Options<string[]> = {}) =>
    field('a comma-separated list', opts, (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
};

export type ConfigSchema = Record<string, Field<unknown>>;
export type ConfigOf<S extends ConfigSchema> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export function loadConfig<S extends ConfigSchema>(schema: S, source: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const result = spec.parse(source[name]);
    if ('problem' in result) problems.push(`${name} ${result.problem}`);
    else out[name] = result.value;
  }
  if (problems.length) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

import type { IncomingHttpHeaders } from 'node:http';

/**
 * A `Headers` over a plain record of lowercase names. The fetch API's Headers validates and sorts
 * on every call, which costs more than the rest of a small unary call's bookkeeping; this keeps
 * the interface interceptors and handlers use, at the price of a record lookup.
 */
export class LiteHeaders implements Headers {
  private readonly fields: Record<string, string>;

  constructor(init?: Record<string, string> | IncomingHttpHeaders) {
    this.fields = {};
    if (!init) return;
    for (const name in init) {
      const value = init[name];
      if (value === undefined) continue;
      this.fields[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }

  get(name: string): string | null {
    return this.fields[name.toLowerCase()] ?? null;
  }

  has(name: string): boolean {
    return name.toLowerCase() in this.fields;
  }

  set(name: string, value: string): void {
    this.fields[name.toLowerCase()] = String(value);
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const prior = this.fields[key];
    this.fields[key] = prior === undefined ? String(value) : `${prior}, ${value}`;
  }

  delete(name: string): void {
    delete this.fields[name.toLowerCase()];
  }

  getSetCookie(): string[] {
    const cookie = this.fields['set-cookie'];
    return cookie === undefined ? [] : [cookie];
  }

  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  entries(): ReturnType<Headers['entries']> {
    return Object.keys(this.fields)
      .sort()
      .map((name): [string, string] => [name, this.fields[name]!])
      .values() as ReturnType<Headers['entries']>;
  }

  keys(): ReturnType<Headers['keys']> {
    return Object.keys(this.fields).sort().values() as ReturnType<Headers['keys']>;
  }

  values(): ReturnType<Headers['values']> {
    return [...this.entries()].map(([, value]) => value).values() as ReturnType<Headers['values']>;
  }

  [Symbol.iterator](): ReturnType<Headers['entries']> {
    return this.entries();
  }

  /** The record itself, for writing into a Node request or response without copying. */
  record(): Readonly<Record<string, string>> {
    return this.fields;
  }
}

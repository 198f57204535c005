import { ConfigError, env, loadConfig } from './config.js';

describe('loadConfig', () => {
  const schema = {
    PORT: env.port({ default: 8080 }),
    DATABASE_URL: env.url({ protocols: ['postgres'] }),
    MODE: env.oneOf(['dev', 'prod'] as const, { default: 'dev' }),
    ENABLED: env.bool({ default: false }),
    ORIGINS: env.list({ default: [] }),
  };

  it('applies defaults and parses values', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://db/x', ENABLED: 'TRUE', ORIGINS: 'a, b,,c' });
    expect(config).toEqual({ PORT: 8080, DATABASE_URL: 'postgres://db/x', MODE: 'dev', ENABLED: true, ORIGINS: ['a', 'b', 'c'] });
  });

  it('reports every problem at once, naming each variable', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '70000', MODE: 'staging', ENABLED: 'yes' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      "PORT must be an integer from 0 to 65535, got '70000'",
      'DATABASE_URL is required (a URL with scheme postgres)',
      "MODE must be one of dev, prod, got 'staging'",
      "ENABLED must be true or false, got 'yes'",
    ]);
  });

  it('takes an IP address to bind to, and nothing else', () => {
    const addressSchema = { RPC_HOST: env.ip({ default: '0.0.0.0' }) };
    expect(loadConfig(addressSchema, {})).toEqual({ RPC_HOST: '0.0.0.0' });
    expect(loadConfig(addressSchema, { RPC_HOST: '10.1.2.3' })).toEqual({ RPC_HOST: '10.1.2.3' });
    expect(loadConfig(addressSchema, { RPC_HOST: '::1' })).toEqual({ RPC_HOST: '::1' });
    expect(() => loadConfig(addressSchema, { RPC_HOST: 'localhost' })).toThrow(/RPC_HOST must be an IPv4 or IPv6 address/);
  });

  it('rejects a URL with the wrong scheme', () => {
    expect(() => loadConfig(schema, { DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL must be a URL with scheme postgres/);
  });
});

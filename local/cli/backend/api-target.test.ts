import { describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../exit-codes';
import { apiTarget } from './api-target';
import { apiUrl } from './transports';

const refusal = (raw: string, region?: string): string => {
  try {
    apiTarget(raw, region === undefined ? {} : { region });
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(ExitCode.BadInput);
    return (e as CliError).message;
  }
  throw new Error(`${raw} was accepted`);
};

describe('apiTarget', () => {
  it("signs for an API Gateway URL's own region, keeping its stage", () => {
    const t = apiTarget('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/');
    expect(t).toMatchObject({
      baseUrl: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1',
      region: 'eu-west-1',
    });
    expect(t.signer).toBeTypeOf('function');
    expect(t.describe()).toContain('SigV4, execute-api in eu-west-1');
    expect(
      apiTarget('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1', { region: 'eu-west-1' }).region,
    ).toBe('eu-west-1');
  });

  it('signs for a custom domain only when told the region', () => {
    expect(apiTarget('https://dsr.example.com', { region: 'us-east-1' })).toMatchObject({
      baseUrl: 'https://dsr.example.com',
      region: 'us-east-1',
    });
    expect(refusal('https://dsr.example.com')).toMatch(/neither an API Gateway URL nor this machine/);
  });

  it('calls a local serve unsigned (or signed, when a region is given)', () => {
    for (const url of ['http://127.0.0.1:3000', 'http://localhost:3000/', 'http://[::1]:3000']) {
      const t = apiTarget(url);
      expect(t.signer, url).toBeUndefined();
      expect(t.describe()).toContain('unsigned');
    }
    expect(apiTarget('http://127.0.0.1:3000', { region: 'eu-west-1' }).signer).toBeTypeOf('function');
  });

  it('refuses what it cannot call safely, without echoing the URL', () => {
    expect(refusal('not a url')).toMatch(/is not a URL/);
    expect(refusal('ftp://127.0.0.1/')).toMatch(/http\(s\)/);
    expect(refusal('http://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1')).toMatch(/must be https/);
    expect(refusal('http://10.0.0.5:3000', 'eu-west-1')).toMatch(/must be https/);
    const secret = refusal('https://user:s3cret@a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1');
    expect(secret).toMatch(/user name or password/);
    expect(secret).not.toContain('s3cret');
    expect(refusal('http://127.0.0.1:3000/?x=1')).toMatch(/query/);
    expect(refusal('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1', 'us-east-1')).toMatch(
      /not the region of the API Gateway URL \(eu-west-1\)/,
    );
    expect(refusal('https://dsr.example.com', 'Ireland')).toMatch(/--api-region must be an AWS region/);
  });
});

describe('apiUrl', () => {
  it("keeps the stage and encodes the query's values", () => {
    const base = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1';
    expect(apiUrl(base, '/requests', { status: ['FAILED'], since: ['2026-01-01T00:00:00+01:00'] }).href).toBe(
      `${base}/requests?status=FAILED&since=2026-01-01T00%3A00%3A00%2B01%3A00`,
    );
    expect(apiUrl('http://127.0.0.1:3000', '/health').href).toBe('http://127.0.0.1:3000/health');
  });
});

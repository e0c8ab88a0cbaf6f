import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../config/load';
import { Secrets, workerSecrets } from '../../config/secrets';
import { maskingInterceptor } from '../../worker/masking';
import { canaryForms, canaryValue } from '../helpers/canary';

/**
 * The worker's one masker (config/secrets.ts): every form of every secret it holds, in text, parsed
 * values, errors, and the activity interceptor (the logger: test/unit/logger.test.ts).
 */
const value = canaryValue();
const secrets = new Secrets([{ name: 'API_TOKEN', value }]);
const b64 = (text: string) => Buffer.from(text).toString('base64');
const FORMS = canaryForms(value);

describe('Secrets', () => {
  it.each(Object.entries(FORMS))('masks the %s form', (_form, shown) => {
    expect(secrets.mask(`before ${shown} after`)).toMatch(/^before \$\{env:API_TOKEN\}(=*) after$/);
  });

  it('masks the secret inside longer base64, such as a Basic authorization, at every alignment', () => {
    for (const user of ['a', 'ab', 'abc']) {
      const header = `Authorization: Basic ${b64(`${user}:${value}`)}`;
      // Left: the user's characters, and those that mix the secret's first or last bits with its neighbours'.
      expect(secrets.mask(header)).toMatch(
        /^Authorization: Basic [\w+/]{0,6}\$\{env:API_TOKEN\}[\w+/]{0,3}=*$/,
      );
    }
  });

  it('masks strings and keys of parsed values, and errors in place with their class, details and cause', () => {
    expect(secrets.maskValue({ [value]: [value, 1, true, null, { user: `x${value}` }] })).toEqual({
      '${env:API_TOKEN}': ['${env:API_TOKEN}', 1, true, null, { user: 'x${env:API_TOKEN}' }],
    });
    const failure = ApplicationFailure.create({
      message: `failed: ${value}`,
      type: 'RequestRejected',
      details: [{ stderr: FORMS.base64 }],
      cause: new Error(`because ${FORMS['JSON-escaped']}`),
    });
    const masked = secrets.maskValue(failure);
    expect(masked).toBe(failure);
    expect(masked).toBeInstanceOf(ApplicationFailure);
    expect(masked.message).toBe('failed: ${env:API_TOKEN}');
    expect(masked.type).toBe('RequestRejected');
    expect(
      JSON.stringify([masked.details, masked.stack, masked.cause?.message, masked.cause?.stack]),
    ).not.toMatch(
      new RegExp(
        Object.values(FORMS)
          .map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('|'),
      ),
    );
  });

  it('masks the longer of two secrets whole when one contains the other', () => {
    const both = new Secrets([
      { name: 'SHORT', value: 'password-1' },
      { name: 'LONG', value: 'password-1-and-more' },
    ]);
    expect(both.mask('password-1-and-more password-1')).toBe('${env:LONG} ${env:SHORT}');
  });

  it('warns of a secret shorter than 8 characters, naming it, never its value', () => {
    const short = new Secrets([
      { name: 'PIN', value: '1234' },
      { name: 'TOKEN', value: 'long-enough' },
    ]);
    expect(short.warnings()).toEqual([
      expect.stringMatching(
        /^The secret \$\{env:PIN\} is only 4 characters long: .*at least 8 characters\.$/,
      ),
    ]);
    expect(short.warnings().join()).not.toContain('1234');
  });

  it("holds the command drivers' and the event sinks' ${env:NAME} values and the Temporal API key", () => {
    const config = loadConfig(path.resolve(__dirname, '../../examples/d365-onprem/temporal.yaml'), {});
    config.events.sinks.push({
      type: 'webhook',
      name: 'hook',
      url: 'https://hooks.example.com/${env:HOOK_PATH}',
      headers: { 'x-api-key': '${env:HOOK_KEY}' },
      format: 'cloudevents',
    });
    const env = {
      AXDB_PASSWORD: 'axdb-password',
      SF_SERVER_CERT_THUMBPRINT: 'server-thumbprint',
      HOOK_PATH: 'hook-path-secret',
      HOOK_KEY: 'hook-key-secret',
      TEMPORAL_API_KEY: 'temporal-api-key',
      UNREFERENCED: 'not-a-secret-here',
    };
    expect(
      workerSecrets(config, env)
        .held.map((s) => s.name)
        .sort(),
    ).toEqual(['AXDB_PASSWORD', 'HOOK_KEY', 'HOOK_PATH', 'SF_SERVER_CERT_THUMBPRINT', 'TEMPORAL_API_KEY']);
  });
});

describe('the masking activity interceptor', () => {
  const env = new MockActivityEnvironment(undefined, { interceptors: [maskingInterceptor(secrets)] });

  it("masks an activity's result", async () => {
    expect(await env.run(async () => ({ transcript: [`ran: ${FORMS.base64}`] }))).toEqual({
      transcript: ['ran: ${env:API_TOKEN}'],
    });
  });

  it("masks an activity's error, message, details and cause, keeping its type and retryability", async () => {
    const thrown = await env
      .run(async () => {
        throw ApplicationFailure.nonRetryable(`exit 1; stderr: ${value}`, 'RequestRejected', {
          stdout: FORMS['URL-safe base64'],
        });
      })
      .catch((e: unknown) => e as ApplicationFailure);
    expect(thrown).toMatchObject({
      message: 'exit 1; stderr: ${env:API_TOKEN}',
      type: 'RequestRejected',
      nonRetryable: true,
      details: [{ stdout: '${env:API_TOKEN}' }],
    });
  });
});

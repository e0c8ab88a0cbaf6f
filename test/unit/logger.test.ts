import { Secrets } from '../../config/secrets';
import { createLogger } from '../../worker/logger';
import { canaryForms, canaryValue } from '../helpers/canary';

/** A JSON logger at info whose lines land in `lines`. */
function capturing(secrets?: Secrets) {
  const lines: string[] = [];
  const logger = createLogger({
    pretty: false,
    level: 'info',
    secrets,
    destination: { write: (l: string) => void lines.push(l) },
  });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes JSON with secrets redacted wherever they appear', () => {
    const { logger, lines } = capturing();
    logger.info(
      {
        apiKey: 'key-123',
        connection: { apiKey: 'key-456', address: 'x:7233' },
        headers: { authorization: 'Bearer t' },
      },
      'connecting',
    );
    logger.debug({ password: 'p' }, 'below the level');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({
      msg: 'connecting',
      apiKey: '[redacted]',
      connection: { apiKey: '[redacted]', address: 'x:7233' },
      headers: { authorization: '[redacted]' },
    });
    expect(lines[0]).not.toMatch(/key-123|key-456|Bearer/);
  });

  it("masks every form of the worker's secrets in messages, fields (names too) and errors", () => {
    const value = canaryValue();
    const forms = canaryForms(value);
    const { logger, lines } = capturing(new Secrets([{ name: 'API_TOKEN', value }]));
    logger.info(
      { summary: `ran ${forms.raw}`, nested: { [forms.base64]: 1 } },
      `message ${forms['JSON-escaped']}`,
    );
    logger.warn({ err: new Error(`failed ${value}`) }, 'Activity failed');
    logger.error(`plain ${forms['URL-safe base64']}`);
    expect(lines).toHaveLength(3);
    const text = lines.join('\n');
    expect(text).toContain('${env:API_TOKEN}');
    // In a JSON line a string shows JSON-escaped.
    for (const form of Object.values(forms)) expect(text).not.toContain(JSON.stringify(form).slice(1, -1));
  });
});

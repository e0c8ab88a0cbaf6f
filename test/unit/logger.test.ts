import { createLogger } from '../../worker/logger';

describe('createLogger', () => {
  it('writes JSON with secrets redacted wherever they appear', () => {
    const lines: string[] = [];
    const logger = createLogger({
      pretty: false,
      level: 'info',
      destination: { write: (l: string) => void lines.push(l) },
    });
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
});

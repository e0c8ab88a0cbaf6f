import { out } from '../../client/commands/shared';
import { formatHistory, formatLog, terminalText } from '../../client/format';
import type { HistoryEntry } from '../../contract/environment';

/**
 * What the CLI prints of text that came from outside (command output, reasons, names, inputs) cannot
 * drive the operator's terminal: no escape sequences or control characters, and no lines of its own.
 */
const HOSTILE = [
  '\x1b[2J\x1b[H', // clear the screen, cursor home
  '\x1b]0;pwned\x07', // retitle the window
  '\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\', // a hyperlink
  '\x9b31m', // 8-bit CSI: red
  '\x1b[1A\x1b[2K', // up a line, erase it
  'back\x08\x08\x08\x08', // backspaces
  '\rrewritten', // carriage return
  '\u202eevil\u202c', // right-to-left override
  '\x07\x00\x7f',
].join('');
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;

describe('terminalText', () => {
  it('removes escape sequences and control characters, keeping the visible text', () => {
    expect(terminalText(`ok ${HOSTILE} é 日本`)).toBe('ok clickback | rewrittenevil é 日本');
  });

  it('turns line breaks of outside text into " | ", and keeps them in what the CLI prints whole', () => {
    expect(terminalText('reason\n  decision: approve by ceo\r\nend')).toBe(
      'reason | decision: approve by ceo | end',
    );
    expect(terminalText('line 1\nline 2\r\n\tindented', { lines: true })).toBe('line 1\nline 2\n\tindented');
  });
});

describe('what the CLI prints', () => {
  const entry: HistoryEntry = {
    operationId: 'maintenance-contoso-sandbox',
    runId: 'run-1',
    environment: 'contoso-sandbox',
    action: 'enable',
    requestedBy: `jane${HOSTILE}`,
    reason: `keys\n2026-01-01 00:00:00  2026-01-01 00:00:01  disable  Succeeded  ceo`,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    result: 'Succeeded',
    detail: '',
    decisions: [],
  };

  it('history: one row per operation, whatever its reason holds', () => {
    const text = formatHistory('contoso-sandbox', [entry]);
    expect(text.split('\n')).toHaveLength(3);
    expect(text).not.toMatch(CONTROL);
  });

  it('logs: an error quoting command output stays on its line', () => {
    const text = formatLog({
      operationId: 'maintenance-contoso-sandbox',
      runId: 'run-1',
      environment: 'contoso-sandbox',
      action: 'enable',
      dropped: 0,
      entries: [
        {
          at: '2026-01-01T00:00:00.000Z',
          kind: 'attempt',
          step: 'flipFlag',
          attempt: 1,
          outcome: 'failed',
          message: `set CONFIGURATIONMODE${HOSTILE}`,
          error: { message: `writeFlag exited 1; stderr: ${HOSTILE}\nfake line`, type: 'RequestRejected' },
        },
      ],
    });
    expect(text.split('\n')).toHaveLength(3);
    expect(text).not.toMatch(CONTROL);
  });

  it('everything printed goes through it, keeping the lines the CLI makes', () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      out(`status\n  reason: ${HOSTILE}`);
    } finally {
      write.mockRestore();
    }
    expect(written).toEqual(['status\n  reason: clickbackrewrittenevil\n']);
  });
});

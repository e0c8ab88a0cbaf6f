import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { createSettingsActivities } from '../../activities/settings';
import { loadConfig } from '../../config/load';
import { environmentEntityInputSchema } from '../../contract/environment';
import { bookedInstant } from '../../client/bookings';
import { bookingRefusal } from '../../contract/booking';
import { windowInputSchema } from '../../contract/window';

const NOW = Date.parse('2026-12-05T08:00:00Z');

describe('--at and --tz: when a booked window opens', () => {
  it.each([
    ['2026-12-31T22:00', 'Europe/Berlin', '2026-12-31T21:00:00.000Z'],
    ['2027-07-01T22:00', 'Europe/Berlin', '2027-07-01T20:00:00.000Z'],
    ['2027-01-15T09:30', 'America/New_York', '2027-01-15T14:30:00.000Z'],
    // The spring gap: 02:30 does not exist in Berlin on 28 March 2027; read as 03:30 summer time.
    ['2027-03-28T02:30', 'Europe/Berlin', '2027-03-28T01:30:00.000Z'],
    // The autumn change: 02:30 happens twice on 31 October 2027; its first occurrence.
    ['2027-10-31T02:30', 'Europe/Berlin', '2027-10-31T00:30:00.000Z'],
    // An offset of its own wins over --tz.
    ['2026-12-31T22:00+01:00', 'America/New_York', '2026-12-31T21:00:00.000Z'],
    ['2026-12-31T21:00Z', 'UTC', '2026-12-31T21:00:00.000Z'],
  ])('%s in %s is %s', (at, tz, utc) => {
    expect(bookedInstant(at, tz, NOW)).toBe(utc);
  });

  it.each([
    [
      '2026-12-01T10:00',
      'UTC',
      /--at: 2026-12-01T10:00:00.000Z is in the past \(it is now 2026-12-05T08:00:00.000Z\): give a later time/,
    ],
    [
      '2026-12-31T22:00',
      'Mars/Olympus',
      /--tz: unknown time zone "Mars\/Olympus": give an IANA name such as Europe\/Berlin/,
    ],
    ['2026-02-30T22:00', 'UTC', /--at: "2026-02-30T22:00" is not a date and time that exists/],
    [
      'next friday',
      'UTC',
      /--at: "next friday" is not a time: give it as 2026-12-31T22:00 \(local time in --tz\)/,
    ],
  ])('refuses %s in %s, saying how to fix it', (at, tz, message) => {
    expect(() => bookedInstant(at, tz, NOW)).toThrow(message);
  });
});

describe("the window input's booking fields", () => {
  const base = { environment: 'contoso-sandbox', requestedBy: 'jane', duration: 'PT2H' };

  it('takes an instant with its offset, a zone and a cutoff; every earlier input is still valid', () => {
    expect(windowInputSchema.safeParse(base).success).toBe(true);
    const parsed = windowInputSchema.parse({
      ...base,
      at: '2026-12-31T22:00+01:00',
      timezone: 'Europe/Berlin',
      cutoff: 'PT15M',
    });
    expect(parsed).toMatchObject({
      at: '2026-12-31T22:00+01:00',
      timezone: 'Europe/Berlin',
      cutoff: 900_000,
    });
  });

  it.each([
    [{ at: '2026-12-31T22:00' }, 'give the start with its offset, e.g. "2026-12-31T22:00+01:00"'],
    [{ at: '2026-13-45T22:00Z' }, 'give the start with its offset'],
    [{ timezone: 'Berlin' }, 'unknown time zone "Berlin": give an IANA name'],
    [{ cutoff: 'soon' }, '"soon" is not a duration'],
  ])('refuses %j with a message that says how to fix it', (extra, message) => {
    const parsed = windowInputSchema.safeParse({ ...base, ...extra });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.message).join('\n')).toContain(message);
  });

  it('a start in the past is refused, one in the future is not', () => {
    expect(bookingRefusal('2026-12-05T07:59:00Z', NOW)).toMatch(/is in the past/);
    expect(bookingRefusal('2026-12-05T08:01:00Z', NOW)).toBeUndefined();
    expect(bookingRefusal(undefined, NOW)).toBeUndefined();
  });
});

describe('policies.maximumInMaintenance and autoDisable in temporal.yaml', () => {
  const shipped = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../../temporal.yaml'), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booking-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const load = async (policies: object, environment: object = {}) => {
    const name = Object.keys(shipped.environments)[0];
    const file = path.join(dir, 'temporal.yaml');
    fs.writeFileSync(
      file,
      YAML.stringify({
        ...shipped,
        policies: { ...shipped.policies, ...policies },
        environments: { ...shipped.environments, [name]: { ...shipped.environments[name], ...environment } },
      }),
    );
    const config = loadConfig(file, {});
    const settings = createSettingsActivities({ ...config, searchAttributes: false });
    return settings.resolveEnvironment({ environment: name });
  };

  it('none by default; the policy, and an environment of its own, win in that order', async () => {
    expect((await load({})).overdue).toBeUndefined();
    expect((await load({ maximumInMaintenance: '8h' })).overdue).toEqual({
      maximumMs: 8 * 3_600_000,
      autoDisable: false,
    });
    expect(
      (await load({ maximumInMaintenance: '8h', autoDisable: true }, { autoDisable: false })).overdue,
    ).toEqual({
      maximumMs: 8 * 3_600_000,
      autoDisable: false,
    });
    expect(
      (await load({ maximumInMaintenance: '8h' }, { maximumInMaintenance: '2h', autoDisable: true })).overdue,
    ).toEqual({
      maximumMs: 2 * 3_600_000,
      autoDisable: true,
    });
  });

  it('refuses a limit that is not a duration, naming the field', async () => {
    await expect(load({ maximumInMaintenance: 'a workday' })).rejects.toThrow(
      /policies\.maximumInMaintenance.*expected a duration such as "500ms", "30s", "2m", "1h" or "7d"/s,
    );
  });
});

describe("the environment entity's watch across continue-as-new", () => {
  it('the record it carries to its next run keeps the watch (since, the enable, overdue)', () => {
    const maintenance = {
      since: '2026-12-05T08:00:00.000Z',
      operationId: 'maintenance-contoso-sandbox',
      lineage: 'run-1',
      requestedBy: 'jane',
      overdueSince: '2026-12-05T16:00:00.000Z',
      autoDisable: 'off',
    };
    const record = {
      environment: 'contoso-sandbox',
      state: 'InMaintenance',
      sharers: [],
      queue: [],
      history: [],
      dropped: 0,
      maintenance,
    };
    const carried = environmentEntityInputSchema.parse({ environment: 'contoso-sandbox', record });
    expect(carried.record?.maintenance).toEqual(maintenance);
  });
});

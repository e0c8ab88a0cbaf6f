/**
 * The fleet's HTTP API cannot be turned against the operator by a web page open in their browser:
 * a "simple" cross-site POST (no-cors, text/plain) and a request under another host name (DNS
 * rebinding) change nothing. Its own clients (FleetClient, examples/fleet-commands) still work.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FleetClient } from '../../fleet/client';
import { startFleet, type RunningFleet } from '../../fleet/launch';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-listeners-'));
let fleet: RunningFleet;
let client: FleetClient;
let port: number;

beforeAll(async () => {
  fleet = await startFleet({
    environment: 'listeners',
    databaseFile: path.join(tmp, 'listeners.sqlite'),
    topology: { interactive: 1, batch: 1 },
    aosStartupMs: 0,
    aosMode: 'inprocess',
    logFile: path.join(tmp, 'fleet.log'),
  });
  client = new FleetClient(fleet.url);
  port = Number(new URL(fleet.url).port);
});
afterAll(async () => {
  await fleet?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A raw request to the supervisor, with the headers a browser (or an attacker's page) would send. */
function request(method: string, urlPath: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; error?: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, error: (JSON.parse(text) as { error?: string }).error }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const status = async (id: string) => (await client.listAos()).find((a) => a.id === id)?.status;

/** What a browser sends with a page's POST: always an Origin. */
const fromPage = { origin: 'https://evil.example' };
const NOT_JSON = { status: 415, error: 'a POST request must have content-type: application/json' };

it('a POST that is not JSON (what a web page can send without asking) stops nothing', async () => {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', undefined])
    for (const body of [undefined, 'x']) {
      const headers = { ...fromPage, host: `127.0.0.1:${port}`, ...(type && { 'content-type': type }) };
      expect(await request('POST', '/aos/aos-1/stop', headers, body)).toEqual(NOT_JSON);
    }
  // Without Origin too, unless it has neither body nor content type (as releases before this one send it).
  const plain = { host: `127.0.0.1:${port}`, 'content-type': 'text/plain' };
  expect(await request('POST', '/aos/aos-1/stop', plain, 'x')).toEqual(NOT_JSON);
  expect(await status('aos-1')).toBe('running');
});

it('a request naming another host (DNS rebinding) is refused, even as JSON', async () => {
  for (const method of ['GET', 'POST']) {
    const answer = await request(method, method === 'GET' ? '/aos' : '/aos/aos-1/stop', {
      ...fromPage,
      host: `evil.example:${port}`,
      'content-type': 'application/json',
    });
    expect(answer).toEqual({
      status: 403,
      error: 'this server answers only requests to localhost, 127.0.0.1 or [::1] (the Host header)',
    });
  }
  expect(await status('aos-1')).toBe('running');
});

it('a POST of no body, content type or Origin, as releases before this one send it, still stops an AOS', async () => {
  expect(await request('POST', '/aos/aos-2/stop', { host: `127.0.0.1:${port}` })).toMatchObject({
    status: 200,
  });
  expect(await status('aos-2')).toBe('stopped');
  await client.start('aos-2');
});

it.each(['localhost', '127.0.0.1', '[::1]'])('answers requests to %s on any port', async (host) => {
  for (const h of [host, `${host}:${port}`, `${host}:1`])
    expect(await request('GET', '/health', { host: h })).toMatchObject({ status: 200 });
});

it('its own clients still stop and start an AOS: FleetClient and the fleet-commands scripts', async () => {
  await client.stop('aos-1');
  expect(await status('aos-1')).toBe('stopped');
  const script = path.resolve(__dirname, '../../examples/fleet-commands/aos.js');
  await promisify(execFile)(process.execPath, [script, 'restart'], {
    env: { ...process.env, FLEET_URL: fleet.url, MAINTENANCE_AOS_ID: 'aos-1' },
  });
  expect(await status('aos-1')).toBe('running');
});

/** Typed client for the supervisor's API and for each AOS's API; every response is checked with the shared schemas. */
import http from 'node:http';
import type { z } from 'zod';
import type {
  AosHealth,
  AosInstance,
  BatchJob,
  BatchJobRequest,
  Session,
  ConfigurationKey,
  ConfigurationKeyList,
  Faults,
  FaultsPatch,
  SupervisorHealth,
} from './schemas';
import {
  aosHealthSchema,
  aosInstanceListSchema,
  batchJobListSchema,
  batchJobSchema,
  sessionEndedSchema,
  sessionListSchema,
  sessionSchema,
  environmentListSchema,
  aosInstanceResponseSchema,
  configurationKeyListSchema,
  configurationKeySchema,
  describeIssues,
  errorBodySchema,
  faultsSchema,
  signInResponseSchema,
  supervisorHealthSchema,
} from './schemas';

/** The server answered with a non-2xx status; `message` is its `error` text. */
export class FleetHttpError extends Error {
  override name = 'FleetHttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** No answer at all: connection refused, reset, or no response within the timeout. */
export class FleetUnreachableError extends Error {
  override name = 'FleetUnreachableError';
  constructor(
    readonly url: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface CallOptions {
  /** Cancels the request, e.g. an activity's cancellation signal; the signal's reason is rethrown as is. */
  signal?: AbortSignal;
}

export type SignInResult =
  { allowed: true; roles: string[] } | { allowed: false; status: 401 | 403; error: string };

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** AOS instances listen on the loopback interface only. */
const AOS_HOST = '127.0.0.1';

export class FleetClient {
  private readonly timeoutMs: number;

  constructor(
    readonly url: string,
    { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = timeoutMs;
  }

  async health(options?: CallOptions): Promise<SupervisorHealth> {
    return this.call(this.url, 'GET', '/health', supervisorHealthSchema, undefined, options);
  }

  /** The environments a supervisor serves (a client of its root URL). */
  async listEnvironments(options?: CallOptions): Promise<string[]> {
    return (await this.call(this.url, 'GET', '/environments', environmentListSchema, undefined, options))
      .environments;
  }

  async listAos(options?: CallOptions): Promise<AosInstance[]> {
    return (await this.call(this.url, 'GET', '/aos', aosInstanceListSchema, undefined, options)).instances;
  }

  async getAos(id: string, options?: CallOptions): Promise<AosInstance> {
    return this.instanceCall('GET', `/aos/${encodeURIComponent(id)}`, options);
  }

  /** Waits until the instance runs; idempotent. A failed start is a FleetHttpError with status 503. */
  async start(id: string, options?: CallOptions): Promise<AosInstance> {
    return this.instanceCall('POST', `/aos/${encodeURIComponent(id)}/start`, options);
  }

  async stop(id: string, options?: CallOptions): Promise<AosInstance> {
    return this.instanceCall('POST', `/aos/${encodeURIComponent(id)}/stop`, options);
  }

  async restart(id: string, options?: CallOptions): Promise<AosInstance> {
    return this.instanceCall('POST', `/aos/${encodeURIComponent(id)}/restart`, options);
  }

  async crash(id: string, options?: CallOptions): Promise<AosInstance> {
    return this.instanceCall('POST', `/aos/${encodeURIComponent(id)}/crash`, options);
  }

  async getFaults(options?: CallOptions): Promise<Faults> {
    return this.call(this.url, 'GET', '/faults', faultsSchema, undefined, options);
  }

  /** Merges into the current switches; returns all of them. */
  async setFaults(patch: FaultsPatch, options?: CallOptions): Promise<Faults> {
    return this.call(this.url, 'PUT', '/faults', faultsSchema, patch, options);
  }

  async clearFaults(options?: CallOptions): Promise<Faults> {
    return this.call(this.url, 'DELETE', '/faults', faultsSchema, undefined, options);
  }

  /** Signs a user in to the environment (a session the impact preview counts). */
  async addSession(user: string, aos?: string, options?: CallOptions): Promise<Session> {
    return this.call(this.url, 'POST', '/sessions', sessionSchema, { user, ...(aos && { aos }) }, options);
  }

  async endSession(id: number, options?: CallOptions): Promise<void> {
    await this.call(this.url, 'DELETE', `/sessions/${id}`, sessionEndedSchema, undefined, options);
  }

  async listSessions(options?: CallOptions): Promise<Session[]> {
    return (await this.call(this.url, 'GET', '/sessions', sessionListSchema, undefined, options)).sessions;
  }

  async addBatchJob(job: BatchJobRequest, options?: CallOptions): Promise<BatchJob> {
    return this.call(this.url, 'POST', '/batch-jobs', batchJobSchema, job, options);
  }

  async listBatchJobs(options?: CallOptions): Promise<BatchJob[]> {
    return (await this.call(this.url, 'GET', '/batch-jobs', batchJobListSchema, undefined, options))
      .batchJobs;
  }

  async aosHealth(port: number, options?: CallOptions): Promise<AosHealth> {
    return this.call(aosUrl(port), 'GET', '/health', aosHealthSchema, undefined, options);
  }

  /**
   * A refused sign-in (401, 403) is an answer, not an error. Any other failure throws, so that callers
   * can tell transient from final: a 503 (AOS warming up, its database unreachable) is a FleetHttpError.
   */
  async signIn(port: number, user: string, options?: CallOptions): Promise<SignInResult> {
    const { status, json } = await this.send(aosUrl(port), 'POST', '/signin', { user }, options);
    if (status === 401 || status === 403) return { allowed: false, status, error: errorText(status, json) };
    if (status !== 200) throw new FleetHttpError(status, errorText(status, json), '/signin');
    return { allowed: true, roles: parse(signInResponseSchema, json, aosUrl(port), '/signin').roles };
  }

  async listConfigurationKeys(port: number, options?: CallOptions): Promise<ConfigurationKeyList> {
    return this.call(
      aosUrl(port),
      'GET',
      '/license/configuration-keys',
      configurationKeyListSchema,
      undefined,
      options,
    );
  }

  async setConfigurationKey(
    port: number,
    name: string,
    enabled: boolean,
    options?: CallOptions,
  ): Promise<ConfigurationKey> {
    const path = `/license/configuration-keys/${encodeURIComponent(name)}`;
    return this.call(aosUrl(port), 'PUT', path, configurationKeySchema, { enabled }, options);
  }

  private async instanceCall(method: Method, path: string, options?: CallOptions): Promise<AosInstance> {
    return (await this.call(this.url, method, path, aosInstanceResponseSchema, undefined, options)).instance;
  }

  private async call<S extends z.ZodTypeAny>(
    base: string,
    method: Method,
    path: string,
    schema: S,
    body: unknown,
    options: CallOptions | undefined,
  ): Promise<z.infer<S>> {
    const { status, json } = await this.send(base, method, path, body, options);
    if (status < 200 || status >= 300) throw new FleetHttpError(status, errorText(status, json), path);
    return parse(schema, json, base, path);
  }

  private async send(
    base: string,
    method: Method,
    path: string,
    body: unknown,
    options: CallOptions | undefined,
  ): Promise<{ status: number; json: unknown }> {
    const url = `${base}${path}`;
    try {
      const { status, text } = await exchange(url, method, body, this.timeoutMs, options?.signal);
      return { status, json: text ? safeJson(text) : undefined };
    } catch (err) {
      if (options?.signal?.aborted) throw options.signal.reason;
      const why =
        err instanceof ExchangeTimeout
          ? `no answer within ${this.timeoutMs} ms`
          : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      throw new FleetUnreachableError(url, `cannot reach ${method} ${url}: ${why}`, { cause: err });
    }
  }
}

class ExchangeTimeout extends Error {}

/**
 * One request and its whole answer, on node:http and its keep-alive agent: `fetch` cost the worker
 * several times the CPU per call (undici's streams, headers and signals), and an operation makes
 * dozens of calls. The timeout covers the answer's body too.
 */
async function exchange(
  url: string,
  method: Method,
  body: unknown,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  // The fleet takes a request that changes something only as JSON (fleet/http.ts), body or not.
  const headers =
    method === 'GET'
      ? {}
      : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  const req = http.request(url, { method, headers, signal });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    req.destroy();
  }, timeoutMs);
  try {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve).on('error', reject).end(payload);
    });
    res.setEncoding('utf8');
    let text = '';
    for await (const chunk of res) text += chunk as string;
    return { status: res.statusCode ?? 0, text };
  } catch (err) {
    throw timedOut ? new ExchangeTimeout('timed out', { cause: err }) : err;
  } finally {
    clearTimeout(timer);
  }
}

function aosUrl(port: number): string {
  return `http://${AOS_HOST}:${port}`;
}

function errorText(status: number, json: unknown): string {
  const body = errorBodySchema.safeParse(json);
  return body.success ? body.data.error : `HTTP ${status}`;
}

function parse<S extends z.ZodTypeAny>(schema: S, json: unknown, base: string, path: string): z.infer<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new Error(`unexpected response from ${base}${path}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A small JSON-over-HTTP layer on node:http shared by the AOS and the supervisor. */
import http from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { isDatabaseBusy } from './database';
import { describeIssues } from './schemas';

/** An error the client should see with this status; anything else is a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface JsonReply {
  status: number;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Matched against the whole path; capture groups become `params`, URI-decoded. */
  path: RegExp;
  handle(params: string[], req: IncomingMessage): JsonReply | Promise<JsonReply>;
}

const MAX_BODY_BYTES = 64 * 1024;

export async function readBody<T extends z.ZodTypeAny>(req: IncomingMessage, schema: T): Promise<z.infer<T>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, `invalid request body: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Answers one request; `pathname` is the path it is routed by (a prefix may have been taken off). */
export type JsonHandler = (req: IncomingMessage, pathname: string) => Promise<JsonReply>;

const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i;

/**
 * A web page open in the operator's browser can send requests to loopback ports: a "simple" POST
 * (no-cors, a text/plain or form body, or none) needs nobody's consent, and DNS rebinding makes the
 * page's own host name point here. So every request must name this machine in Host, and one that
 * changes anything must be JSON, which a page can send only with the server's consent (CORS preflight).
 */
function refusal(req: IncomingMessage): HttpError | undefined {
  if (!LOOPBACK_HOST.test(req.headers.host ?? ''))
    return new HttpError(
      403,
      'this server answers only requests to localhost, 127.0.0.1 or [::1] (the Host header)',
    );
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const type = req.headers['content-type'];
  if (type?.split(';')[0].trim().toLowerCase() === 'application/json') return undefined;
  // Releases before this one start, stop and restart an AOS with a POST of no body and no content type
  // (their workers still run during an upgrade). A browser always sends Origin with a POST.
  const body =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (type === undefined && !body && req.headers.origin === undefined) return undefined;
  return new HttpError(415, `a ${req.method} request must have content-type: application/json`);
}

export function createJsonServer(handler: JsonHandler, logger: Logger): Server {
  return http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    void Promise.resolve()
      .then(() => {
        const refused = refusal(req);
        if (refused) throw refused;
        return handler(req, pathname);
      })
      .catch((err: unknown) => errorReply(err, req, logger))
      .then(({ status, body }) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      });
  });
}

/** The handler that answers with the first route whose method and path match. */
export function routeTo(routes: Route[]): JsonHandler {
  return async (req, pathname) => {
    for (const route of routes) {
      const match = route.method === req.method ? route.path.exec(pathname) : null;
      if (match) return route.handle(match.slice(1).map(decodeParam), req);
    }
    throw new HttpError(404, `no route for ${req.method} ${pathname}`);
  };
}

export function decodeParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    throw new HttpError(400, `malformed URL parameter "${param}"`);
  }
}

function errorReply(err: unknown, req: IncomingMessage, logger: Logger): JsonReply {
  if (err instanceof HttpError) return { status: err.status, body: { error: err.message } };
  if (isDatabaseBusy(err)) return { status: 503, body: { error: `database unreachable: ${err.message}` } };
  logger.error({ err, method: req.method, url: req.url }, 'request failed');
  return { status: 500, body: { error: err instanceof Error ? err.message : String(err) } };
}

/** Listens on 127.0.0.1 (port 0: any free port) and returns the port. */
export async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

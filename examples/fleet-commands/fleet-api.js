'use strict';
/**
 * What the scripts share: calls to the fleet supervisor (FLEET_URL) and its AOS, and the exit codes
 * the command driver reads: 0 done, 75 (EX_TEMPFAIL) try again later, anything else a final failure.
 */
const http = require('node:http');

const EX_TEMPFAIL = 75;

class Failure extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * One HTTP call; resolves with the status and the JSON body ({} when it has none). node:http rather
 * than fetch, whose first use loads undici: that doubled the time of every command, which runs once.
 */
function call(url, method = 'GET', body) {
  const data = body === undefined ? '' : JSON.stringify(body);
  const unreachable = (err) =>
    new Failure(`${method} ${url}: unreachable (${err.code ?? err.message})`, EX_TEMPFAIL);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        // The fleet takes a request that changes something only as JSON, body or not.
        headers:
          method === 'GET'
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        signal: AbortSignal.timeout(90_000),
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('error', (err) => reject(unreachable(err)));
        response.on('end', () => {
          let json = {};
          try {
            json = JSON.parse(text);
          } catch {
            // Not JSON: the status says enough.
          }
          resolve({ status: response.statusCode, json });
        });
      },
    );
    request.on('error', (err) => reject(unreachable(err)));
    request.end(data);
  });
}

/** A 2xx answer's body; a 5xx is worth retrying, another error is not. */
async function ok(url, method, body) {
  const { status, json } = await call(url, method, body);
  if (status >= 200 && status < 300) return json;
  throw new Failure(
    `${method} ${url}: ${status} ${json.error ?? ''}`.trim(),
    status >= 500 ? EX_TEMPFAIL : 1,
  );
}

const supervisor = (path) => `${required('FLEET_URL')}${path}`;
const aosUrl = (port, path) => `http://127.0.0.1:${port}${path}`;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Failure(`${name} is not set`, 2);
  return value;
}

/** Runs `work` on the environment's database (FLEET_DATABASE); a locked or missing one is exit 75. */
function sql(work) {
  // Loaded here, so that the scripts that only call the API do not need the SQLite module.
  const Database = require('better-sqlite3');
  try {
    // A short busy timeout: a locked database is "try again later" (exit 75), retried by policy.
    return work(new Database(required('FLEET_DATABASE'), { fileMustExist: true, timeout: 1000 }));
  } catch (err) {
    if (/^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR)/.test(err.code ?? ''))
      throw new Failure(`database unreachable (${err.code}): ${err.message}`, EX_TEMPFAIL);
    throw err;
  }
}

/** Runs `main(command)`; prints its result as JSON (when it has one) and exits with the right code. */
function run(commands) {
  const name = process.argv[2];
  const main = commands[name];
  if (!main) {
    console.error(`usage: ${process.argv[1]} ${Object.keys(commands).join('|')}`);
    process.exit(2);
  }
  Promise.resolve()
    .then(main)
    .then(
      (result) => {
        if (result !== undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
      },
      (err) => {
        console.error(err.message);
        process.exitCode = err instanceof Failure ? err.exitCode : 1;
      },
    );
}

module.exports = { EX_TEMPFAIL, Failure, aosUrl, ok, call, required, run, sql, supervisor };

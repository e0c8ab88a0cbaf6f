import os from 'node:os';
import {
  Client,
  type ClientOptions,
  type ConnectionLike,
  type WorkflowClientInterceptor,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { CLIENT_IDENTITY_HEADER } from '../contract/operation';

/** The SDK's default client identity. */
export const defaultIdentity = (): string => `${process.pid}@${os.hostname()}`;

/** What the `maint` CLI reports: which tool, which user, which host. */
export const cliIdentity = (): string => `maint-cli ${os.userInfo().username}@${os.hostname()}`;

/**
 * Sends the client's identity in a header with every signal and update, so that a workflow can
 * record who decided (workflows/caller.ts reads it). The server keeps the identity of a signal or
 * update request to itself; the workflow sees only its headers.
 */
export function identityInterceptor(identity: string): WorkflowClientInterceptor {
  const headers = <H>(h: H) => ({
    ...h,
    [CLIENT_IDENTITY_HEADER]: defaultPayloadConverter.toPayload(identity),
  });
  return {
    signal: (input, next) => next({ ...input, headers: headers(input.headers) }),
    signalWithStart: (input, next) => next({ ...input, headers: headers(input.headers) }),
    startUpdate: (input, next) => next({ ...input, headers: headers(input.headers) }),
    startUpdateWithStart: (input, next) => next({ ...input, updateHeaders: headers(input.updateHeaders) }),
  };
}

/** The options every client of the product has: its identity, and the interceptor that sends it. */
export function clientOptions(
  identity = defaultIdentity(),
): Pick<ClientOptions, 'identity' | 'interceptors'> {
  return { identity, interceptors: { workflow: [identityInterceptor(identity)] } };
}

/** The one way the product makes a client (CLI, worker, `npm start`); tests pass `clientOptions()` to their environments. */
export function createClient(connection: ConnectionLike, namespace: string, identity?: string): Client {
  return new Client({ connection, namespace, ...clientOptions(identity) });
}

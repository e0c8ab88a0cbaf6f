/**
 * Who sent the signal or update being handled. The workflow API does not tell handlers who called;
 * the product's clients put their Temporal client identity in a header (client/identity.ts), and
 * this inbound interceptor (registered with `workflowInterceptorModules`, worker/create-worker.ts)
 * makes it readable while the handler runs. Workflow code is single-threaded and a handler runs
 * synchronously up to its first await, so a module-level value set around the call is enough for
 * synchronous handlers such as the decisions.
 */
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { CLIENT_IDENTITY_HEADER } from '../contract/operation';

let current: string | undefined;

/** The client identity of the signal or update being handled; undefined when its sender did not say. */
export function callerIdentity(): string | undefined {
  return current;
}

function identityFrom(headers: Headers): string | undefined {
  const payload = headers[CLIENT_IDENTITY_HEADER];
  if (!payload) return undefined;
  try {
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    return typeof value === 'string' && value.trim() ? value.trim().slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

function asCaller<T>(headers: Headers, call: () => T): T {
  const outer = current;
  current = identityFrom(headers);
  try {
    return call();
  } finally {
    current = outer;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      handleSignal: (input, next) => asCaller(input.headers, () => next(input)),
      validateUpdate: (input, next) => asCaller(input.headers, () => next(input)),
      handleUpdate: (input, next) => asCaller(input.headers, () => next(input)),
    },
  ],
});

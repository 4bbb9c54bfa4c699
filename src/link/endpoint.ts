import { createServer } from 'node:net';

/**
 * Which endpoints stay on this host. Anything else crosses a network, where pons
 * insists on CURVE encryption unless the operator says `--insecure`.
 */
export function isLocalEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):/.exec(endpoint);
  if (!match) return false;
  const host = (match[1] as string).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for tests and benchmarks). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

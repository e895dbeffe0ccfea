import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { WsflvError } from '../errors.js';
import type { ServerConfig } from './config.js';

/** The listener could not start (port in use, unreadable TLS files). */
export class ServerStartError extends WsflvError {
  constructor(message: string, cause?: unknown) {
    super('WSFLV_ERR_SERVER_START', message, { cause });
  }
}

/**
 * The node HTTP (or HTTPS, with `server.tls`) server the listener runs on, with the deadlines of
 * `server.timeouts` applied; not yet listening.
 */
export async function createHttpListener(config: ServerConfig): Promise<Server> {
    const { timeouts } = config;
    const headersTimeout = timeouts.requestMs > 0 ? Math.min(timeouts.headersMs, timeouts.requestMs) : timeouts.headersMs;
    const options = {
      headersTimeout,
      requestTimeout: timeouts.requestMs,
      // Node only checks header and request deadlines on this tick; its 30 s default would let a slow
      // client hold a socket far past a short headers timeout.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
      keepAliveTimeout: 5000,
      noDelay: true,
    };
    let server: Server;
    if (config.tls) {
      const { key, cert } = config.tls;
      let pem: [Buffer, Buffer];
      try {
        pem = await Promise.all([readFile(key), readFile(cert)]);
      } catch (error) {
        throw new ServerStartError(`cannot read the TLS key or certificate: ${(error as Error).message}`, error);
      }
      try {
        // The TLS handshake comes before the headers and counts against the same deadline (Node's own is
        // 120 s: a peer that connects and says nothing would hold its socket that long).
        server = createHttpsServer({ ...options, handshakeTimeout: headersTimeout, key: pem[0], cert: pem[1] }) as unknown as Server;
      } catch (error) {
        throw new ServerStartError(`invalid TLS key or certificate: ${(error as Error).message}`, error);
      }
    } else {
      server = createHttpServer(options);
    }
  return server;
}

// Runs a health-check or probe command from the deploy files for real, against a local server,
// so a check that could never succeed (or never fail) is caught without Docker or a cluster.
import { execFile } from 'node:child_process';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';

/** Runs `node …args` (the command's first word must be node) and resolves its exit code. */
export function runNodeCommand(command: string[], env: Record<string, string>): Promise<number> {
  const [program, ...args] = command;
  if (program !== 'node') throw new Error(`expected a node command, got ${program}`);
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15_000 }, (error) => {
      if (!error) resolve(0);
      else resolve(typeof error.code === 'number' ? error.code : 1);
    });
  });
}

export interface Running {
  port: number;
  close(): Promise<void>;
}

function listening(server: Server | HttpServer): Promise<Running> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ port, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

/** An HTTP server answering `status` on `path` and 404 elsewhere; `hits` counts requests to `path`. */
export async function httpServer(path: string, status: number): Promise<Running & { hits: () => number }> {
  let hits = 0;
  const server = createHttpServer((req, res) => {
    if (req.url === path) hits += 1;
    res.statusCode = req.url === path ? status : 404;
    res.end();
  });
  const running = await listening(server);
  return { ...running, hits: () => hits };
}

/** A TCP server that accepts and closes connections. */
export function tcpServer(): Promise<Running> {
  return listening(createTcpServer((socket) => socket.end()));
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = await tcpServer();
  await server.close();
  return server.port;
}

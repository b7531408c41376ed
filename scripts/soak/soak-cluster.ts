// The soak's deployment, all as real processes it can kill: its own redis-server, a local chain
// (`src/chain.ts`), the gateway (`src/server.ts`) and workers (`src/worker.ts`) on a fresh database.
// A process that dies when the soak did not kill it is recorded and started again (a supervisor's job).
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { type RunningProcess, startEntry } from '../../test/helpers/child-process.js';

export type Role = 'redis' | 'chain' | 'gateway' | `gateway-${number}` | `worker-${number}`;

export interface UnexpectedExit {
  role: Role;
  code: number | null;
  signal: string | null;
  at: number;
  /** The last lines the process wrote. */
  tail: string;
}

export interface ClusterOptions {
  dataDir: string;
  databaseUrl: string;
  operatorToken: string;
  workers: number;
  /** Gateway processes on the same database, Redis and chain (default 1): `gateway`, `gateway-2`, … */
  gateways?: number;
  logLevel: string;
  /** Extra variables for the gateway and the workers (SYNC_TIMEOUT_MS and the like). */
  env?: Record<string, string>;
}

/** A port nobody listens on now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last lines of a process's output, each cut short (pino's JSON lines carry whole stacks). */
const tail = (text: string, lines = 12) =>
  text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l))
    .join('\n');

interface Managed {
  role: Role;
  child: ChildProcess;
  output(): string;
  /** Set before the soak kills it, so its exit is not taken for a crash. */
  expected: boolean;
  exited: Promise<void>;
}

function manage(role: Role, child: ChildProcess, output: () => string): Managed {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return { role, child, output, expected: false, exited };
}

export class SoakCluster {
  redisPort = 0;
  chainPort = 0;
  /** Each gateway's port, kept across its restarts so clients keep their URL. */
  private readonly gatewayPorts = new Map<Role, number>();
  chainRpcUrl = '';
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly procs = new Map<Role, Managed>();
  /** Every process started, replaced ones included, so a failed run can search all their logs. */
  private readonly history: Managed[] = [];
  private readonly generation = new Map<Role, number>();
  /** One start or stop per role at a time: the fault script and the supervisor share them. */
  private readonly busy = new Map<Role, Promise<unknown>>();
  private stopping = false;

  constructor(private readonly options: ClusterOptions) {}

  get gatewayPort(): number {
    return this.gatewayPorts.get('gateway') ?? 0;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** Every gateway's URL, the first gateway's first. */
  get baseUrls(): string[] {
    return this.gatewayRoles.map((role) => `http://127.0.0.1:${this.gatewayPorts.get(role) ?? 0}`);
  }

  get gatewayRoles(): Role[] {
    return Array.from({ length: this.options.gateways ?? 1 }, (_, i) => (i === 0 ? 'gateway' : (`gateway-${i + 1}` as Role)));
  }

  get workerRoles(): Role[] {
    return Array.from({ length: this.options.workers }, (_, i) => `worker-${i + 1}` as Role);
  }

  /** Starts everything, in dependency order. */
  async start(): Promise<void> {
    this.redisPort = await freePort();
    this.chainPort = await freePort();
    await this.startRole('redis');
    await this.startRole('chain');
    // The first gateway migrates the database and publishes the default model; the others join it.
    await this.startRole('gateway');
    await Promise.all([...this.gatewayRoles.slice(1), ...this.workerRoles].map((r) => this.startRole(r)));
  }

  pid(role: Role): number | undefined {
    return this.procs.get(role)?.child.pid;
  }

  /** Sends `signal` to a role's process without expecting an exit (SIGSTOP / SIGCONT). */
  signal(role: Role, signal: NodeJS.Signals): void {
    this.procs.get(role)?.child.kill(signal);
  }

  /** Kills a role's process with `signal` and waits for its exit (SIGKILL after `graceMs`). */
  async kill(role: Role, signal: NodeJS.Signals, graceMs = 30_000): Promise<void> {
    await this.exclusive(role, () => this.killNow(role, signal, graceMs));
  }

  /** Kills and starts a role again; resolves when the new process is ready. */
  async restart(role: Role, signal: NodeJS.Signals, graceMs = 30_000): Promise<void> {
    await this.exclusive(role, async () => {
      await this.killNow(role, signal, graceMs);
      await this.startNow(role);
    });
  }

  async startRole(role: Role): Promise<void> {
    await this.exclusive(role, () => this.startNow(role));
  }

  /** Stops every process (workers, gateway, chain, Redis); safe to call more than once. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.busy.values()]);
    const order: Role[] = [...this.workerRoles, ...this.gatewayRoles.slice().reverse(), 'chain', 'redis'];
    for (const role of order) {
      const p = this.procs.get(role);
      if (!p) continue;
      p.child.kill('SIGCONT'); // a paused chain cannot stop
      await this.killNow(role, 'SIGTERM', 20_000).catch(() => {});
    }
  }

  /** The output of every process (for a failed run's report). */
  outputs(): Record<string, string> {
    return Object.fromEntries([...this.procs].map(([role, p]) => [role, tail(p.output())]));
  }

  /** Log lines of any process, past or present, that mention `needle` (a job id), with their `msg` and error. */
  logLinesAbout(needle: string, max = 6): string[] {
    const found: string[] = [];
    for (const p of this.history) {
      for (const line of p.output().split('\n')) {
        if (!line.includes(needle)) continue;
        let text = line;
        try {
          const entry = JSON.parse(line) as { msg?: string; workerId?: string; err?: { message?: string } };
          text = `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message.split('\n')[0]}` : ''}`;
        } catch {}
        found.push(`${p.role}: ${text.slice(0, 300)}`);
        if (found.length >= max) return found;
      }
    }
    return found;
  }

  private async exclusive<T>(role: Role, fn: () => Promise<T>): Promise<T> {
    for (let current = this.busy.get(role); current; current = this.busy.get(role)) await current.catch(() => {});
    const run = fn();
    this.busy.set(role, run);
    try {
      return await run;
    } finally {
      if (this.busy.get(role) === run) this.busy.delete(role);
    }
  }

  private async killNow(role: Role, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const p = this.procs.get(role);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.expected = true;
    p.child.kill(signal);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
    await p.exited;
    clearTimeout(timer);
  }

  private async startNow(role: Role): Promise<void> {
    const generation = (this.generation.get(role) ?? 0) + 1;
    this.generation.set(role, generation);
    const p = role === 'redis' ? await this.spawnRedis() : await this.spawnEntry(role, generation);
    this.procs.set(role, p);
    this.history.push(p);
    p.exited.then(() => this.onExit(p));
  }

  /** A crash the soak did not cause: recorded, then the role is started again. */
  private onExit(p: Managed): void {
    if (p.expected || this.stopping || this.procs.get(p.role) !== p) return;
    this.unexpectedExits.push({ role: p.role, code: p.child.exitCode, signal: p.child.signalCode, at: Date.now(), tail: tail(p.output()) });
    const retry = async () => {
      if (this.stopping || this.procs.get(p.role) !== p) return;
      await this.startRole(p.role).catch(() => setTimeout(retry, 1000).unref());
    };
    setTimeout(retry, 1000).unref();
  }

  private async spawnRedis(): Promise<Managed> {
    // No persistence: a restart comes back empty, as a Redis without a volume does.
    const child = spawn(
      'redis-server',
      ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out = (out + c.toString()).slice(-20_000);
    });
    child.stderr?.on('data', (c: Buffer) => {
      out = (out + c.toString()).slice(-20_000);
    });
    const managed = manage('redis', child, () => out);
    const deadline = Date.now() + 30_000;
    while (!(await canConnect(this.redisPort))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at start:\n${out}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL'); // never leave a half-started process behind
        throw new Error(`redis-server did not listen on ${this.redisPort} within 30 s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return managed;
  }

  private processEnv(): Record<string, string> {
    return {
      DATABASE_URL: this.options.databaseUrl,
      REDIS_URL: `redis://127.0.0.1:${this.redisPort}`,
      REDIS_PREFIX: 'soak',
      CHAIN_RPC_URL: this.chainRpcUrl,
      POSTHUMAN_DATA_DIR: this.options.dataDir,
      POSTHUMAN_OPERATOR_TOKEN: this.options.operatorToken,
      LOG_LEVEL: this.options.logLevel,
      LOG_FORMAT: 'json',
      ...this.options.env,
    };
  }

  private async spawnEntry(role: Role, generation: number): Promise<Managed> {
    let proc: RunningProcess | undefined;
    try {
      return await this.spawnReady(role, generation, (p) => {
        proc = p;
      });
    } catch (err) {
      // Never leave a half-started process behind.
      proc?.child.kill('SIGKILL');
      throw err;
    }
  }

  private async spawnReady(role: Role, generation: number, started: (p: RunningProcess) => void): Promise<Managed> {
    let proc: RunningProcess;
    if (role === 'chain') {
      proc = startEntry('src/chain.ts', { CHAIN_PORT: String(this.chainPort), POSTHUMAN_DATA_DIR: this.options.dataDir, LOG_LEVEL: 'warn' });
      started(proc);
      const managed = manage(role, proc.child, proc.output);
      const [, url] = await proc.waitFor(/CHAIN_RPC_URL=(\S+)/, 180_000);
      this.chainRpcUrl = url;
      return managed;
    }
    if (role.startsWith('gateway')) {
      // The first start picks a free port; restarts take the same one, so clients keep their URL.
      proc = startEntry('src/server.ts', { ...this.processEnv(), PORT: String(this.gatewayPorts.get(role) ?? 0), WORKER_IN_PROCESS: 'false' });
      started(proc);
      const managed = manage(role, proc.child, proc.output);
      const [, port] = await proc.waitFor(/listening on http:\/\/[^:\s]+:(\d+)/, 240_000);
      this.gatewayPorts.set(role, Number(port));
      return managed;
    }
    // A restarted worker is a new pod: its own id, as a replacement container would have.
    proc = startEntry('src/worker.ts', { ...this.processEnv(), WORKER_ID: `soak-${role}-g${generation}`, WORKER_THREADS: '1' });
    started(proc);
    const managed = manage(role, proc.child, proc.output);
    await proc.waitFor(/worker \S+ ready/, 240_000);
    return managed;
  }
}

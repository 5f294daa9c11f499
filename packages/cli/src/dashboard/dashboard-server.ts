import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { actionView, batchesView, deadLettersView, leaseView, planView, stepRow, verifyView, type DashboardSource, type WithDb } from './dashboard-api.js';
import pg from 'pg';
import { isLocalRequest, isPageRequest, newToken, SECURITY_HEADERS, TOKEN_HEADER, tokenMatches } from './dashboard-security.js';

/** Default port of `prisma-evolve dashboard`. */
export const DEFAULT_DASHBOARD_PORT = 4545;
/** Default bind address: loopback only. */
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
/** How often the server re-reads the status for its live clients (ms). */
export const DASHBOARD_POLL_MS = 1_000;
/** Connections the server's API reads share, at most (one pool for every tab). */
export const DASHBOARD_POOL_MAX = 2;
/** How long the lease and dead-letter answers are reused for every tab (ms). */
export const DASHBOARD_CACHE_MS = 3_000;

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  readonly source: DashboardSource;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Pause/resume/cancel buttons work (with the token); off by default: the dashboard is read-only. */
  readonly allowActions?: boolean;
  /** The action token; a random one by default. */
  readonly token?: string;
  /** Who the actions are recorded as (`requested_by`). */
  readonly requestedBy?: string;
}

/** A running dashboard. */
export interface RunningDashboard {
  /** `http://host:port/` */
  readonly url: string;
  /** The URL with the token in its fragment (never sent to the server or logged by proxies). */
  readonly actionUrl: string;
  readonly token: string;
  close(): Promise<void>;
}

// src/dashboard/ and dist/dashboard/ are both two levels below the package root, where assets/ is.
const ASSETS = new URL('../../assets/dashboard/', import.meta.url);
const require = createRequire(import.meta.url);
const STATIC: Readonly<Record<string, { file: () => string; type: string }>> = {
  '/': { file: () => fileURLToPath(new URL('index.html', ASSETS)), type: 'text/html; charset=utf-8' },
  '/assets/dashboard.js': { file: () => fileURLToPath(new URL('dashboard.js', ASSETS)), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard-charts.js': { file: () => fileURLToPath(new URL('dashboard-charts.js', ASSETS)), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: () => fileURLToPath(new URL('dashboard.css', ASSETS)), type: 'text/css; charset=utf-8' },
  '/assets/uPlot.iife.min.js': { file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/uPlot.min.css': { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Serves the migration dashboard: the page and its assets (from this package, no CDN), a JSON API and a
 * server-sent event stream of the status. Binds `127.0.0.1` by default and refuses requests whose Host or
 * Origin is not this server (DNS rebinding). Reads only, except `POST /api/steps/<phase>/<step>/<action>`,
 * which needs `allowActions` and the token (header `x-evolve-token`, compared in constant time) and only
 * sets or clears a step's control flag. Resolves once listening.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  const token = options.token ?? newToken();
  const live = new LiveStatus(options.source);
  // One small pool for every API read of every tab, instead of a connection per request.
  const pool = new pg.Pool({ connectionString: options.source.databaseUrl, max: DASHBOARD_POOL_MAX, idleTimeoutMillis: 10_000 });
  pool.on('error', () => undefined); // an idle connection dropped by the server: the next read opens another
  const db: WithDb = async (work) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  };
  const cache = new TtlCache(DASHBOARD_CACHE_MS);
  const server = createServer((request, response) => {
    handle(request, response, { ...options, host, token, live, db, cache, port: (server.address() as AddressInfo).port }).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (!response.headersSent) sendJson(response, status, { error: error instanceof Error ? error.message : String(error) });
      else response.end();
    });
  });
  await listen(server, options.port ?? DEFAULT_DASHBOARD_PORT, host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return {
    url,
    actionUrl: `${url}#token=${token}`,
    token,
    async close() {
      live.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

type Context = DashboardOptions & { host: string; port: number; token: string; live: LiveStatus; db: WithDb; cache: TtlCache };

async function handle(request: IncomingMessage, response: ServerResponse, context: Context): Promise<void> {
  if (!isLocalRequest(request, context.host, context.port)) throw new HttpError(403, 'this dashboard only answers requests addressed to its own host and port');
  const url = new URL(request.url ?? '/', 'http://dashboard.invalid');
  const path = url.pathname;
  if (path.startsWith('/api/') && !isPageRequest(request, path)) {
    throw new HttpError(403, 'API requests come from the dashboard page only (header x-evolve-dashboard: 1, and no cross-site Sec-Fetch-Site)');
  }
  if (request.method === 'POST') return handleAction(request, response, context, path);
  if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, `method ${request.method} not allowed`);
  const asset = STATIC[path];
  if (asset) {
    const body = await readFile(asset.file());
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache' });
    response.end(body);
    return;
  }
  const { source } = context;
  if (path === '/api/status') return sendJson(response, 200, await source.status());
  if (path === '/api/plan') return sendJson(response, 200, planView(source, context.allowActions === true));
  if (path === '/api/lease') return sendJson(response, 200, await context.cache.get('lease', () => leaseView(context.db)));
  if (path === '/api/verify') return sendJson(response, 200, await verifyView(source));
  if (path === '/api/dead-letters') return sendJson(response, 200, await context.cache.get(`dead-letters?${url.searchParams.toString()}`, () => deadLettersView(source, context.db, url.searchParams)));
  if (path === '/api/events') return context.live.subscribe(request, response);
  const batches = /^\/api\/steps\/([^/]+)\/([^/]+)\/batches$/.exec(path);
  if (batches) {
    const row = stepRow(source.plan, decodeURIComponent(batches[1] ?? ''), decodeURIComponent(batches[2] ?? ''));
    if (!row) throw new HttpError(404, `the plan has no step "${decodeURIComponent(batches[1] ?? '')}/${decodeURIComponent(batches[2] ?? '')}"`);
    return sendJson(response, 200, await batchesView(source, context.db, row, url.searchParams));
  }
  throw new HttpError(404, `no such page: ${path}`);
}

async function handleAction(request: IncomingMessage, response: ServerResponse, context: Context, path: string): Promise<void> {
  const match = /^\/api\/steps\/([^/]+)\/([^/]+)\/(pause|resume|cancel)$/.exec(path);
  if (!match) throw new HttpError(404, `no such action: ${path}`);
  if (!context.allowActions) throw new HttpError(403, 'actions are off: start the dashboard with --allow-actions');
  const given = request.headers[TOKEN_HEADER];
  const formToken = given === undefined ? await readFormToken(request) : undefined;
  if (!tokenMatches(context.token, typeof given === 'string' ? given : formToken)) throw new HttpError(401, 'missing or wrong token');
  const target = `${decodeURIComponent(match[1] ?? '')}/${decodeURIComponent(match[2] ?? '')}`;
  if (!stepRow(context.source.plan, ...(target.split('/') as [string, string]))) throw new HttpError(404, `the plan has no step "${target}"`);
  const result = await actionView(context.source, target, match[3] as 'pause' | 'resume' | 'cancel', context.requestedBy ?? 'dashboard').catch((error: unknown) => {
    throw new HttpError(409, error instanceof Error ? error.message : String(error));
  });
  context.live.poke();
  sendJson(response, 200, result);
}

/** Answers reused for `ttlMs` by every tab (a request arriving meanwhile waits for the same read). */
class TtlCache {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(private readonly ttlMs: number) {}

  get<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = performance.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    if (this.entries.size > 100) this.entries.clear(); // paging through many offsets: keep it small
    const value = read();
    this.entries.set(key, { at: now, value });
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

/** The `token` field of a small urlencoded form body (for clients that cannot set headers). */
async function readFormToken(request: IncomingMessage): Promise<string | undefined> {
  if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return undefined;
  let body = '';
  for await (const chunk of request) {
    body += String(chunk);
    if (body.length > 4_096) throw new HttpError(413, 'form too large');
  }
  return new URLSearchParams(body).get('token') ?? undefined;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

/**
 * One status poller shared by every live client (`GET /api/events`, server-sent events): reads the status
 * every {@link DASHBOARD_POLL_MS} while at least one client listens, and sends it when it changed.
 */
class LiveStatus {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private reading = false;

  constructor(private readonly source: DashboardSource) {}

  subscribe(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write('retry: 2000\n\n');
    this.clients.add(response);
    if (this.last) response.write(`event: status\ndata: ${this.last}\n\n`);
    request.on('close', () => {
      this.clients.delete(response);
      if (this.clients.size === 0) this.stop();
    });
    this.timer ??= setInterval(() => this.poke(), DASHBOARD_POLL_MS);
    this.poke();
  }

  /** Reads the status now and sends it to every client if it changed (a failed read is sent as an `error` event). */
  poke(): void {
    if (this.reading || this.clients.size === 0) return;
    this.reading = true;
    this.source
      .status()
      .then((report) => {
        const text = JSON.stringify(report);
        if (text !== this.last) {
          this.last = text;
          this.broadcast(`event: status\ndata: ${text}\n\n`);
        } else this.broadcast(': unchanged\n\n');
      })
      .catch((error: unknown) => this.broadcast(`event: failure\ndata: ${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n\n`))
      .finally(() => {
        this.reading = false;
      });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private broadcast(message: string): void {
    for (const client of this.clients) client.write(message);
  }
}

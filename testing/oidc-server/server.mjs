#!/usr/bin/env node
// Local OpenID Connect authorization server for raptoken tests.
//
// Usage: node server.mjs [--dir DIR] [--port N] [--admin-port N] [--no-stdin-watch]
//                        [--keep-dir] [--verbose]
//
// Prints exactly one line of JSON to stdout when ready (also written to DIR/server.json);
// everything else goes to stderr. Exits on stdin EOF (unless --no-stdin-watch), SIGTERM or
// SIGINT. See README.md next to this file.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const t0 = process.hrtime.bigint();

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      dir: { type: 'string' },
      port: { type: 'string', default: '0' },
      'admin-port': { type: 'string', default: '0' },
      'no-stdin-watch': { type: 'boolean', default: false },
      'keep-dir': { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  process.stderr.write(`oidc-server: ${err.message}\n`);
  process.exit(2);
}
if (args.help) {
  process.stderr.write('usage: node server.mjs [--dir DIR] [--port N] [--admin-port N] '
    + '[--no-stdin-watch] [--keep-dir] [--verbose]\n');
  process.exit(0);
}
const VERBOSE = args.verbose || process.env.RAPTOKEN_OIDC_VERBOSE === '1';

function parsePort(name, value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`oidc-server: invalid --${name} ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}
const wantPort = parsePort('port', args.port);
const wantAdminPort = parsePort('admin-port', args['admin-port']);

const log = (...a) => { process.stderr.write(`oidc-server: ${a.join(' ')}\n`); };
const debug = VERBOSE ? log : () => {};

// oidc-provider prints NOTICE lines with console.info (i.e. to stdout) and WARNING lines with
// console.warn. stdout must carry only the ready line, so route console output to stderr and
// drop the library's development-mode chatter unless --verbose.
{
  const toStderr = (...a) => {
    const line = a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
    if (!VERBOSE && /^oidc-provider (NOTICE|WARNING):/.test(line)) return;
    process.stderr.write(`${line}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.warn = toStderr;
  console.debug = toStderr;
}

// ---------------------------------------------------------------------------------------------
// Working directory, certificates, keys
// ---------------------------------------------------------------------------------------------
let dir;
let ownDir = false;
if (args.dir) {
  dir = path.resolve(args.dir);
  fs.mkdirSync(dir, { recursive: true });
} else {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raptoken-oidc-'));
  ownDir = true;
}

function writeEcKey(file) {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}

function openssl(...opensslArgs) {
  try {
    execFileSync('openssl', opensslArgs, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = err.stderr ? err.stderr.toString() : '';
    throw new Error(`openssl ${opensslArgs[0]} failed: ${err.message}\n${stderr}`);
  }
}

function randomSerial() {
  // positive 128-bit serial
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x01;
  return `0x${b.toString('hex')}`;
}

function generateCertificates() {
  // An explicit config so that the system openssl.cnf never matters.
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
`);
  writeEcKey(path.join(dir, 'ca-key.pem'));
  writeEcKey(path.join(dir, 'server-key.pem'));
  writeEcKey(path.join(dir, 'wrong-ca-key.pem'));

  const common = ['-config', 'openssl.cnf', '-sha256'];
  // Test CA.
  openssl('req', '-x509', ...common, '-key', 'ca-key.pem', '-subj', '/O=raptoken tests/CN=raptoken test CA',
    '-extensions', 'v3_ca', '-days', '3650', '-set_serial', randomSerial(), '-out', 'ca.pem');
  // Server certificate for localhost / 127.0.0.1 / ::1, signed by the test CA.
  openssl('req', '-new', ...common, '-key', 'server-key.pem', '-subj', '/O=raptoken tests/CN=localhost',
    '-out', 'server.csr');
  openssl('x509', '-req', '-sha256', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem',
    '-set_serial', randomSerial(), '-days', '825', '-extfile', 'openssl.cnf', '-extensions', 'v3_server',
    '-out', 'server.pem');
  // An unrelated CA, for "wrong CA -> TLS error" tests.
  openssl('req', '-x509', ...common, '-key', 'wrong-ca-key.pem', '-subj', '/O=raptoken tests/CN=raptoken wrong CA',
    '-extensions', 'v3_ca', '-days', '3650', '-set_serial', randomSerial(), '-out', 'wrong-ca.pem');
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------
const SCOPES = ['openid', 'roles', 'email', 'offline_access'];
const SCOPE_ALLOW = SCOPES.join(' ');
const SCOPE_ALLOWED = new Set(SCOPES);
const SPECIAL_SECRET = 's3cr+t: /%&= x';

function client(id, secret, method) {
  return {
    client_id: id,
    client_secret: secret,
    token_endpoint_auth_method: method,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPE_ALLOW,
  };
}

function buildClients() {
  const clients = [];
  for (let i = 0; i < 64; i += 1) clients.push(client(`basic-${i}`, `secret-basic-${i}`, 'client_secret_basic'));
  for (let i = 0; i < 64; i += 1) clients.push(client(`post-${i}`, `secret-post-${i}`, 'client_secret_post'));
  for (let i = 0; i < 64; i += 1) clients.push(client(`short-${i}`, `secret-short-${i}`, 'client_secret_basic'));
  for (let i = 0; i < 16; i += 1) clients.push(client(`slow-${i}`, `secret-slow-${i}`, 'client_secret_basic'));
  clients.push(client('special', SPECIAL_SECRET, 'client_secret_basic'));
  clients.push(client('special-post', SPECIAL_SECRET, 'client_secret_post'));
  clients.push(client('demo-client', 'demo-secret', 'client_secret_basic'));
  return clients;
}
const CLIENTS = buildClients();
const clientMethods = new Map(CLIENTS.map((c) => [c.client_id, c.token_endpoint_auth_method]));

const SHORT_TTL = 3;
const DEFAULT_TTL = 3600;
const isShort = (id) => typeof id === 'string' && id.startsWith('short-');
const isSlow = (id) => typeof id === 'string' && id.startsWith('slow-');

// ---------------------------------------------------------------------------------------------
// Storage adapter: a plain Map with expiry (the library's built-in memory adapter is an LRU
// capped at 1000 entries, which would silently drop tokens in stress tests).
// ---------------------------------------------------------------------------------------------
const storage = new Map(); // key -> { payload, expiresAt (ms) | undefined }

function stored(key) {
  const entry = storage.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    storage.delete(key);
    return undefined;
  }
  return entry.payload;
}

class MapAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    storage.set(this.key(id), { payload, expiresAt });
    if (payload.grantId) {
      const gk = `grant:${payload.grantId}`;
      const list = stored(gk) || [];
      list.push(this.key(id));
      storage.set(gk, { payload: list, expiresAt });
    }
    if (payload.userCode) storage.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
    if (payload.uid) storage.set(`uid:${payload.uid}`, { payload: id, expiresAt });
  }

  async find(id) { return stored(this.key(id)); }

  async findByUserCode(userCode) {
    const id = stored(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUid(uid) {
    const id = stored(`uid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = stored(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { storage.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const gk = `grant:${grantId}`;
    (stored(gk) || []).forEach((k) => storage.delete(k));
    storage.delete(gk);
  }
}

// Drops every stored ClientCredentials token of clientId; returns how many.
function revokeClientTokens(clientId) {
  let n = 0;
  for (const [key, entry] of storage) {
    if (key.startsWith('ClientCredentials:') && entry.payload && entry.payload.clientId === clientId) {
      storage.delete(key);
      n += 1;
    }
  }
  return n;
}

// Periodic sweep of expired entries.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of storage) {
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) storage.delete(key);
  }
}, 60_000).unref();

// ---------------------------------------------------------------------------------------------
// Counters and admin state
// ---------------------------------------------------------------------------------------------
const stats = { tokenRequests: 0, byClient: new Map(), apiCalls: 0 };
let slowDelayMs = 0;

function countTokenRequest(clientId) {
  stats.tokenRequests += 1;
  if (typeof clientId === 'string' && clientId !== '') {
    stats.byClient.set(clientId, (stats.byClient.get(clientId) || 0) + 1);
  }
}

// RFC 6749 section 2.3.1 / appendix B: id and secret are form-urlencoded before base64.
function basicClientId(authorization) {
  if (typeof authorization !== 'string') return undefined;
  const m = /^basic\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  const raw = i === -1 ? decoded : decoded.slice(0, i);
  try {
    return decodeURIComponent(raw.replace(/\+/g, '%20'));
  } catch {
    return raw;
  }
}

const BODY_LIMIT = 56 * 1024; // the provider's own limit

async function readBody(req, length) {
  const chunks = [];
  let received = 0;
  for await (const chunk of req) {
    received += chunk.length;
    if (received > BODY_LIMIT || (length !== undefined && received > length)) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------
const servers = [];
let shuttingDown = false;

function shutdown(code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  debug('shutting down');
  for (const s of servers) {
    try { s.closeAllConnections?.(); s.close(); } catch { /* ignore */ }
  }
  if (ownDir && !args['keep-dir']) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ }
  }
  process.exit(code);
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));

// Keep idle keep-alive connections open far longer than HTTP clients keep them pooled (Node's
// default of 5 s makes a client that reuses a pooled connection after a pause race the server's
// close, which shows up as sporadic "connection reset" failures on non-retried POSTs).
const KEEP_ALIVE_MS = 300_000;
function tune(server) {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return server;
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (err) => { server.off('listening', onListening); reject(err); };
    const onListening = () => { server.off('error', onError); resolve(server.address().port); };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

function sendJson(res, status, body, headers = {}) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

async function main() {
  generateCertificates();
  const tls = {
    key: fs.readFileSync(path.join(dir, 'server-key.pem')),
    cert: fs.readFileSync(path.join(dir, 'server.pem')),
  };
  debug(`certificates ready after ${Number(process.hrtime.bigint() - t0) / 1e6} ms`);

  // The HTTPS listeners must exist before the provider (the issuer contains the port).
  let handler = (req, res) => { res.writeHead(503); res.end(); };
  const dispatch = (req, res) => handler(req, res);
  const https4 = tune(https.createServer(tls, dispatch));
  servers.push(https4);
  const port = await listen(https4, wantPort, '127.0.0.1');
  // Also answer on [::1]:port for clients that resolve localhost to ::1 first. Best effort.
  try {
    const https6 = tune(https.createServer(tls, dispatch));
    await listen(https6, port, '::1');
    servers.push(https6);
  } catch (err) {
    debug(`not listening on [::1]:${port}: ${err.message}`);
  }

  const { default: Provider } = await import('oidc-provider');

  const origin = `https://localhost:${port}`;
  const issuer = `${origin}/`; // trailing slash, like the production server's discovery document

  const signingKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    .export({ format: 'jwk' });
  signingKey.kid = crypto.randomBytes(8).toString('hex');
  signingKey.use = 'sig';
  signingKey.alg = 'ES256';

  const provider = new Provider(issuer, {
    adapter: MapAdapter,
    clients: CLIENTS.map((c) => ({ ...c })),
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    scopes: SCOPES,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], roles: ['roles'] },
    routes: { token: '/connect/token' },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      introspection: { enabled: false },
      revocation: { enabled: false },
    },
    ttl: {
      ClientCredentials(ctx, token, clientObj) {
        const id = clientObj?.clientId ?? token?.clientId;
        return isShort(id) ? SHORT_TTL : DEFAULT_TTL;
      },
    },
    // No leeway: a 3-second token really is invalid after 3 seconds.
    clockTolerance: 0,
    findAccount: async () => undefined,
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.proxy = true; // harmless; TLS is terminated here, so ctx.secure is already true
  provider.on('server_error', (ctx, err) => { log('server_error', err?.stack || String(err)); });
  if (VERBOSE) {
    provider.on('grant.error', (ctx, err) => { debug('grant.error', err.message, err.error_description || ''); });
  }

  // Token endpoint: count every POST, enforce each client's configured authentication method,
  // reject scopes outside the allow-list, delay slow-* responses.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/connect/token') {
      await next();
      return;
    }
    const authorization = ctx.get('authorization');
    const viaBasic = /^basic\s/i.test(authorization);
    let clientId = basicClientId(authorization);
    let form;
    if (ctx.is('application/x-www-form-urlencoded')) {
      const { length } = ctx.request; // undefined for chunked bodies
      if (length !== undefined && length > BODY_LIMIT) {
        countTokenRequest(clientId);
        ctx.status = 413;
        ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
        return;
      }
      // Read the form here to learn client_id/scope before the provider runs; the provider
      // accepts an already-read body via req.body.
      try {
        const body = await readBody(ctx.req, length);
        ctx.req.body = body;
        form = new URLSearchParams(body.toString('utf8'));
      } catch {
        countTokenRequest(clientId);
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'failed to read the request body' };
        return;
      }
      if (clientId === undefined) clientId = form.get('client_id') ?? undefined;
    }
    countTokenRequest(clientId);
    debug('token request', clientId ?? '(unknown client)', viaBasic ? 'basic' : 'body');

    // oidc-provider accepts client_secret_basic and client_secret_post interchangeably; the test
    // clients accept only their configured method so that tests notice a wrong method.
    const configured = clientMethods.get(clientId);
    let used;
    if (viaBasic) used = 'client_secret_basic';
    else if (form?.has('client_secret')) used = 'client_secret_post';
    if (configured && used && used !== configured) {
      ctx.status = 401;
      if (viaBasic) ctx.set('WWW-Authenticate', `Basic realm="${issuer}", error="invalid_client"`);
      ctx.body = {
        error: 'invalid_client',
        error_description: `client authentication failed: ${clientId} must use ${configured}`,
      };
      return;
    }

    await next();

    // oidc-provider silently ignores scopes it does not know; a real authorization server
    // rejects them. Turn such a success into invalid_scope (and forget the issued token).
    if (ctx.status === 200 && form?.get('grant_type') === 'client_credentials') {
      const requested = (form.get('scope') || '').split(' ').filter(Boolean);
      const bad = requested.filter((s) => !SCOPE_ALLOWED.has(s));
      if (bad.length) {
        const issued = ctx.body?.access_token;
        if (typeof issued === 'string') storage.delete(`ClientCredentials:${issued}`);
        ctx.status = 400;
        ctx.body = { error: 'invalid_scope', error_description: `requested scope is not allowed: ${bad.join(' ')}` };
        return;
      }
    }

    const delay = slowDelayMs;
    if (isSlow(clientId) && delay > 0) await sleep(delay);
  });

  const providerCallback = provider.callback();

  // Protected API: GET /api/v1/me
  async function api(req, res) {
    stats.apiCalls += 1;
    const url = new URL(req.url, origin);
    if (url.pathname !== '/api/v1/me') {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
    if (!m) {
      sendJson(res, 401, { error: 'invalid_token', error_description: 'missing bearer token' },
        { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    const token = await provider.ClientCredentials.find(m[1]);
    const now = Math.floor(Date.now() / 1000);
    if (!token || typeof token.exp !== 'number' || token.exp <= now) {
      sendJson(res, 401, { error: 'invalid_token', error_description: 'token is invalid, expired or revoked' },
        { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    sendJson(res, 200, { client_id: token.clientId, scope: token.scope ?? '' });
  }

  handler = (req, res) => {
    if (req.url === '/api' || req.url.startsWith('/api/')) {
      api(req, res).catch((err) => {
        log('api error', err?.stack || String(err));
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      });
      return;
    }
    providerCallback(req, res);
  };

  // Admin API (plain HTTP, 127.0.0.1 only).
  const admin = tune(http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    const q = url.searchParams;
    switch (route) {
      case 'GET /health':
        sendJson(res, 200, { ok: true });
        return;
      case 'GET /stats':
        if (q.has('client_id')) {
          sendJson(res, 200, { token_requests: stats.byClient.get(q.get('client_id')) || 0 });
        } else {
          sendJson(res, 200, {
            token_requests: stats.tokenRequests,
            by_client: Object.fromEntries(stats.byClient),
            api_calls: stats.apiCalls,
          });
        }
        return;
      case 'POST /reset':
        stats.tokenRequests = 0;
        stats.byClient.clear();
        stats.apiCalls = 0;
        sendJson(res, 200, { ok: true });
        return;
      case 'POST /delay': {
        const ms = Number(q.get('ms') ?? '0');
        if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) {
          sendJson(res, 400, { error: 'ms must be a number between 0 and 600000' });
          return;
        }
        slowDelayMs = Math.floor(ms);
        sendJson(res, 200, { ok: true, delay_ms: slowDelayMs });
        return;
      }
      case 'POST /revoke': {
        const id = q.get('client_id');
        if (!id) {
          sendJson(res, 400, { error: 'client_id is required' });
          return;
        }
        sendJson(res, 200, { ok: true, revoked: revokeClientTokens(id) });
        return;
      }
      default:
        sendJson(res, 404, { error: 'not_found' });
    }
  }));
  servers.push(admin);
  const adminPort = await listen(admin, wantAdminPort, '127.0.0.1');

  const ready = {
    issuer: origin,
    discovery_issuer: issuer,
    token_endpoint: `${origin}/connect/token`,
    api: `${origin}/api/v1/me`,
    admin: `http://127.0.0.1:${adminPort}`,
    ca_file: path.join(dir, 'ca.pem'),
    wrong_ca_file: path.join(dir, 'wrong-ca.pem'),
    dir,
  };
  const line = `${JSON.stringify(ready)}\n`;
  fs.writeFileSync(path.join(dir, 'server.json'), line);
  debug(`ready after ${Number(process.hrtime.bigint() - t0) / 1e6} ms`);
  process.stdout.write(line);

  if (!args['no-stdin-watch']) {
    process.stdin.on('end', () => shutdown(0));
    process.stdin.on('close', () => shutdown(0));
    process.stdin.on('error', () => shutdown(0));
    process.stdin.resume();
  }
}

main().catch((err) => {
  log('fatal:', err?.stack || String(err));
  shutdown(1);
});

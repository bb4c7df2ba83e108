#!/usr/bin/env node
// Local OpenID Connect authorization server for raptoken tests.
//
// Usage: node server.mjs [--dir DIR] [--port N] [--admin-port N] [--cert-key ec|rsa] [--no-bridge]
//                        [--no-stdin-watch] [--keep-dir] [--verbose]
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

import {
  BODY_LIMIT, readBody, readJson, sendJson,
} from './http-util.mjs';
import { BRIDGE_CLIENT_ID, BRIDGE_TOKEN_TTL, createLoginBridge } from './login-bridge.mjs';

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
      'cert-key': { type: 'string', default: 'ec' },
      'no-bridge': { type: 'boolean', default: false },
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
  process.stderr.write('usage: node server.mjs [--dir DIR] [--port N] [--admin-port N] [--cert-key ec|rsa] '
    + '[--no-bridge] [--no-stdin-watch] [--keep-dir] [--verbose]\n');
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
// Key type of the test CAs and the server certificate. RSA is for TLS stacks that cannot verify
// ECDSA chains from a private CA (Mono's managed X509Chain).
const CERT_KEY = args['cert-key'];
if (CERT_KEY !== 'ec' && CERT_KEY !== 'rsa') {
  process.stderr.write(`oidc-server: invalid --cert-key ${JSON.stringify(CERT_KEY)} (ec or rsa)\n`);
  process.exit(2);
}

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

function writeKey(file) {
  const { privateKey } = CERT_KEY === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
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
keyUsage = critical, ${CERT_KEY === 'rsa' ? 'digitalSignature, keyEncipherment' : 'digitalSignature'}
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
`);
  writeKey(path.join(dir, 'ca-key.pem'));
  writeKey(path.join(dir, 'server-key.pem'));
  writeKey(path.join(dir, 'wrong-ca-key.pem'));

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
// RFC 8707 resource indicators the server knows (exact strings).
const RESOURCES = ['https://api.example.test/', 'https://files.example.test/', 'urn:raptoken:test-api'];

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
  // The login bridge's public client: it only owns the bridge's access tokens; no grant at
  // /connect/token (see login-bridge.mjs).
  clients.push({
    client_id: BRIDGE_CLIENT_ID,
    token_endpoint_auth_method: 'none',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
  });
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

// ---------------------------------------------------------------------------------------------
// Clients registered at runtime: by the login bridge (POST /Client) and by the admin API
// (POST /clients, e.g. private_key_jwt clients with a public JWKS). oidc-provider looks clients
// it does not know statically up in the adapter's "Client" model, so they live in `storage`.
// ---------------------------------------------------------------------------------------------
const runtimeClients = new Map(); // client_id -> { displayName, origin, createdAt, method, assertionAudience }
const ASSERTION_AUDIENCES = new Set(['any', 'issuer', 'token_endpoint']);

class AdminError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// Validates `metadata` with oidc-provider's own client schema and makes the client usable at
// once. `strict` clients accept only their configured authentication method (see the token
// endpoint middleware); the login bridge's clients accept Basic and post, as Rapidata's do.
async function registerClient(provider, metadata, {
  displayName = null, origin, assertionAudience = 'any', strict = false,
}) {
  const id = metadata.client_id;
  if (typeof id !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(id)) {
    throw new AdminError(400, 'client_id must be 1 to 200 printable ASCII characters');
  }
  if (clientMethods.has(id) || runtimeClients.has(id)) throw new AdminError(409, `client_id ${id} is already registered`);
  const full = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPE_ALLOW,
    token_endpoint_auth_method: 'client_secret_basic',
    ...metadata,
  };
  try {
    await provider.Client.validate(full);
  } catch (err) {
    throw new AdminError(400, [err.message, err.error_description].filter(Boolean).join(': '));
  }
  storage.set(`Client:${id}`, { payload: full });
  runtimeClients.set(id, {
    displayName, origin, createdAt: Date.now(), method: full.token_endpoint_auth_method, assertionAudience,
  });
  if (strict) clientMethods.set(id, full.token_endpoint_auth_method);
  return full;
}

function deleteClient(id) {
  if (!runtimeClients.has(id)) return false;
  storage.delete(`Client:${id}`);
  runtimeClients.delete(id);
  clientMethods.delete(id);
  return true;
}

function clientView(id) {
  const c = runtimeClients.get(id);
  return {
    client_id: id,
    display_name: c.displayName,
    origin: c.origin,
    token_endpoint_auth_method: c.method,
    assertion_audience: c.assertionAudience,
    created_at: new Date(c.createdAt).toISOString(),
    token_requests: stats.byClient.get(id) || 0,
  };
}

// Admin POST /clients: the JSON body is a small subset of RFC 7591 client metadata.
const ADMIN_CLIENT_FIELDS = new Set(['client_id', 'client_secret', 'jwks', 'public_key_pem', 'kid',
  'token_endpoint_auth_method', 'token_endpoint_auth_signing_alg', 'scope', 'display_name', 'assertion_audience']);
const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

async function adminRegisterClient(provider, body) {
  const unknown = Object.keys(body).filter((k) => !ADMIN_CLIENT_FIELDS.has(k));
  if (unknown.length) throw new AdminError(400, `unknown field(s) ${unknown.join(', ')}; known: ${[...ADMIN_CLIENT_FIELDS].join(', ')}`);
  let { jwks } = body;
  if (body.public_key_pem !== undefined) {
    if (jwks !== undefined) throw new AdminError(400, 'give jwks or public_key_pem, not both');
    if (typeof body.public_key_pem !== 'string' || /PRIVATE KEY/.test(body.public_key_pem)) {
      throw new AdminError(400, 'public_key_pem must be a PEM public key (a private key never leaves its owner)');
    }
    let jwk;
    try {
      jwk = crypto.createPublicKey(body.public_key_pem).export({ format: 'jwk' });
    } catch (err) {
      throw new AdminError(400, `public_key_pem is not a usable public key: ${err.message}`);
    }
    if (body.kid !== undefined) jwk.kid = String(body.kid);
    jwks = { keys: [jwk] };
  } else if (body.kid !== undefined) {
    throw new AdminError(400, 'kid goes with public_key_pem (put it in the JWK otherwise)');
  }
  if (jwks !== undefined) {
    // oidc-provider only looks at the keys when a request comes; say what is wrong now.
    if (!Array.isArray(jwks?.keys) || !jwks.keys.length) throw new AdminError(400, 'jwks must be {"keys": [JWK, ...]} with at least one key');
    jwks.keys.forEach((jwk, n) => {
      if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => Object.hasOwn(jwk ?? {}, member))) {
        throw new AdminError(400, `jwks.keys[${n}] has private or symmetric key members; register the public key only`);
      }
      try {
        crypto.createPublicKey({ key: jwk, format: 'jwk' });
      } catch (err) {
        throw new AdminError(400, `jwks.keys[${n}] is not a usable public key: ${err.message}`);
      }
    });
  }
  const method = body.token_endpoint_auth_method ?? (jwks ? 'private_key_jwt' : 'client_secret_basic');
  const assertionAudience = body.assertion_audience ?? 'any';
  if (!ASSERTION_AUDIENCES.has(assertionAudience)) {
    throw new AdminError(400, `assertion_audience must be one of ${[...ASSERTION_AUDIENCES].join(', ')}`);
  }
  if (body.scope !== undefined) {
    const bad = String(body.scope).split(' ').filter((x) => x && !SCOPE_ALLOWED.has(x));
    if (bad.length) throw new AdminError(400, `scope must be a subset of "${SCOPE_ALLOW}" (not: ${bad.join(' ')})`);
  }
  const prefix = method === 'private_key_jwt' ? 'jwt' : 'client';
  const metadata = {
    client_id: body.client_id ?? `${prefix}-${crypto.randomBytes(6).toString('hex')}`,
    token_endpoint_auth_method: method,
  };
  if (jwks !== undefined) metadata.jwks = jwks;
  if (SECRET_METHODS.has(method)) metadata.client_secret = body.client_secret ?? crypto.randomBytes(24).toString('base64url');
  else if (body.client_secret !== undefined) throw new AdminError(400, `${method} clients have no client_secret`);
  if (body.token_endpoint_auth_signing_alg !== undefined) {
    metadata.token_endpoint_auth_signing_alg = body.token_endpoint_auth_signing_alg;
  }
  if (body.scope !== undefined) metadata.scope = String(body.scope);
  const full = await registerClient(provider, metadata, {
    displayName: body.display_name ?? null, origin: 'admin', assertionAudience, strict: true,
  });
  const answer = { client_id: full.client_id, token_endpoint_auth_method: method, scope: full.scope };
  if (full.client_secret !== undefined) answer.client_secret = full.client_secret;
  if (full.jwks !== undefined) answer.jwks = full.jwks;
  return answer;
}

// ---------------------------------------------------------------------------------------------
// What the token endpoint received (admin GET /requests): parameter names and non-secret values,
// the decoded client_assertion header and claims (never its signature), the outcome.
// ---------------------------------------------------------------------------------------------
const LOG_PER_CLIENT = 50;
const LOG_ALL = 200;
const requestLog = { seq: 0, all: [], byClient: new Map() };

// Credentials are recorded by name only (param_names), never by value.
const isSecretParam = (name) => /secret|password|(^|_)(token|assertion)$/i.test(name);

function decodeAssertion(value) {
  const parts = value.split('.');
  if (parts.length !== 3) return { error: 'not a compact JWS (three dot-separated parts)' };
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
      claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    };
  } catch {
    return { error: 'the header or the claims are not base64url-encoded JSON' };
  }
}

function newLogEntry(ctx, viaBasic) {
  const headers = {};
  for (const name of ['content-type', 'accept', 'user-agent']) {
    if (ctx.get(name)) headers[name] = ctx.get(name);
  }
  return {
    seq: 0,
    at: new Date().toISOString(),
    client_id: null,
    auth: viaBasic ? 'client_secret_basic' : 'none',
    param_names: [],
    params: {},
    client_assertion: null,
    headers,
    stalled_ms: 0,
    abandoned: false,
    status: null,
    error: null,
    error_detail: null,
  };
}

function describeForm(entry, form) {
  for (const [name, value] of form) {
    entry.param_names.push(name);
    if (isSecretParam(name)) continue;
    (entry.params[name] ??= []).push(value);
  }
  if (form.has('client_secret')) entry.auth = 'client_secret_post';
  const assertion = form.get('client_assertion');
  if (assertion !== null) {
    entry.client_assertion = decodeAssertion(assertion);
    const alg = entry.client_assertion.header?.alg;
    entry.auth = typeof alg === 'string' && alg.startsWith('HS') ? 'client_secret_jwt' : 'private_key_jwt';
  }
}

function logRequest(entry, clientId) {
  requestLog.seq += 1;
  entry.seq = requestLog.seq;
  entry.client_id = clientId ?? null;
  const push = (list, max) => { list.push(entry); if (list.length > max) list.shift(); };
  push(requestLog.all, LOG_ALL);
  if (clientId !== undefined) {
    if (!requestLog.byClient.has(clientId)) requestLog.byClient.set(clientId, []);
    push(requestLog.byClient.get(clientId), LOG_PER_CLIENT);
  }
}

// ---------------------------------------------------------------------------------------------
// Stalls (admin /stall): hold token requests before the provider handles them
// ---------------------------------------------------------------------------------------------
const stallRules = new Map(); // client_id, or '*' for every client -> rule

function activeStall(clientId) {
  const active = (rule) => rule && (rule.remaining === null || rule.remaining > 0);
  const own = clientId === undefined ? undefined : stallRules.get(clientId);
  if (active(own)) return own;
  const all = stallRules.get('*');
  return active(all) ? all : undefined;
}

// Waits rule.ms; ends early when the admin clears the rule ('released') or the client closes
// the connection ('abandoned'). Returns how it ended.
async function stall(rule, res) {
  if (rule.remaining !== null) rule.remaining -= 1;
  rule.stalled += 1;
  rule.waiting += 1;
  const outcome = await new Promise((resolve) => {
    let timer;
    const finish = (how) => {
      clearTimeout(timer);
      res.off('close', onClose); // eslint-disable-line no-use-before-define
      rule.releases.delete(release); // eslint-disable-line no-use-before-define
      resolve(how);
    };
    const onClose = () => finish('abandoned');
    const release = () => finish('released');
    timer = setTimeout(() => finish('waited'), rule.ms);
    rule.releases.add(release);
    res.once('close', onClose);
  });
  rule.waiting -= 1;
  rule[outcome] += 1;
  return outcome;
}

function stallView(rule) {
  return {
    client_id: rule.clientId,
    ms: rule.ms,
    remaining: rule.remaining,
    stalled: rule.stalled,
    waiting: rule.waiting,
    waited: rule.waited,
    released: rule.released,
    abandoned: rule.abandoned,
  };
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

  const { default: Provider, errors } = await import('oidc-provider');

  const origin = `https://localhost:${port}`;
  const issuer = `${origin}/`; // trailing slash, like the production server's discovery document
  const tokenEndpoint = `${origin}/connect/token`;

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
      // RFC 8707: a known resource gives a token with that audience; anything else is
      // invalid_target. oidc-provider allows one resource per client-credentials request.
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        async getResourceServerInfo(ctx, indicator) {
          if (!RESOURCES.includes(indicator)) {
            throw new errors.InvalidTarget(`unknown resource; this server knows ${RESOURCES.join(', ')}`);
          }
          return { scope: SCOPE_ALLOW, audience: indicator, accessTokenFormat: 'opaque' };
        },
      },
    },
    // private_key_jwt: oidc-provider checks alg, exp (no leeway), jti, iss = sub = client_id, the
    // signature, aud (issuer, token endpoint), and jti replay. Admin-registered clients can
    // narrow aud to one of the two (assertion_audience).
    async assertJwtClientAuthClaimsAndHeader(ctx, claims, header, clientObj) {
      const want = runtimeClients.get(clientObj.clientId)?.assertionAudience ?? 'any';
      if (want === 'any') return;
      const expected = want === 'issuer' ? issuer : tokenEndpoint;
      const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!auds.includes(expected)) {
        throw new errors.InvalidClientAuth(`aud must be ${expected} for this client (assertion_audience ${want})`);
      }
    },
    ttl: {
      ClientCredentials(ctx, token, clientObj) {
        const id = clientObj?.clientId ?? token?.clientId;
        if (id === BRIDGE_CLIENT_ID) return BRIDGE_TOKEN_TTL;
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
  provider.on('grant.error', (ctx, err) => {
    // The reason behind a generic error_description, for the request log.
    ctx.state.errorDetail = err.error_detail ?? err.error_description;
    debug('grant.error', err.message, err.error_description || '', err.error_detail || '');
  });

  // Token endpoint: count and log every POST, stall on demand, enforce each strict client's
  // authentication method, reject scopes outside the allow-list, delay slow-* responses.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/connect/token') {
      await next();
      return;
    }
    const authorization = ctx.get('authorization');
    const viaBasic = /^basic\s/i.test(authorization);
    let clientId = basicClientId(authorization);
    const entry = newLogEntry(ctx, viaBasic);
    try {
      await tokenRequest();
    } finally {
      if (!entry.seq) logRequest(entry, clientId); // failed before it was logged
      if (!entry.abandoned) {
        entry.status = ctx.status;
        entry.error = typeof ctx.body?.error === 'string' ? ctx.body.error : null;
        entry.error_detail = ctx.state.errorDetail ?? null;
      }
    }

    async function tokenRequest() {
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
        describeForm(entry, form);
        if (clientId === undefined) {
          const sub = entry.client_assertion?.claims?.sub;
          clientId = form.get('client_id') ?? (typeof sub === 'string' ? sub : undefined);
        }
      }
      countTokenRequest(clientId);
      logRequest(entry, clientId);
      debug('token request', clientId ?? '(unknown client)', entry.auth);

      const rule = activeStall(clientId);
      if (rule) {
        const started = Date.now();
        const outcome = await stall(rule, ctx.res);
        entry.stalled_ms = Date.now() - started;
        if (outcome === 'abandoned') {
          entry.abandoned = true;
          ctx.respond = false; // the client is gone
          return;
        }
      }

      // oidc-provider accepts client_secret_basic and client_secret_post interchangeably; the
      // strict clients accept only their configured method so that tests notice a wrong one.
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
        const bad = requested.filter((x) => !SCOPE_ALLOWED.has(x));
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
    }
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
    const answer = { client_id: token.clientId, scope: token.scope ?? '' };
    if (token.aud !== undefined) answer.aud = token.aud; // tokens requested with a resource
    sendJson(res, 200, answer);
  }

  const bridge = createLoginBridge({
    provider,
    registerClient: (metadata, info) => registerClient(provider, metadata, info),
    debug,
  });
  bridge.setEnabled(!args['no-bridge']);

  const serverError = (res) => (err) => {
    log('error', err?.stack || String(err));
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    else res.destroy();
  };
  handler = (req, res) => {
    if (req.url === '/api' || req.url.startsWith('/api/')) {
      api(req, res).catch(serverError(res));
      return;
    }
    bridge.handle(req, res).then((handled) => {
      if (!handled) providerCallback(req, res);
    }, serverError(res));
  };

  // Admin API (plain HTTP, 127.0.0.1 only).
  async function adminRoute(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    const q = url.searchParams;
    if (bridge.admin(route, q, res)) return;
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
        requestLog.all.length = 0;
        requestLog.byClient.clear();
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
      case 'GET /requests': {
        const n = q.has('n') ? Number(q.get('n')) : Infinity;
        if (!(n >= 0)) {
          sendJson(res, 400, { error: 'n must be a non-negative number' });
          return;
        }
        const list = q.has('client_id') ? requestLog.byClient.get(q.get('client_id')) ?? [] : requestLog.all;
        sendJson(res, 200, { requests: n >= list.length ? list : list.slice(list.length - n) });
        return;
      }
      case 'POST /stall': {
        const ms = Number(q.get('ms'));
        const count = q.has('count') ? Number(q.get('count')) : null;
        if (!Number.isInteger(ms) || ms < 1 || ms > 600_000 || (count !== null && !(Number.isInteger(count) && count >= 1))) {
          sendJson(res, 400, { error: 'use ?ms=1…600000 [&count=N≥1, default: until cleared] [&client_id=X, default: every client]' });
          return;
        }
        const key = q.get('client_id') ?? '*';
        for (const release of stallRules.get(key)?.releases ?? []) release();
        const rule = {
          clientId: key, ms, remaining: count, stalled: 0, waiting: 0, waited: 0, released: 0, abandoned: 0, releases: new Set(),
        };
        stallRules.set(key, rule);
        sendJson(res, 200, { ok: true, ...stallView(rule) });
        return;
      }
      case 'GET /stall':
        if (q.has('client_id')) {
          const rule = stallRules.get(q.get('client_id'));
          if (rule) sendJson(res, 200, stallView(rule));
          else sendJson(res, 404, { error: 'no stall rule for this client_id' });
        } else {
          sendJson(res, 200, { rules: [...stallRules.values()].map(stallView) });
        }
        return;
      case 'DELETE /stall': {
        const keys = q.has('client_id') ? [q.get('client_id')] : [...stallRules.keys()];
        const cleared = [];
        for (const key of keys) {
          const rule = stallRules.get(key);
          if (!rule) continue;
          stallRules.delete(key);
          cleared.push({ ...stallView(rule), released_now: rule.releases.size });
          for (const release of [...rule.releases]) release();
        }
        sendJson(res, 200, { ok: true, cleared });
        return;
      }
      case 'GET /clients':
        if (q.has('client_id')) {
          if (runtimeClients.has(q.get('client_id'))) sendJson(res, 200, clientView(q.get('client_id')));
          else sendJson(res, 404, { error: 'no runtime client with this client_id' });
        } else {
          sendJson(res, 200, { clients: [...runtimeClients.keys()].map(clientView) });
        }
        return;
      case 'POST /clients': {
        const body = await readJson(req, res);
        if (body === undefined) return;
        try {
          sendJson(res, 200, await adminRegisterClient(provider, body));
        } catch (err) {
          if (!(err instanceof AdminError)) throw err;
          sendJson(res, err.status, { error: err.message });
        }
        return;
      }
      case 'DELETE /clients': {
        const id = q.get('client_id');
        if (!id) sendJson(res, 400, { error: 'client_id is required' });
        else if (deleteClient(id)) sendJson(res, 200, { ok: true, deleted: id });
        else if (clientMethods.has(id) || id === BRIDGE_CLIENT_ID) sendJson(res, 409, { error: 'static clients cannot be deleted' });
        else sendJson(res, 404, { error: 'no runtime client with this client_id' });
        return;
      }
      default:
        sendJson(res, 404, { error: 'not_found' });
    }
  }
  const admin = tune(http.createServer((req, res) => { adminRoute(req, res).catch(serverError(res)); }));
  servers.push(admin);
  const adminPort = await listen(admin, wantAdminPort, '127.0.0.1');

  const ready = {
    issuer: origin,
    discovery_issuer: issuer,
    token_endpoint: tokenEndpoint,
    api: `${origin}/api/v1/me`,
    admin: `http://127.0.0.1:${adminPort}`,
    ca_file: path.join(dir, 'ca.pem'),
    wrong_ca_file: path.join(dir, 'wrong-ca.pem'),
    dir,
    cert_key: CERT_KEY,
    bridge: bridge.enabled,
    resources: RESOURCES,
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

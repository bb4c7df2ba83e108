// Rapidata's workstation login bridge, as its Python SDK uses it (see README.md, "Login bridge"):
//
//   POST {auth}/identity/bridge-token?clientId=rapidata-cli   -> {"readKey","writeKey"}
//   GET  {auth}/connect/authorize/external?clientId=..&scope=..&writeKey=..   (the browser page)
//   GET  {auth}/identity/bridge-token?readKey=..   -> 202 until approved, then {"accessToken"}
//   POST {auth}/Client  (Bearer accessToken, {"displayName"})   -> {"clientId","clientSecret"}
//
// plus the admin side that plays the browser. The access token is a real token of this server
// (a ClientCredentials token of the public client `rapidata-cli`), good for one POST /Client.

import crypto from 'node:crypto';
import {
  escapeHtml, readBody, readJson, sendEmpty, sendHtml, sendJson,
} from './http-util.mjs';

export const BRIDGE_CLIENT_ID = 'rapidata-cli';
export const BRIDGE_TOKEN_TTL = 300; // seconds; the access token only has to reach POST /Client
const LOGIN_TTL_MS = 600_000; // a login request (readKey/writeKey) lives 10 minutes
const MAX_LOGINS = 1000; // oldest finished ones are forgotten beyond this
const DEFAULT_SCOPE = 'openid profile email api';

const randomKey = () => crypto.randomBytes(24).toString('base64url');
const iso = (ms) => (ms === undefined ? null : new Date(ms).toISOString());

// createLoginBridge({ provider, registerClient, debug }) -> { handle, admin, setEnabled }
//   registerClient(metadata, info) registers a real client (see server.mjs) and returns it.
export function createLoginBridge({ provider, registerClient, debug }) {
  let enabled = true;
  let auto = null; // { after: N, action: 'approve' | 'refuse' }
  const logins = new Map(); // writeKey -> login
  const byReadKey = new Map(); // readKey -> login (until the token is collected)
  const bridgeTokens = new Map(); // access token -> login, until POST /Client uses it

  function currentState(login) {
    if ((login.state === 'pending' || login.state === 'approved') && Date.now() >= login.expiresAt) {
      login.state = 'expired'; // its readKey now polls 410 (forgotten with the login)
    }
    return login.state;
  }

  function forgetOldLogins() {
    if (logins.size <= MAX_LOGINS) return;
    for (const [key, login] of logins) {
      if (logins.size <= MAX_LOGINS) break;
      if (currentState(login) !== 'pending') {
        logins.delete(key);
        byReadKey.delete(login.readKey);
      }
    }
  }

  function decide(login, approve, by) {
    login.state = approve ? 'approved' : 'refused';
    login.decidedBy = by;
    login.decidedAt = Date.now();
    debug(`login ${login.writeKey.slice(0, 6)}… ${login.state} by ${by}`);
  }

  function publicView(login) {
    currentState(login);
    return {
      write_key: login.writeKey,
      state: login.state,
      created_at: iso(login.createdAt),
      expires_at: iso(login.expiresAt),
      polls: login.polls,
      opened: login.opened.length,
      opened_query: login.opened.length ? login.opened[login.opened.length - 1].query : null,
      decided_by: login.decidedBy ?? null,
      created_client_id: login.createdClientId ?? null,
      display_name: login.displayName ?? null,
    };
  }

  // --- public endpoints ----------------------------------------------------------------------

  async function startLogin(url, res) {
    const clientId = url.searchParams.get('clientId');
    if (clientId !== BRIDGE_CLIENT_ID) {
      sendJson(res, 400, {
        error: 'invalid_client',
        error_description: `clientId must be ${BRIDGE_CLIENT_ID} (got ${clientId === null ? 'none' : JSON.stringify(clientId)})`,
      });
      return;
    }
    const now = Date.now();
    const login = {
      readKey: randomKey(),
      writeKey: randomKey(),
      state: 'pending',
      createdAt: now,
      expiresAt: now + LOGIN_TTL_MS,
      polls: 0,
      opened: [],
    };
    logins.set(login.writeKey, login);
    byReadKey.set(login.readKey, login);
    forgetOldLogins();
    sendJson(res, 200, { readKey: login.readKey, writeKey: login.writeKey });
  }

  async function issueAccessToken(login) {
    const client = await provider.Client.find(BRIDGE_CLIENT_ID);
    const token = new provider.ClientCredentials({ client, scope: login.scope || DEFAULT_SCOPE });
    const value = await token.save();
    bridgeTokens.set(value, login);
    return value;
  }

  async function poll(url, res) {
    const readKey = url.searchParams.get('readKey');
    if (!readKey) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'readKey is required' });
      return;
    }
    const login = byReadKey.get(readKey);
    if (!login) {
      sendJson(res, 404, {
        error: 'invalid_request',
        error_description: 'unknown readKey (never issued, or its token was already collected); start a new login',
      });
      return;
    }
    login.polls += 1;
    if (currentState(login) === 'pending' && auto && login.polls > auto.after) {
      decide(login, auto.action === 'approve', 'auto');
    }
    switch (login.state) {
      case 'pending':
        sendEmpty(res, 202);
        return;
      case 'expired':
        sendJson(res, 410, { error: 'expired_token', error_description: 'the login request expired; start a new login' });
        return;
      case 'refused':
        byReadKey.delete(readKey);
        sendJson(res, 403, { error: 'access_denied', error_description: 'the login was refused in the browser' });
        return;
      default: { // approved
        byReadKey.delete(readKey);
        login.state = 'collected';
        const accessToken = await issueAccessToken(login);
        sendJson(res, 200, { accessToken });
      }
    }
  }

  function loginPage(url, res) {
    const q = url.searchParams;
    const writeKey = q.get('writeKey');
    const login = writeKey ? logins.get(writeKey) : undefined;
    if (!login) {
      sendHtml(res, 404, 'Unknown login request', '<p>This login link is not valid. Start the login again.</p>');
      return;
    }
    login.opened.push({ at: Date.now(), query: Object.fromEntries(q) });
    if (q.get('clientId') !== BRIDGE_CLIENT_ID) {
      sendHtml(res, 400, 'Invalid login request', `<p>clientId must be <code>${BRIDGE_CLIENT_ID}</code>.</p>`);
      return;
    }
    if (q.has('scope')) login.scope = q.get('scope');
    const state = currentState(login);
    if (state === 'expired') {
      sendHtml(res, 410, 'Login request expired', '<p>This login link has expired. Start the login again.</p>');
      return;
    }
    if (state !== 'pending') {
      sendHtml(res, 409, 'Login already decided', `<p>This login was already ${escapeHtml(state)}.</p>`);
      return;
    }
    sendHtml(res, 200, 'Log in to the raptoken test server', `
<p>An application (<code>${escapeHtml(q.get('clientId'))}</code>) asks for access with scope
<code>${escapeHtml(q.get('scope') ?? '')}</code>. Approving creates an API client for it.</p>
<form method="post" action="/connect/authorize/external">
<input type="hidden" name="writeKey" value="${escapeHtml(writeKey)}">
<button name="decision" value="approve" type="submit">Approve</button>
<button name="decision" value="refuse" type="submit">Refuse</button>
</form>`);
  }

  // The page's form: a person at a browser approving or refusing (demos; tests use the admin API).
  async function loginDecision(req, res) {
    let form;
    try {
      form = new URLSearchParams((await readBody(req)).toString('utf8'));
    } catch {
      sendHtml(res, 400, 'Invalid request', '<p>Could not read the form.</p>');
      return;
    }
    const login = logins.get(form.get('writeKey') ?? '');
    const decision = form.get('decision');
    if (!login || (decision !== 'approve' && decision !== 'refuse')) {
      sendHtml(res, 400, 'Invalid request', '<p>Unknown login request or decision.</p>');
      return;
    }
    if (currentState(login) !== 'pending') {
      sendHtml(res, 409, 'Login already decided', `<p>This login is ${escapeHtml(login.state)}.</p>`);
      return;
    }
    decide(login, decision === 'approve', 'browser');
    sendHtml(res, 200, decision === 'approve' ? 'Login approved' : 'Login refused',
      '<p>You can close this window and return to the application.</p>');
  }

  async function createClient(req, res) {
    const challenge = { 'www-authenticate': 'Bearer error="invalid_token"' };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
    if (!m) {
      sendJson(res, 401, { error: 'invalid_token', error_description: 'a bearer token from the login bridge is required' },
        { 'www-authenticate': 'Bearer' });
      return;
    }
    const login = bridgeTokens.get(m[1]);
    const token = login && await provider.ClientCredentials.find(m[1]);
    if (!token || token.isExpired) {
      sendJson(res, 401, {
        error: 'invalid_token',
        error_description: 'the access token is not a login-bridge token of this server, has expired or was already used',
      }, challenge);
      return;
    }
    const body = await readJson(req, res);
    if (body === undefined) return;
    const displayName = typeof body.displayName === 'string' ? body.displayName.trim() : '';
    if (!displayName || displayName.length > 200) {
      sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'displayName is required: a non-empty string of at most 200 characters',
      });
      return;
    }
    // Good for one client: forget the token before anything else can use it.
    bridgeTokens.delete(m[1]);
    await token.destroy();
    const created = await registerClient({
      client_id: crypto.randomUUID(),
      client_secret: crypto.randomBytes(32).toString('base64url'),
    }, { displayName, origin: 'login' });
    login.createdClientId = created.client_id;
    login.displayName = displayName;
    sendJson(res, 200, { clientId: created.client_id, clientSecret: created.client_secret });
  }

  // Returns true when it answered the request.
  async function handle(req, res) {
    if (!enabled) return false;
    const url = new URL(req.url, 'https://localhost');
    const allow = (methods) => sendJson(res, 405, { error: 'method_not_allowed' }, { allow: methods });
    switch (url.pathname) {
      case '/identity/bridge-token':
        if (req.method === 'POST') await startLogin(url, res);
        else if (req.method === 'GET') await poll(url, res);
        else allow('GET, POST');
        return true;
      case '/connect/authorize/external':
        if (req.method === 'GET') loginPage(url, res);
        else if (req.method === 'POST') await loginDecision(req, res);
        else allow('GET, POST');
        return true;
      case '/Client':
        if (req.method === 'POST') await createClient(req, res);
        else allow('POST');
        return true;
      default:
        return false;
    }
  }

  // --- admin endpoints -----------------------------------------------------------------------

  // The login named by ?writeKey=, or the only pending one; answers the error itself.
  function targetLogin(q, res) {
    const writeKey = q.get('writeKey');
    if (writeKey) {
      const login = logins.get(writeKey);
      if (!login) sendJson(res, 404, { error: 'unknown writeKey' });
      return login;
    }
    const pending = [...logins.values()].filter((l) => currentState(l) === 'pending');
    if (pending.length === 1) return pending[0];
    sendJson(res, pending.length ? 409 : 404, {
      error: pending.length ? `${pending.length} logins are pending; name one with ?writeKey=` : 'no pending login',
    });
    return undefined;
  }

  function adminDecide(q, res, approve) {
    const login = targetLogin(q, res);
    if (!login) return;
    const state = currentState(login);
    if (state !== 'pending') {
      sendJson(res, state === 'expired' ? 410 : 409, { error: `the login is ${state}, not pending` });
      return;
    }
    decide(login, approve, 'admin');
    sendJson(res, 200, { ok: true, ...publicView(login) });
  }

  // Returns true when it answered the request.
  function admin(route, q, res) {
    switch (route) {
      case 'GET /logins': {
        if (q.has('writeKey')) {
          const login = logins.get(q.get('writeKey'));
          if (login) sendJson(res, 200, publicView(login));
          else sendJson(res, 404, { error: 'unknown writeKey' });
          return true;
        }
        sendJson(res, 200, { enabled, auto, logins: [...logins.values()].map(publicView) });
        return true;
      }
      case 'POST /login/approve':
        adminDecide(q, res, true);
        return true;
      case 'POST /login/refuse':
        adminDecide(q, res, false);
        return true;
      case 'POST /login/expire': {
        let expired = 0;
        const targets = q.has('writeKey') ? [logins.get(q.get('writeKey'))].filter(Boolean) : [...logins.values()];
        if (q.has('writeKey') && !targets.length) {
          sendJson(res, 404, { error: 'unknown writeKey' });
          return true;
        }
        for (const login of targets) {
          const state = currentState(login);
          if (state === 'pending' || state === 'approved') {
            login.expiresAt = Date.now();
            currentState(login);
            expired += 1;
          }
        }
        sendJson(res, 200, { ok: true, expired });
        return true;
      }
      case 'POST /login/auto': {
        const after = q.get('after');
        const action = q.get('action') ?? 'approve';
        if (after === 'off') {
          auto = null;
        } else if (/^\d{1,6}$/.test(after ?? '') && (action === 'approve' || action === 'refuse')) {
          auto = { after: Number(after), action };
        } else {
          sendJson(res, 400, { error: 'use ?after=N (0 … 999999, polls answered 202 first) [&action=approve|refuse], or ?after=off' });
          return true;
        }
        sendJson(res, 200, { ok: true, auto });
        return true;
      }
      case 'POST /bridge': {
        const value = q.get('enabled');
        if (value !== '0' && value !== '1' && value !== 'true' && value !== 'false') {
          sendJson(res, 400, { error: 'use ?enabled=1 or ?enabled=0' });
          return true;
        }
        enabled = value === '1' || value === 'true';
        sendJson(res, 200, { ok: true, enabled });
        return true;
      }
      default:
        return false;
    }
  }

  return {
    handle,
    admin,
    setEnabled(value) { enabled = value; },
    get enabled() { return enabled; },
  };
}

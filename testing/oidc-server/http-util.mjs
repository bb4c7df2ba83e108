// Small HTTP helpers shared by server.mjs and login-bridge.mjs.

export const BODY_LIMIT = 56 * 1024; // oidc-provider's own limit

export async function readBody(req, length) {
  const chunks = [];
  let received = 0;
  for await (const chunk of req) {
    received += chunk.length;
    if (received > BODY_LIMIT || (length !== undefined && received > length)) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

export function sendJson(res, status, body, headers = {}) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(res, status, headers = {}) {
  res.writeHead(status, { 'content-length': 0, 'cache-control': 'no-store', ...headers });
  res.end();
}

const HTML_ESCAPES = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
};
export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

// A minimal, self-contained page (no scripts, no external resources); `body` is trusted HTML.
export function sendHtml(res, status, title, body) {
  const text = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em}button{font-size:1.1em;margin-right:1em}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

// Reads a small JSON request body; answers 415/400 itself and returns undefined on failure.
export async function readJson(req, res) {
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] || '')) {
    sendJson(res, 415, { error: 'invalid_request', error_description: 'the body must be application/json' });
    return undefined;
  }
  let body;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch (err) {
    sendJson(res, 400, { error: 'invalid_request', error_description: `the body is not valid JSON: ${err.message}` });
    return undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'the body must be a JSON object' });
    return undefined;
  }
  return body;
}

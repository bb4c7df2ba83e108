#!/usr/bin/env node
// An HTTPS front with an RSA certificate for the test server's API, for Mono only.
//
//   node rsa-front.mjs CERT.pem KEY.pem UPSTREAM_ORIGIN UPSTREAM_CA.pem
//
// Why: the test server's certificates are ECDSA, and Mono's managed X509Chain cannot verify
// ECDSA signatures ("Cannot decode public key from unknown OID 1.2.840.10045.2.1"), so a
// HttpClient on Mono cannot check a private-CA ECDSA chain itself. libraptoken (rustls) talks
// to the test server directly; only the C# HttpClient calls go through this front, which
// forwards every request unchanged (Authorization included) and relays the answer.
// Prints the listening port on stdout; exits when stdin closes.
import fs from 'node:fs';
import https from 'node:https';

const [certFile, keyFile, upstream, upstreamCa] = process.argv.slice(2);
const ca = fs.readFileSync(upstreamCa);
const agent = new https.Agent({ keepAlive: true, ca });

const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => {
  const url = new URL(req.url, upstream);
  const headers = { ...req.headers, host: url.host };
  const up = https.request(url, { method: req.method, headers, agent }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  up.on('error', (err) => {
    process.stderr.write(`rsa-front: ${err.message}\n`);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 300_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

// An Azure Key Vault test server on 127.0.0.1 for keycred's vault-held keys, as keycred's design notes ("Key Vault
// and PKCS#11") and Microsoft's Key Vault REST reference describe it, strict where Key Vault is strict.
//
// - Every call needs api-version 7.4 or later (else 400 BadParameter) and a bearer token the test OAuth server
//   issued (JWKS_URL) for the vault's resource: RS256, iss https://sts.windows.net/{tenant}/, aud
//   https://vault.azure.net. Without one: 401 with WWW-Authenticate: Bearer authorization="{OIDC}/{tenant}",
//   resource="https://vault.azure.net", as Key Vault challenges; with one for another resource: 401 AKV10022.
// - POST /certificates/{name}/create {policy}: RSA (2048 bits or more; else 400 BadParameter) or EC (P-256, P-384,
//   P-521), exportable or not,
//   subject, validity_months, issuer Self or Unknown, and the certificate's tags (strings; kept on the version and
//   given back with it). Answers 202 with the pending operation; GET
//   /certificates/{name}/pending says inProgress until PENDING_MS have passed, then completed (issuer Self: the
//   certificate is made, self-signed by its key, with OpenSSL). Issuer Unknown stays inProgress with the CSR until
//   POST /certificates/{name}/pending/merge {x5c} brings a certificate for the key.
// - GET /certificates (each certificate's current x5t, attributes and tags), /certificates/{name}[/{version}] (cer,
//   kid, sid, x5t, attributes, tags), /certificates/{name}/versions; lists in pages of PAGE_SIZE (2) with a
//   nextLink carrying api-version and $skiptoken,
//   /secrets/{name}[/{version}] (exportable: a PKCS#12 of key and certificate; else the certificate alone, no key).
// - POST /keys/{name}/{version}/sign {alg: RS256|PS256, value: base64url SHA-256 digest}: the signature, made with
//   the version's key (a disabled version: 403; a digest that is not 32 bytes: 400).
// - Errors as Key Vault writes them: {"error": {"code", "message", "innererror"}}.
// - Test controls: GET /_test/log (every call: method, path, status, and for a sign the key that signed),
//   POST /_test/renew {name} (a new version with a new key and the certificate's tags, as the vault's AutoRenew
//   makes),
//   /_test/disable {name, version}, /_test/faults {queue: [{status, code, retryAfter}]} (answers the next calls),
//   GET /_test/keys (whether any private key left the vault: each version's exportable flag).
//
// Usage: node vault.mjs JWKS_URL TENANT OIDC_URL   (prints "listening PORT").
import { createHash, createPublicKey, generateKeyPairSync, privateEncrypt, randomBytes, constants, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, tenant, oidcUrl] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUrl));
const RESOURCE = 'https://vault.azure.net';
const PENDING_MS = Number(process.env.PENDING_MS ?? 200);
// Items per page of a list (Key Vault's default is 25; the tests make it small to follow nextLink).
const PAGE_SIZE = Number(process.env.PAGE_SIZE ?? 2);
let origin = '';
const certificates = new Map(); // name -> {versions: [version], pending}
const log = [];
let faults = [];

class VaultError extends Error {
  constructor(status, code, message, inner) {
    super(message);
    this.status = status;
    this.code = code;
    this.inner = inner;
  }
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const versionId = () => randomBytes(16).toString('hex');
const unix = (date) => Math.floor(date.getTime() / 1000);

// "CN=App, O=Contoso" as OpenSSL's -subj wants it.
function opensslSubject(subject) {
  if (!/^\s*[A-Za-z.0-9]+=/.test(subject ?? '')) throw new VaultError(400, 'BadParameter', 'Property x509_props.subject has invalid value.');
  return '/' + subject.split(/\s*,\s*/).map((p) => p.replace(/\//g, '\\/')).join('/');
}

function openssl(args, key) {
  const dir = mkdtempSync(join(tmpdir(), 'vault-'));
  try {
    const keyPath = join(dir, 'key.pem');
    writeFileSync(keyPath, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const run = spawnSync('openssl', [...args, '-key', keyPath, '-outform', 'DER'], { maxBuffer: 1 << 20 });
    if (run.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${run.stderr}`);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function selfSigned(key, policy) {
  const x509 = policy.x509_props ?? {};
  const days = Math.round((x509.validity_months ?? 12) * 30.4);
  return openssl(['req', '-x509', '-new', '-subj', opensslSubject(x509.subject), '-days', String(days), '-sha256',
    '-set_serial', `0x${randomBytes(16).toString('hex')}`,
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
    '-addext', 'basicConstraints=critical,CA:FALSE'], key);
}

function checkPolicy(policy) {
  const key = policy?.key_props ?? {};
  const kty = key.kty ?? 'RSA';
  if (kty === 'EC' || kty === 'EC-HSM') {
    if (!['P-256', 'P-384', 'P-521'].includes(key.crv ?? 'P-256')) {
      throw new VaultError(400, 'BadParameter', `Property key_props.crv has invalid value ${key.crv}.`);
    }
  } else if (kty !== 'RSA' && kty !== 'RSA-HSM') {
    throw new VaultError(400, 'BadParameter', `Property key_props.kty has invalid value ${kty}.`);
  } else if ((key.key_size ?? 2048) < 2048) {
    throw new VaultError(400, 'BadParameter', `Property key_props.key_size has invalid value ${key.key_size}: RSA keys are 2048, 3072 or 4096 bits.`);
  }
  const issuer = policy?.issuer?.name ?? 'Self';
  if (issuer !== 'Self' && issuer !== 'Unknown') {
    throw new VaultError(400, 'BadParameter', `Issuer ${issuer} is not known to this vault.`);
  }
  opensslSubject(policy?.x509_props?.subject);
}

function bundle(name, v) {
  const cert = new X509Certificate(v.cer);
  return {
    id: `${origin}/certificates/${name}/${v.version}`,
    kid: `${origin}/keys/${name}/${v.version}`,
    sid: `${origin}/secrets/${name}/${v.version}`,
    x5t: b64url(createHash('sha1').update(v.cer).digest()),
    cer: v.cer.toString('base64'),
    attributes: {
      enabled: v.enabled, nbf: unix(new Date(cert.validFrom)), exp: unix(new Date(cert.validTo)),
      created: v.created, updated: v.created, recoveryLevel: 'Recoverable+Purgeable',
    },
    policy: { id: `${origin}/certificates/${name}/policy`, ...v.policy },
    ...(v.tags ? { tags: v.tags } : {}),
  };
}

function operation(name, op) {
  return {
    id: `${origin}/certificates/${name}/pending`,
    issuer: { name: op.issuer },
    csr: op.csr.toString('base64'),
    cancellation_requested: false,
    status: op.status,
    status_details: op.status === 'completed' ? undefined : 'Pending certificate created. Certificate request is in progress.',
    ...(op.status === 'completed' ? { target: `${origin}/certificates/${name}` } : {}),
    request_id: op.requestId,
  };
}

function entry(name) {
  const found = certificates.get(name);
  if (!found) {
    throw new VaultError(404, 'CertificateNotFound', `A certificate with (name/id) ${name} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command.`);
  }
  return found;
}

function versionOf(name, version) {
  const found = entry(name);
  const v = version ? found.versions.find((x) => x.version === version) : found.versions.at(-1);
  if (!v) throw new VaultError(404, 'CertificateNotFound', `A certificate with (name/id) ${name}/${version} was not found in this key vault.`);
  return v;
}

// Completes a Self-issued pending operation once its time has come.
function settle(name) {
  const found = certificates.get(name);
  const op = found?.pending;
  if (!op || op.status !== 'inProgress' || op.issuer !== 'Self' || Date.now() < op.readyAt) return;
  found.versions.push({ version: op.version, key: op.key, cer: selfSigned(op.key, op.policy), policy: op.policy,
    exportable: op.exportable, enabled: true, created: unix(new Date()), tags: op.tags });
  op.status = 'completed';
}

function create(name, body) {
  checkPolicy(body?.policy);
  const policy = body.policy;
  const found = certificates.get(name) ?? { versions: [] };
  certificates.set(name, found);
  if (found.pending?.status === 'inProgress') {
    throw new VaultError(409, 'Conflict', `There is a pending operation for certificate ${name}.`);
  }
  const keyProps = policy.key_props ?? {};
  const reuse = keyProps.reuse_key && found.versions.length;
  const curves = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
  const ec = (keyProps.kty ?? 'RSA').startsWith('EC');
  const { privateKey } = reuse ? { privateKey: found.versions.at(-1).key }
    : ec ? generateKeyPairSync('ec', { namedCurve: curves[keyProps.crv ?? 'P-256'] })
      : generateKeyPairSync('rsa', { modulusLength: keyProps.key_size ?? 2048 });
  const issuer = policy.issuer?.name ?? 'Self';
  const tags = body.tags;
  if (tags !== undefined && (typeof tags !== 'object' || Array.isArray(tags) || tags === null
    || Object.values(tags).some((t) => typeof t !== 'string'))) {
    throw new VaultError(400, 'BadParameter', 'Property tags has invalid value: an object of strings is expected.');
  }
  found.pending = {
    issuer, key: privateKey, policy, version: versionId(), exportable: keyProps.exportable !== false, tags,
    csr: openssl(['req', '-new', '-subj', opensslSubject(policy.x509_props?.subject), '-sha256',
      '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=clientAuth'], privateKey),
    status: 'inProgress', readyAt: Date.now() + PENDING_MS, requestId: versionId(),
  };
  return [202, operation(name, found.pending), { location: `${origin}/certificates/${name}/pending?api-version=7.4` }];
}

function merge(name, body) {
  const found = entry(name);
  const op = found.pending;
  if (!op || op.status !== 'inProgress' || op.issuer !== 'Unknown') {
    throw new VaultError(400, 'BadParameter', `Pending certificate not found: ${name}`);
  }
  const x5c = body?.x5c;
  if (!Array.isArray(x5c) || !x5c.length) throw new VaultError(400, 'BadParameter', 'Property x5c is required.');
  const leaf = Buffer.from(String(x5c[0]), 'base64');
  let cert;
  try {
    cert = new X509Certificate(leaf);
  } catch {
    throw new VaultError(400, 'BadParameter', 'Property x5c has invalid value: not a certificate.');
  }
  const spki = (key) => key.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(op.key)).equals(spki(cert.publicKey))) {
    throw new VaultError(400, 'BadParameter', 'Public key from x5c property does not match the public key of the pending certificate request.');
  }
  found.versions.push({ version: op.version, key: op.key, cer: leaf, policy: op.policy, exportable: op.exportable,
    enabled: true, created: unix(new Date()), tags: op.tags });
  op.status = 'completed';
  return [201, bundle(name, found.versions.at(-1))];
}

// MGF1 with SHA-256.
function mgf1(seed, length) {
  const out = [];
  for (let counter = 0; Buffer.concat(out).length < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(Buffer.concat([seed, c])).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

// A signature of a SHA-256 digest, as Key Vault's keys/sign makes it: RS256 (PKCS#1 v1.5) or PS256 (PSS, MGF1
// SHA-256, a 32-byte salt).
function signDigest(key, alg, digest) {
  const bits = key.asymmetricKeyDetails.modulusLength;
  const k = Math.ceil(bits / 8);
  if (alg === 'RS256') {
    const info = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]);
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, info);
  }
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(32);
  const h = createHash('sha256').update(Buffer.concat([Buffer.alloc(8), digest, salt])).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 32 - 32 - 2), Buffer.from([1]), salt]);
  const masked = mgf1(h, emLen - 33).map((m, i) => m ^ db[i]);
  masked[0] &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([Buffer.alloc(k - emLen), masked, h, Buffer.from([0xbc])]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
}

function sign(name, version, body, entryLog) {
  const v = versionOf(name, version);
  if (!v.enabled) {
    throw new VaultError(403, 'Forbidden', `Operation sign is not allowed on a disabled key: ${name}/${version}.`, { code: 'KeyDisabled' });
  }
  if (body?.alg !== 'RS256' && body?.alg !== 'PS256') {
    throw new VaultError(400, 'BadParameter', `Invalid algorithm: ${body?.alg}. The key ${name} signs RS256 and PS256 here.`);
  }
  if (v.key.asymmetricKeyType !== 'rsa') {
    throw new VaultError(400, 'BadParameter', `Key and signing algorithm are incompatible: ${body.alg} with a ${v.key.asymmetricKeyType} key.`);
  }
  const digest = Buffer.from(String(body.value ?? ''), 'base64url');
  if (digest.length !== 32) {
    throw new VaultError(400, 'BadParameter', `The digest length ${digest.length} is invalid for ${body.alg}: a SHA-256 digest has 32 bytes.`);
  }
  entryLog.signedBy = `${name}/${v.version}`;
  entryLog.alg = body.alg;
  return [200, { kid: `${origin}/keys/${name}/${v.version}`, value: b64url(signDigest(v.key, body.alg, digest)) }];
}

function secret(name, version) {
  const v = versionOf(name, version);
  const certPem = new X509Certificate(v.cer).toString();
  let value;
  if (v.exportable) {
    const keyPem = v.key.export({ type: 'pkcs8', format: 'pem' });
    value = keyPem + certPem;
  } else {
    value = certPem;
  }
  return [200, {
    value, contentType: 'application/x-pem-file', id: `${origin}/secrets/${name}/${v.version}`,
    kid: `${origin}/keys/${name}/${v.version}`, managed: true, attributes: { enabled: v.enabled },
  }];
}

async function caller(req) {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (!match) throw new VaultError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
  try {
    const { payload } = await jwtVerify(match[1], jwks, { issuer: `https://sts.windows.net/${tenant}/`, algorithms: ['RS256'] });
    if (payload.aud !== RESOURCE && payload.aud !== `${RESOURCE}/`) {
      throw new VaultError(401, 'Unauthorized', `AKV10022: Invalid audience. Expected ${RESOURCE}, found: ${payload.aud}.`);
    }
    return payload.appid;
  } catch (e) {
    if (e instanceof VaultError) throw e;
    throw new VaultError(401, 'Unauthorized', `AKV10032: Invalid issuer or signature. ${e.code ?? ''}`.trim());
  }
}

async function route(req, url, body, entryLog) {
  const version = url.searchParams.get('api-version');
  if (!version || !/^\d+\.\d+/.test(version) || Number(version.split('-')[0]) < 7.4) {
    throw new VaultError(400, 'BadParameter', `The specified version (${version ?? 'none'}) is not recognized. Consider using the latest supported version (7.4).`);
  }
  entryLog.appId = await caller(req);
  const p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const name = p[1];
  if (name !== undefined && !/^[A-Za-z0-9-]{1,127}$/.test(name)) {
    throw new VaultError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
  }
  if (p[0] === 'certificates' && req.method === 'POST' && p[2] === 'create' && p.length === 3) return create(name, body);
  if (p[0] === 'certificates' && p[2] === 'pending') {
    if (req.method === 'POST' && p[3] === 'merge') return merge(name, body);
    settle(name);
    const op = entry(name).pending;
    if (!op) throw new VaultError(404, 'PendingCertificateNotFound', `Pending certificate not found: ${name}`);
    return [200, operation(name, op)];
  }
  if (p[0] === 'certificates' && req.method === 'GET' && p[2] === 'versions') {
    settle(name);
    const items = entry(name).versions.map((v) => { const b = bundle(name, v); return { id: b.id, x5t: b.x5t, attributes: b.attributes }; });
    return [200, page(url, items)];
  }
  if (p[0] === 'certificates' && req.method === 'GET' && p.length === 1) {
    // The vault's certificates: each with its current version's x5t, attributes and tags.
    const items = [...certificates].filter(([, c]) => c.versions.length).map(([n, c]) => {
      const b = bundle(n, c.versions.at(-1));
      return { id: `${origin}/certificates/${n}`, x5t: b.x5t, attributes: b.attributes, ...(b.tags ? { tags: b.tags } : {}) };
    });
    return [200, page(url, items)];
  }
  if (p[0] === 'certificates' && req.method === 'GET' && p.length <= 3) {
    settle(name);
    return [200, bundle(name, versionOf(name, p[2]))];
  }
  if (p[0] === 'secrets' && req.method === 'GET' && p.length <= 3) return secret(name, p[2]);
  if (p[0] === 'keys' && req.method === 'POST' && p[3] === 'sign' && p.length === 4) return sign(name, p[2], body, entryLog);
  throw new VaultError(400, 'BadParameter', `Method ${req.method} ${url.pathname} is not supported here.`);
}

// One page of a list, as Key Vault pages: maxresults items (25 unless asked), and a nextLink that carries its
// own api-version and $skiptoken.
function page(url, items) {
  const size = Math.min(Number(url.searchParams.get('maxresults') ?? PAGE_SIZE), 25);
  const from = Number(url.searchParams.get('$skiptoken') ?? 0);
  const next = from + size < items.length
    ? `${origin}${url.pathname}?api-version=7.4&$skiptoken=${from + size}&maxresults=${size}` : null;
  return { value: items.slice(from, from + size), nextLink: next };
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new VaultError(400, 'BadParameter', 'The request body is not JSON.');
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, origin);
  if (url.pathname.startsWith('/_test/')) {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    if (url.pathname === '/_test/log') return send(res, 200, log);
    if (url.pathname === '/_test/keys') {
      return send(res, 200, [...certificates].flatMap(([name, c]) => c.versions.map((v) => ({ name, version: v.version, exportable: v.exportable, enabled: v.enabled }))));
    }
    if (url.pathname === '/_test/faults') {
      faults = body?.queue ?? [];
      return send(res, 204);
    }
    if (url.pathname === '/_test/renew') {
      const found = entry(body.name);
      const last = found.versions.at(-1);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: last.key.asymmetricKeyDetails.modulusLength });
      found.versions.push({ version: versionId(), key: privateKey, cer: selfSigned(privateKey, last.policy), policy: last.policy,
        exportable: last.exportable, enabled: true, created: unix(new Date()), tags: last.tags });
      return send(res, 200, bundle(body.name, found.versions.at(-1)));
    }
    if (url.pathname === '/_test/disable') {
      versionOf(body.name, body.version).enabled = false;
      return send(res, 204);
    }
    return send(res, 404, { error: { code: 'NotFound', message: 'no such test control' } });
  }
  const entryLog = { method: req.method, path: req.url, time: Date.now() };
  log.push(entryLog);
  try {
    const fault = faults.shift();
    if (fault) {
      entryLog.status = fault.status;
      const headers = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      return send(res, fault.status, { error: { code: fault.code ?? 'Throttled', message: fault.message ?? 'Too many requests.' } }, headers);
    }
    const body = await readBody(req);
    const [status, out, headers] = await route(req, url, body, entryLog);
    entryLog.status = status;
    send(res, status, out, headers);
  } catch (e) {
    const status = e instanceof VaultError ? e.status : 500;
    entryLog.status = status;
    const headers = status === 401
      ? { 'www-authenticate': `Bearer authorization="${oidcUrl}/${tenant}", resource="${RESOURCE}"` }
      : {};
    send(res, status, {
      error: { code: e.code ?? 'InternalServerError', message: e.message, ...(e.inner ? { innererror: e.inner } : {}) },
    }, headers);
  }
});

server.listen(0, '127.0.0.1', () => {
  origin = `http://127.0.0.1:${server.address().port}`;
  console.log(`listening ${server.address().port}`);
});

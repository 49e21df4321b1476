// A Microsoft Graph test server on 127.0.0.1 for keycred's Graph tests: the application endpoints keycred uses,
// as keycred's design notes ("Microsoft Graph") and Microsoft's Graph v1.0 documentation describe them, strict
// where Graph is strict.
//
// - Bearer tokens are verified against the test OAuth server's signing keys (JWKS_URL): RS256 signature, iss
//   https://sts.windows.net/{tenant}/, aud this server's own URL, exp. Reading needs Application.Read.All or
//   Application.ReadWrite.All (or .OwnedBy for the apps the caller owns); writing needs ReadWrite.All (or
//   .OwnedBy); otherwise 403 Authorization_RequestDenied. addKey/removeKey need no permission for the caller's own
//   application (appid = its appId), as Graph allows an app to roll its own keys.
// - GET /v1.0/applications: $select, $top (default 100, at most 999), $filter (appId eq '…'; anything else needs
//   ConsistencyLevel: eventual and $count=true, on every page), pages linked by @odata.nextLink with an opaque
//   $skiptoken; keyCredentials[].key is always null in a list.
// - GET /v1.0/applications/{id} and /v1.0/applications(appId='{appId}'): key returned only when $select names
//   keyCredentials.
// - PATCH /v1.0/applications/{id} {"keyCredentials": […]} replaces the whole collection: an entry with a known
//   keyId and key null keeps that credential; a new entry must carry its certificate; anything left out is deleted.
// - POST …/addKey and …/removeKey with a proof: a JWT signed RS256 by a certificate the app holds and that is valid
//   now (found by x5t), aud 00000002-0000-0000-c000-000000000000, iss the object id, exp - nbf at most 10 minutes,
//   no '=' padding; otherwise 401 Authentication_MissingOrMalformed.
// - App management policies (DESIGN.md "Tenant rules"): GET /v1.0|beta/policies/defaultAppManagementPolicy,
//   /policies/appManagementPolicies (and each one's /appliesTo) and /applications/{id}/appManagementPolicies, readable with Policy.Read.All (else 403); v1.0 shows a
//   trustedCertificateAuthority restriction as unknownFutureValue without its fields, as Graph's evolvable enums
//   do. Every credential written (PATCH, addKey) is checked against the app's effective rule: the assigned policy,
//   else the default; a restriction binds when enabled and the app was created after its cut-off. A certificate
//   (or a credential's start-to-end) longer than asymmetricKeyLifetime's maxLifetime is refused with 400
//   CredentialInvalidLifetimeAsPerAppPolicy and its details. Under a trustedCertificateAuthority restriction, a
//   certificate that does not chain (by signature) to a root its configurations list, through the intermediates
//   they list, is refused (400; Graph's code for this is not documented: Request_BadRequest naming the policy).
//   GET /beta/directory/certificateAuthorities/certificateBasedApplicationConfigurations/{id}/
//   trustedCertificateAuthorities lists a configuration's CAs (AppCertTrustConfiguration.Read.All).
// - An application holds at most 1,000 items across its collections (Directory_ResourceSizeExceeded); a Sign or
//   X509CertAndPassword credential cannot be sent back by keyId in a PATCH.
// - Credential usage (DESIGN.md "Credential usage"), from the sign-ins the OAuth test server recorded (OIDC_URL,
//   /_test/signins: the x5t of each client assertion's certificate): GET /beta/reports/appCredentialSignInActivities
//   ($filter=appId eq '…' or keyId eq '…'; the last sign-in per credential) and GET /beta/auditLogs/signIns
//   ($filter=signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq '…' [and createdDateTime ge T]),
//   both with AuditLog.Read.All. Sign-ins younger than the lag (POST /_test/usage {"lagSeconds"}) are not in
//   them yet; {"licensed": false} answers 403 as a tenant without Entra ID P1/P2 does.
// - Graph's request budget (graph-budget.mjs): reads of keys, writes and resource units, each a sliding window;
//   past one, 429 with Retry-After; each logged request carries its cost.
// - GET /v1.0/applications/delta (graph-delta.mjs): every app, then only what changed, with @removed; expired
//   tokens answer 410 syncStateNotFound.
// - GET /v1.0/applications/{id}/owners and /federatedIdentityCredentials (graph-relations.mjs): one page each.
// - GET /v1.0/servicePrincipals ($select, $top, paging): the seed's "servicePrincipals" as given, then one per
//   app.
// - POST /v1.0/$batch: up to 20 GET requests, each answered (status, headers, body) and logged as on its own.
// - Errors as Graph writes them: {"error": {"code", "message", "innerError": {"date", "request-id",
//   "client-request-id"}}}.
// - Test controls under /_test: GET /_test/apps (the tenant as it is now, certificates included), GET /_test/log
//   (every request: method, path, status, time, client-request-id, body), POST /_test/faults (answer the next
//   requests with {status, code, retryAfter} entries in turn, an entry with "method" only a request of that
//   method, one with "pathContains" only a request whose decoded path and query contain it; "every": N answers one request in N with the first;
//   {"pass": true} lets one request through, {"touch": OBJECT_ID} changes that app's credentials, as another
//   admin would, before answering one); POST /_test/delta {"expire": true} expires every delta token, /_test/remove
//   {"id"} deletes an app, /_test/rename {"id", "displayName"} renames one.
//
// Usage: node graph.mjs JWKS_URL TENANT SEED.json   (prints "listening PORT"). SEED is the apps, or
// {"apps": [...], "defaultPolicy": {...}, "policies": [...], "caConfigurations": [{id, trustedCertificateAuthorities:
// [{certificate, isRootAuthority}]}]}; an app names its assigned policy by "policy" (an id)
// and has a "createdDateTime" (default 2024-01-01).
import { createHash, createPublicKey, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, compactVerify } from 'jose';
import { costOf, spend } from './graph-budget.mjs';
import { changed, delta, expireTokens, removedApp } from './graph-delta.mjs';
import { navigation } from './graph-relations.mjs';

const [jwksUrl, tenant, seedPath] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUrl));
const PROOF_AUDIENCE = '00000002-0000-0000-c000-000000000000';
const seed = JSON.parse(readFileSync(seedPath, 'utf8'));
const apps = (Array.isArray(seed) ? seed : seed.apps).map(normalizeApp);
// The tenant default app management policy (Graph's own when the seed has none: enabled, nothing restricted) and
// the policies assigned to apps.
const defaultPolicy = seed.defaultPolicy ?? {
  id: '00000000-0000-0000-0000-000000000000',
  displayName: 'Default app management tenant policy',
  description: 'Default tenant policy that enforces app management restrictions on applications and service principals.',
  isEnabled: false,
  applicationRestrictions: { passwordCredentials: [], keyCredentials: [] },
  servicePrincipalRestrictions: { passwordCredentials: [], keyCredentials: [] },
};
const policies = seed.policies ?? [];
const caConfigurations = seed.caConfigurations ?? [];
const log = [];
let faults = { queue: [], every: 0, count: 0 };
let usage = { lagSeconds: 0, licensed: true };
let origin = '';

function normalizeApp(app) {
  return {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName ?? null,
    createdDateTime: app.createdDateTime ?? '2024-01-01T00:00:00Z',
    // The id of the app management policy assigned to it, if any.
    policy: app.policy ?? null,
    owners: app.owners ?? [],
    federatedIdentityCredentials: app.federatedIdentityCredentials ?? [],
    // Whether the app may read its own registration (Graph allows it only with a permission in some tenants).
    selfRead: app.selfRead ?? true,
    // Its service principal in this tenant (none when false), and the app roles it was granted (admin consent):
    // [{resourceAppId, appRoleId}].
    servicePrincipal: app.servicePrincipal ?? true,
    assignments: app.assignments ?? [],
    keyCredentials: (app.keyCredentials ?? []).map((k) => credentialFromKey(k.key, k)),
    passwordCredentials: app.passwordCredentials ?? [],
    extra: app.extra ?? {},
  };
}

// A stored credential: Graph's fields, with the certificate's DER kept server-side.
function credentialFromKey(key, given = {}) {
  const der = Buffer.from(key, 'base64');
  const cert = new X509Certificate(der);
  const sha1 = createHash('sha1').update(der).digest();
  return {
    // A seed may give the identifier as another tool wrote it (or null: none), and an end date of null, as Graph
    // sometimes shows.
    customKeyIdentifier: 'customKeyIdentifier' in given ? given.customKeyIdentifier : sha1.toString('base64'),
    displayName: given.displayName ?? cert.subject.split('\n').map((p) => p.trim()).join(', '),
    endDateTime: given.endDateTime === null ? null : (given.endDateTime ?? new Date(cert.validTo).toISOString().replace(/\.\d{3}Z$/, 'Z')),
    key,
    keyId: given.keyId ?? randomUUID(),
    startDateTime: given.startDateTime ?? new Date(cert.validFrom).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    // A seeded SAML-style signing key keeps its usage; everything added through the API is Verify (checked there).
    type: given.type ?? 'AsymmetricX509Cert',
    usage: given.usage ?? 'Verify',
    // Private key material stored in the directory, as Graph flags it (only when seeded).
    hasExtendedValue: given.hasExtendedValue,
    x5t: sha1.toString('base64url'),
    cert,
  };
}

const wire = (k, withKey) => ({
  customKeyIdentifier: k.customKeyIdentifier,
  displayName: k.displayName,
  endDateTime: k.endDateTime,
  key: withKey ? k.key : null,
  keyId: k.keyId,
  startDateTime: k.startDateTime,
  type: k.type,
  usage: k.usage,
  ...(k.hasExtendedValue === undefined ? {} : { hasExtendedValue: k.hasExtendedValue }),
});

const appWire = (app, select, withKey) => {
  const full = {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    createdDateTime: app.createdDateTime,
    keyCredentials: app.keyCredentials.map((k) => wire(k, withKey)),
    passwordCredentials: app.passwordCredentials,
    ...app.extra,
  };
  if (!select) return full;
  return Object.fromEntries(select.filter((f) => f in full).map((f) => [f, full[f]]));
};

class GraphError extends Error {
  constructor(status, code, message, headers = {}, details = undefined) {
    super(message);
    Object.assign(this, { status, code, headers, details });
  }
}

// An ISO 8601 duration in milliseconds (a year 365 days, a month 30), or NaN.
function isoMillis(text) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text ?? '');
  if (!m || text === 'P' || text.endsWith('T')) return NaN;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0));
  return ((((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s) * 1000;
}

// The restriction of `type` that binds the app: from its assigned policy, else the default; enabled; the app
// created after the cut-off.
function binding(app, type) {
  const assigned = app.policy ? policies.find((p) => p.id === app.policy) : null;
  const policy = assigned ?? defaultPolicy;
  if (!policy || policy.isEnabled === false) return null;
  const restrictions = assigned ? policy.restrictions : policy.applicationRestrictions;
  const rule = (restrictions?.keyCredentials ?? []).find((r) => r.restrictionType === type && (r.state ?? 'enabled') === 'enabled');
  if (!rule) return null;
  const cutoff = rule.restrictForAppsCreatedAfterDateTime;
  if (cutoff && Date.parse(app.createdDateTime) <= Date.parse(cutoff)) return null;
  return { policy, rule };
}

// Refuses a credential that lives longer than the app's lifetime rule allows, as Graph does.
function checkLifetime(app, made) {
  const bound = binding(app, 'asymmetricKeyLifetime');
  if (!bound) return;
  const max = isoMillis(bound.rule.maxLifetime);
  const certificate = Date.parse(made.cert.validTo) - Date.parse(made.cert.validFrom);
  const credential = Date.parse(made.endDateTime) - Date.parse(made.startDateTime);
  if (certificate > max || credential > max) {
    throw new GraphError(400, 'CredentialInvalidLifetimeAsPerAppPolicy',
      `Credential lifetime exceeds the max value allowed as per assigned policy '${bound.policy.id}'.`, {},
      [{ code: 'InvalidKeyEndDate', message: `Key credential end date exceeds the max value allowed as per assigned policy '${bound.policy.id}'.`, target: 'EndDate' }]);
  }
}

// Graph's limit on the items across an application's collections.
const ITEM_LIMIT = 1000;

// Refuses a write after which the app would hold more items than Graph allows.
function checkSize(app, keyCredentials) {
  const others = app.passwordCredentials.length + Object.values(app.extra).filter(Array.isArray).reduce((n, a) => n + a.length, 0);
  if (keyCredentials + others > ITEM_LIMIT) {
    throw new GraphError(400, 'Directory_ResourceSizeExceeded',
      'The size of the object has exceeded its limit. Please reduce the number of values and retry your request.');
  }
}

// Refuses a certificate that does not chain to a CA the app's trusted-CA rule lists.
function checkTrustedCa(app, made) {
  const bound = binding(app, 'trustedCertificateAuthority');
  if (!bound) return;
  const listed = (bound.rule.certificateBasedApplicationConfigurationIds ?? [])
    .flatMap((id) => caConfigurations.find((c) => c.id === id)?.trustedCertificateAuthorities ?? [])
    .map((a) => ({ cert: new X509Certificate(Buffer.from(a.certificate, 'base64')), root: a.isRootAuthority === true }));
  const issuedBy = (child, ca) => child.checkIssued(ca) && child.verify(ca.publicKey);
  let current = made.cert;
  for (let depth = 0; depth < 8; depth += 1) {
    if (listed.some((a) => a.root && issuedBy(current, a.cert))) return;
    const next = listed.find((a) => !a.root && a.cert.raw.compare(current.raw) !== 0 && issuedBy(current, a.cert));
    if (!next) break;
    current = next.cert;
  }
  throw new GraphError(400, 'Request_BadRequest',
    `The certificate is not issued by a trusted certificate authority as per assigned policy '${bound.policy.id}'.`);
}

function trustedAuthorities(req, path, who) {
  if (req.method !== 'GET') throw new GraphError(405, 'Request_BadRequest', 'Only GET is served here.');
  if (!who.roles.includes('AppCertTrustConfiguration.Read.All')) throw denied();
  const id = /^\/beta\/directory\/certificateAuthorities\/certificateBasedApplicationConfigurations\/([^/]+)\/trustedCertificateAuthorities$/.exec(path)[1];
  const config = caConfigurations.find((c) => c.id === id);
  if (!config) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
  return [200, { value: config.trustedCertificateAuthorities.map((a, i) => ({ id: `${id}-${i}`, ...a })) }];
}

// A policy as a version shows it: v1.0 has no trustedCertificateAuthority restriction type.
function versioned(policy, version) {
  if (version === 'beta') return policy;
  const copy = JSON.parse(JSON.stringify(policy));
  for (const restrictions of [copy.restrictions, copy.applicationRestrictions]) {
    for (const r of restrictions?.keyCredentials ?? []) {
      if (r.restrictionType === 'trustedCertificateAuthority') {
        r.restrictionType = 'unknownFutureValue';
        delete r.certificateBasedApplicationConfigurationIds;
      }
    }
  }
  return copy;
}

function policyRoute(req, path, who) {
  if (req.method !== 'GET') throw new GraphError(405, 'Request_BadRequest', 'Only GET is served here.');
  if (!who.roles.includes('Policy.Read.All')) throw denied();
  let m = /^\/(v1\.0|beta)\/policies\/defaultAppManagementPolicy$/.exec(path);
  if (m) return [200, { '@odata.context': `${origin}/${m[1]}/$metadata#policies/defaultAppManagementPolicy/$entity`, ...versioned(defaultPolicy, m[1]) }];
  m = /^\/(v1\.0|beta)\/policies\/appManagementPolicies$/.exec(path);
  if (m) return [200, { '@odata.context': `${origin}/${m[1]}/$metadata#policies/appManagementPolicies`, value: policies.map((p) => versioned(p, m[1])) }];
  m = /^\/(v1\.0|beta)\/policies\/appManagementPolicies\/([^/]+)\/appliesTo$/.exec(path);
  if (m) {
    if (!policies.some((p) => p.id === m[2])) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${m[2]}' does not exist or one of its queried reference-property objects are not present.`);
    return [200, { value: apps.filter((a) => a.policy === m[2]).map((a) => ({ '@odata.type': '#microsoft.graph.application', id: a.id })) }];
  }
  m = /^\/(v1\.0|beta)\/applications\/([^/]+)\/appManagementPolicies$/.exec(path);
  const app = findApp(m[2]);
  const policy = app.policy ? policies.find((p) => p.id === app.policy) : null;
  return [200, { '@odata.context': `${origin}/${m[1]}/$metadata#appManagementPolicies`, value: policy ? [versioned(policy, m[1])] : [] }];
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

async function caller(req) {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  try {
    const { payload } = await jwtVerify(match[1], jwks, {
      issuer: `https://sts.windows.net/${tenant}/`,
      audience: origin,
      algorithms: ['RS256'],
    });
    return { appId: payload.appid, roles: payload.roles ?? [] };
  } catch (e) {
    throw new GraphError(401, 'InvalidAuthenticationToken', `Access token validation failure. ${e.code ?? ''}`.trim());
  }
}

function allowed(who, app, write) {
  const roles = new Set(who.roles);
  if (roles.has('Application.ReadWrite.All')) return true;
  if (!write && roles.has('Application.Read.All')) return true;
  return roles.has('Application.ReadWrite.OwnedBy') && (!app || app.owners.includes(who.appId));
}

const denied = () => new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

function findApp(ref) {
  let m = /^\(appId='([^']*)'\)$/.exec(ref);
  const app = m ? apps.find((a) => a.appId === m[1]) : apps.find((a) => a.id === ref);
  if (!app) {
    throw new GraphError(404, 'Request_ResourceNotFound',
      `Resource '${m ? m[1] : ref}' does not exist or one of its queried reference-property objects are not present.`);
  }
  return app;
}

function listApplications(url, req, who) {
  const params = url.searchParams;
  const select = params.get('$select')?.split(',');
  const top = Number(params.get('$top') ?? 100);
  if (!Number.isInteger(top) || top < 1 || top > 999) {
    throw new GraphError(400, 'Request_BadRequest', `Invalid page size specified: '${params.get('$top')}'. Must be between 1 and 999 inclusive.`);
  }
  let matching = apps.filter((a) => allowed(who, a, false));
  if (!allowed(who, null, false) && !who.roles.includes('Application.ReadWrite.OwnedBy')) throw denied();
  const filter = params.get('$filter');
  if (filter) {
    const m = /^appId eq '([^']*)'$/.exec(filter);
    if (m) {
      matching = matching.filter((a) => a.appId === m[1]);
    } else {
      if (req.headers.consistencylevel !== 'eventual' || params.get('$count') !== 'true') {
        throw new GraphError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
      }
      const d = /^keyCredentials\/any\(k:k\/endDateTime le (\S+)\)$/.exec(filter);
      if (!d) throw new GraphError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
      matching = matching.filter((a) => a.keyCredentials.some((k) => k.endDateTime <= d[1]));
    }
  }
  const skip = params.has('$skiptoken') ? Number(Buffer.from(params.get('$skiptoken'), 'base64url').toString().split(':')[1]) : 0;
  const page = matching.slice(skip, skip + top);
  const body = { '@odata.context': `${origin}/v1.0/$metadata#applications`, value: page.map((a) => appWire(a, select, false)) };
  if (skip + top < matching.length) {
    const next = new URL(url);
    next.searchParams.set('$skiptoken', Buffer.from(`RFNwdAIAAQAAA:${skip + top}`).toString('base64url'));
    body['@odata.nextLink'] = next.toString();
  }
  return body;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload.');
  }
}

function patchKeyCredentials(app, body) {
  const extra = Object.keys(body).filter((k) => k !== 'keyCredentials');
  if (extra.length) throw new GraphError(400, 'Request_BadRequest', `Property '${extra[0]}' is not supported by this test server.`);
  if (!Array.isArray(body.keyCredentials)) throw new GraphError(400, 'Request_BadRequest', 'Invalid value specified for property \'keyCredentials\'.');
  const seen = new Set();
  const next = body.keyCredentials.map((k) => {
    if (!k.keyId || seen.has(k.keyId)) {
      throw new GraphError(400, 'Request_BadRequest', 'Key credential key ids must be unique.');
    }
    seen.add(k.keyId);
    const existing = app.keyCredentials.find((e) => e.keyId === k.keyId);
    if (!k.key) {
      if (!existing) throw new GraphError(400, 'Request_BadRequest', `Key credential ${k.keyId} has no key value and is not present on the application.`);
      // A signing key (SAML, or a certificate whose password shares its keyId) cannot be sent back by reference.
      if (existing.usage === 'Sign' || existing.type === 'X509CertAndPassword') {
        throw new GraphError(400, 'Request_BadRequest', `Invalid value specified for property 'usage' of resource 'KeyCredential': usage '${k.usage ?? 'null'}' for key ${k.keyId} invalid. Acceptable values are Sign, Verify.`);
      }
      return existing;
    }
    if (k.type !== 'AsymmetricX509Cert' || k.usage !== 'Verify') {
      throw new GraphError(400, 'Request_BadRequest', 'Invalid value specified for property \'type\' or \'usage\' of resource \'KeyCredential\'.');
    }
    let made;
    try {
      made = credentialFromKey(k.key, k);
    } catch {
      throw new GraphError(400, 'Request_BadRequest', 'Invalid certificate: key value is invalid certificate');
    }
    if (k.endDateTime && new Date(k.endDateTime) > new Date(made.cert.validTo)) {
      throw new GraphError(400, 'KeyCredentialsInvalidEndDate', 'Key credential end date is invalid.');
    }
    checkLifetime(app, made);
    checkTrustedCa(app, made);
    made.addedAt = Date.now();
    return made;
  });
  checkSize(app, next.length);
  app.keyCredentials = next;
  changed(app);
}

// Verifies an addKey/removeKey proof; returns nothing or throws Graph's 401.
async function checkProof(app, proof) {
  const bad = () => new GraphError(401, 'Authentication_MissingOrMalformed', 'Access Token missing or malformed.');
  if (typeof proof !== 'string' || proof.includes('=')) throw bad();
  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw bad();
  }
  if (header.alg !== 'RS256' || !header.x5t) throw bad();
  const now = Date.now();
  const signer = app.keyCredentials.find((k) => k.x5t === header.x5t);
  if (!signer || now < Date.parse(signer.startDateTime) || now > Date.parse(signer.endDateTime)) throw bad();
  let payload;
  try {
    const verified = await compactVerify(proof, createPublicKey(signer.cert.publicKey.export({ format: 'pem', type: 'spki' })));
    payload = JSON.parse(Buffer.from(verified.payload).toString());
  } catch {
    throw bad();
  }
  const seconds = now / 1000;
  if (payload.aud !== PROOF_AUDIENCE || payload.iss !== app.id) throw bad();
  if (typeof payload.nbf !== 'number' || typeof payload.exp !== 'number') throw bad();
  if (payload.exp - payload.nbf > 600 || seconds < payload.nbf - 300 || seconds > payload.exp) throw bad();
}

// A service principal's id: the application's object id with its first group changed.
const spId = (app) => `5${app.id.slice(1)}`;

// Service principals with credentials of their own, as the seed gives them (Graph's fields, taken as they are:
// SAML signing groups, App Proxy's secret, bad input), then one per app that has one, with none.
const seededServicePrincipals = Array.isArray(seed) ? [] : (seed.servicePrincipals ?? []);

function listServicePrincipals(url) {
  const select = url.searchParams.get('$select')?.split(',');
  const top = Number(url.searchParams.get('$top') ?? 100);
  if (!Number.isInteger(top) || top < 1 || top > 999) {
    throw new GraphError(400, 'Request_BadRequest', `Invalid page size specified: '${url.searchParams.get('$top')}'. Must be between 1 and 999 inclusive.`);
  }
  const all = [
    ...seededServicePrincipals.map((sp) => ({ servicePrincipalType: 'Application', keyCredentials: [], passwordCredentials: [], preferredTokenSigningKeyThumbprint: null, ...sp })),
    ...apps.filter((a) => a.servicePrincipal).map((a) => ({ id: spId(a), appId: a.appId, displayName: a.displayName,
      servicePrincipalType: 'Application', preferredTokenSigningKeyThumbprint: null, keyCredentials: [], passwordCredentials: [] })),
  ];
  const skip = url.searchParams.has('$skiptoken') ? Number(Buffer.from(url.searchParams.get('$skiptoken'), 'base64url').toString().split(':')[1]) : 0;
  const page = all.slice(skip, skip + top).map((sp) => (select ? Object.fromEntries(select.filter((f) => f in sp).map((f) => [f, sp[f]])) : sp));
  const body = { '@odata.context': `${origin}/v1.0/$metadata#servicePrincipals`, value: page };
  if (skip + top < all.length) {
    const next = new URL(url);
    next.searchParams.set('$skiptoken', Buffer.from(`X2NsaWVudElk:${skip + top}`).toString('base64url'));
    body['@odata.nextLink'] = next.toString();
  }
  return body;
}

function servicePrincipals(req, url, who) {
  const path = url.pathname;
  if (req.method !== 'GET') throw new GraphError(405, 'Request_BadRequest', 'Only GET is served here.');
  if (!allowed(who, null, false)) throw denied();
  if (path === '/v1.0/servicePrincipals') return [200, listServicePrincipals(url)];
  let m = /^\/v1\.0\/servicePrincipals\(appId='([^']*)'\)$/.exec(path);
  if (m) {
    const app = apps.find((a) => a.appId === m[1] && a.servicePrincipal);
    if (!app) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`);
    return [200, { id: spId(app), appId: app.appId, displayName: app.displayName }];
  }
  m = /^\/v1\.0\/servicePrincipals\/([^/]+)\/appRoleAssignments$/.exec(path);
  if (m) {
    const app = apps.find((a) => a.servicePrincipal && spId(a) === m[1]);
    if (!app) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`);
    const value = app.assignments.flatMap((g) => {
      const resource = apps.find((a) => a.appId === g.resourceAppId && a.servicePrincipal);
      return resource ? [{ id: randomUUID(), principalId: spId(app), resourceId: spId(resource), appRoleId: g.appRoleId }] : [];
    });
    return [200, { value }];
  }
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${path}'.`);
}

// The sign-ins Entra has recorded by now (the lag applied), each with the app's credential it used.
async function recordedSignIns() {
  const all = await (await fetch(`${process.env.OIDC_URL}/_test/signins`)).json();
  const cutoff = Date.now() - usage.lagSeconds * 1000;
  return all.filter((s) => Date.parse(s.time) <= cutoff).flatMap((s) => {
    const app = apps.find((a) => a.appId === s.appId);
    const credential = app?.keyCredentials.find((k) => k.x5t === s.x5t
      || createHash('sha256').update(Buffer.from(k.key, 'base64')).digest('base64url') === s.x5tS256);
    return credential ? [{ ...s, app, credential }] : [];
  });
}

async function usageRoute(req, url, who) {
  if (req.method !== 'GET') throw new GraphError(405, 'Request_BadRequest', 'Only GET is served here.');
  if (!usage.licensed) {
    throw new GraphError(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      'Neither tenant is B2C or tenant doesn\'t have premium license');
  }
  if (!who.roles.includes('AuditLog.Read.All')) throw denied();
  const filter = url.searchParams.get('$filter') ?? '';
  const appId = /appId eq '([^']*)'/.exec(filter)?.[1];
  const keyId = /keyId eq '([^']*)'/.exec(filter)?.[1];
  const since = /createdDateTime ge (\S+)/.exec(filter)?.[1];
  const signIns = (await recordedSignIns()).filter((s) => (!appId || s.appId === appId)
    && (!keyId || s.credential.keyId === keyId) && (!since || Date.parse(s.time) >= Date.parse(since)));
  if (url.pathname === '/beta/reports/appCredentialSignInActivities') {
    const last = new Map();
    for (const s of signIns) {
      const before = last.get(s.credential.keyId);
      if (!before || before.time < s.time) last.set(s.credential.keyId, s);
    }
    return [200, { '@odata.context': `${origin}/beta/$metadata#reports/appCredentialSignInActivities`, value: [...last.values()].map((s) => ({
      id: randomUUID(), keyId: s.credential.keyId, keyType: 'certificate', keyUsage: 'verify', appId: s.appId,
      appObjectId: s.app.id, servicePrincipalObjectId: spId(s.app), credentialOrigin: 'application',
      expirationDateTime: s.credential.endDateTime, createdDateTime: s.credential.startDateTime,
      signInActivity: { lastSignInDateTime: s.time, lastSignInRequestId: s.requestId },
    })) }];
  }
  if (!/signInEventTypes\/any\(t: ?t eq 'servicePrincipal'\)/.test(filter)) {
    throw new GraphError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  }
  return [200, { value: signIns.map((s) => ({
    id: s.requestId, createdDateTime: s.time, appId: s.appId, signInEventTypes: ['servicePrincipal'],
    servicePrincipalCredentialKeyId: s.credential.keyId,
    servicePrincipalCredentialThumbprint: Buffer.from(s.credential.x5t, 'base64url').toString('hex').toUpperCase(),
  })) }];
}

async function route(req, url, who, body) {
  const path = url.pathname;
  if (path === '/beta/reports/appCredentialSignInActivities' || path === '/beta/auditLogs/signIns') {
    return usageRoute(req, url, who);
  }
  if (path.startsWith('/v1.0/servicePrincipals')) return servicePrincipals(req, url, who);
  if (/^\/(v1\.0|beta)\/(policies\/defaultAppManagementPolicy|policies\/appManagementPolicies(\/[^/]+\/appliesTo)?|applications\/[^/]+\/appManagementPolicies)$/.test(path)) {
    return policyRoute(req, path, who);
  }
  if (/^\/beta\/directory\/certificateAuthorities\/certificateBasedApplicationConfigurations\/[^/]+\/trustedCertificateAuthorities$/.test(path)) {
    return trustedAuthorities(req, path, who);
  }
  if (req.method === 'GET' && path === '/v1.0/applications') return [200, listApplications(url, req, who)];
  if (req.method === 'GET' && path === '/v1.0/applications/delta') {
    if (!allowed(who, null, false)) throw denied();
    return [200, delta(url, origin, apps.filter((a) => allowed(who, a, false)), (a, select) => appWire(a, select, false), GraphError)];
  }
  const nav = /^\/v1\.0\/applications(\(appId='[^']*'\)|\/[^/]+)\/(owners|federatedIdentityCredentials)$/.exec(path);
  if (nav) {
    const app = findApp(nav[1].replace(/^\//, ''));
    if (req.method !== 'GET') throw new GraphError(405, 'Request_BadRequest', `Method ${req.method} is not allowed here.`);
    if (!allowed(who, app, false)) throw denied();
    return [200, navigation(app, nav[2], url, origin, apps)];
  }
  const one = /^\/v1\.0\/applications(\(appId='[^']*'\)|\/[^/]+)(\/addKey|\/removeKey)?$/.exec(path);
  if (!one) throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${path}'.`);
  const app = findApp(one[1].replace(/^\//, ''));
  const action = one[2];
  const self = who.appId === app.appId;
  if (req.method === 'GET' && !action) {
    if (!allowed(who, app, false) && !(self && app.selfRead)) throw denied();
    const select = url.searchParams.get('$select')?.split(',');
    return [200, appWire(app, select, Boolean(select?.includes('keyCredentials')))];
  }
  if (req.method === 'PATCH' && !action) {
    if (!allowed(who, app, true)) throw denied();
    patchKeyCredentials(app, body);
    return [204, undefined];
  }
  if (req.method === 'POST' && action === '/addKey') {
    if (!allowed(who, app, true) && !self) throw denied();
    await checkProof(app, body.proof);
    const k = body.keyCredential ?? {};
    if (k.type !== 'AsymmetricX509Cert' || k.usage !== 'Verify' || !k.key) {
      throw new GraphError(400, 'Request_BadRequest', 'Invalid key credential.');
    }
    let made;
    try {
      made = credentialFromKey(k.key, { displayName: k.displayName });
    } catch {
      throw new GraphError(400, 'Request_BadRequest', 'Invalid certificate: key value is invalid certificate');
    }
    checkLifetime(app, made);
    checkTrustedCa(app, made);
    checkSize(app, app.keyCredentials.length + 1);
    made.addedAt = Date.now();
    app.keyCredentials.push(made);
    changed(app);
    return [200, { '@odata.context': `${origin}/v1.0/$metadata#microsoft.graph.keyCredential`, ...wire(made, false) }];
  }
  if (req.method === 'POST' && action === '/removeKey') {
    if (!allowed(who, app, true) && !self) throw denied();
    await checkProof(app, body.proof);
    const before = app.keyCredentials.length;
    app.keyCredentials = app.keyCredentials.filter((k) => k.keyId !== body.keyId);
    changed(app);
    if (app.keyCredentials.length === before) throw new GraphError(400, 'Request_BadRequest', 'No credentials found to be removed.');
    return [204, undefined];
  }
  throw new GraphError(405, 'Request_BadRequest', `Method ${req.method} is not allowed here.`);
}

// The fault for this request, if one is due: a fault that names a "method" waits for a request of that method.
function nextFault(method, path) {
  if (faults.queue[0]?.method && faults.queue[0].method !== method) return null;
  if (faults.queue[0]?.pathContains && !decodeURIComponent(path).includes(faults.queue[0].pathContains)) return null;
  if (faults.queue.length && (!faults.every || ++faults.count % faults.every === 0)) {
    return faults.every ? faults.queue[0] : faults.queue.shift();
  }
  return null;
}

// Graph's error body.
function errorBody(e, requestId, clientRequestId) {
  return {
    error: {
      code: e.code ?? 'InternalServerError',
      message: e.message,
      ...(e.details ? { details: e.details } : {}),
      innerError: { date: new Date().toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

// Answers one request (on its own, or an item of a $batch): the next fault if one is due, else the caller's token
// checked, the budget spent and the route's answer. Returns [status, body, headers].
async function answer(req, url, body, entry) {
  const requestId = randomUUID();
  const clientRequestId = req.headers['client-request-id'] ?? null;
  try {
    let fault = nextFault(req.method, url.pathname + url.search);
    if (fault?.pass) fault = null;
    if (fault?.touch) {
      // Another admin changes the app meanwhile: a credential of its own appears (the first one's certificate
      // with a new keyId), then the request is answered as usual.
      const app = findApp(fault.touch);
      const first = app.keyCredentials[0];
      if (first) app.keyCredentials.push({ ...first, keyId: randomUUID() });
      changed(app);
      fault = null;
    }
    if (fault) {
      throw new GraphError(fault.status, fault.code ?? (fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable'),
        fault.message ?? 'Please retry after the time given.',
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
    }
    const who = await caller(req);
    entry.cost = costOf(req.method, url);
    const budget = spend(entry.cost, Date.now(), (retryAfter, headers) => new GraphError(429, 'TooManyRequests',
      'Too many requests. Please retry after the time given.', { 'retry-after': String(retryAfter), ...headers }));
    const [status, out] = await route(req, url, who, body);
    entry.status = status;
    return [status, out, { 'request-id': requestId, 'client-request-id': clientRequestId ?? '', ...budget }];
  } catch (e) {
    const status = e instanceof GraphError ? e.status : 500;
    entry.status = status;
    return [status, errorBody(e, requestId, clientRequestId), { 'request-id': requestId, ...(e.headers ?? {}) }];
  }
}

// POST /v1.0/$batch: at most 20 requests with unique ids, each answered as on its own (its own status, headers,
// budget and faults) and logged as its own request; keycred's reads only, so GET items.
async function batch(req, body, entry) {
  const requests = body?.requests;
  if (!Array.isArray(requests) || requests.length === 0 || requests.length > 20) {
    throw new GraphError(400, 'BadRequest', 'Maximum of 20 requests allowed in a batch, and at least one.');
  }
  const ids = new Set(requests.map((r) => r.id));
  if (ids.size !== requests.length || requests.some((r) => typeof r.id !== 'string' || typeof r.url !== 'string')) {
    throw new GraphError(400, 'BadRequest', 'Each request in a batch needs a unique string id and a url.');
  }
  await caller(req);
  const responses = [];
  for (const item of requests) {
    if (item.method !== 'GET' || !item.url.startsWith('/')) {
      throw new GraphError(400, 'BadRequest', `Request ${item.id}: this test server batches GET requests with relative URLs only.`);
    }
    const path = `/v1.0${item.url}`;
    const inner = { method: 'GET', path, time: Date.now(), batch: true, clientRequestId: entry.clientRequestId, consistencyLevel: null };
    log.push(inner);
    const itemReq = { method: 'GET', headers: { ...req.headers, ...Object.fromEntries(Object.entries(item.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) } };
    const [status, out, headers] = await answer(itemReq, new URL(path, origin), undefined, inner);
    responses.push({ id: item.id, status, headers: { 'content-type': 'application/json', ...headers }, ...(out === undefined ? {} : { body: out }) });
  }
  // Graph answers the items in any order.
  responses.reverse();
  return [200, { responses }];
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, origin);
  const requestId = randomUUID();
  const clientRequestId = req.headers['client-request-id'] ?? null;
  const entry = { method: req.method, path: req.url, time: Date.now(), clientRequestId, consistencyLevel: req.headers.consistencylevel ?? null };
  try {
    if (url.pathname === '/_test/apps') {
      // With each credential added through the API, when it was added, for the OAuth server's replication delay.
      return send(res, 200, apps.map((a) => ({
        ...appWire(a, null, true),
        keyCredentials: a.keyCredentials.map((k) => ({ ...wire(k, true), ...(k.addedAt ? { addedAt: k.addedAt } : {}) })),
        owners: a.owners,
      })));
    }
    if (url.pathname === '/_test/log') return send(res, 200, log);
    if (url.pathname === '/_test/usage') {
      usage = { lagSeconds: 0, licensed: true, ...(await readBody(req)) };
      return send(res, 204);
    }
    if (url.pathname === '/_test/delta') {
      // {"expire": true}: every delta token issued so far is answered syncStateNotFound.
      if ((await readBody(req)).expire) expireTokens();
      return send(res, 204);
    }
    if (url.pathname === '/_test/remove') {
      // {"id": OBJECT_ID}: the app is deleted from the tenant.
      const { id } = await readBody(req);
      const index = apps.findIndex((a) => a.id === id);
      if (index >= 0) removedApp(apps.splice(index, 1)[0]);
      return send(res, 204);
    }
    if (url.pathname === '/_test/rename') {
      // {"id": OBJECT_ID, "displayName": NAME}: another admin renames the app.
      const { id, displayName } = await readBody(req);
      const app = findApp(id);
      app.displayName = displayName;
      changed(app);
      return send(res, 204);
    }
    if (url.pathname === '/_test/faults') {
      faults = { queue: [], every: 0, count: 0, ...(await readBody(req)) };
      return send(res, 204);
    }
    log.push(entry);
    const body = ['PATCH', 'POST'].includes(req.method) ? await readBody(req) : undefined;
    entry.body = body;
    if (req.method === 'POST' && url.pathname === '/v1.0/$batch') {
      const [status, out] = await batch(req, body, entry);
      entry.status = status;
      return send(res, status, out, { 'request-id': requestId });
    }
    const [status, out, headers] = await answer(req, url, body, entry);
    send(res, status, out, headers);
  } catch (e) {
    const status = e instanceof GraphError ? e.status : 500;
    entry.status = status;
    send(res, status, errorBody(e, requestId, clientRequestId), { 'request-id': requestId, ...(e.headers ?? {}) });
  }
});
server.listen(0, '127.0.0.1', () => {
  origin = `http://127.0.0.1:${server.address().port}`;
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

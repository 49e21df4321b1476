// A real OAuth 2.0 authorization server (oidc-provider 9) on 127.0.0.1, laid out like Entra ID, for keycred's
// token tests: client credentials with private_key_jwt (the client registered with the test's certificate) or a
// client secret, the token endpoint at /{tenant}/oauth2/v2.0/token (so the assertion's aud is that URL, as with
// Entra), JWT access tokens with Entra's app-only claims (roles, tid, azp/appid, ver), and the signing keys at
// Entra's /{tenant}/discovery/v2.0/keys.
//
// Two APIs, one registered for each token version, as Entra issues their tokens:
// - api://keycred-test     v2.0 tokens: aud the API's client id (API_APP_ID below), iss {origin}/{tenant}/v2.0,
//                          azp, ver "2.0"
// - api://keycred-test-v1  v1.0 tokens: aud the App ID URI, iss https://sts.windows.net/{tenant}/, appid, ver "1.0"
//
// With TLS_CERT and TLS_KEY (PEM files) it serves https, and also Entra's discovery documents, so that MSAL and
// azure-identity can use it as their authority exactly as they use login.microsoftonline.com:
// - /common/discovery/instance                      (instance discovery)
// - /{tenant}/v2.0/.well-known/openid-configuration (tenant discovery)
//
// Usage: node server.mjs TENANT CLIENT_ID CERT_PEM SECRET_CLIENT_ID SECRET   (prints "listening PORT")
import { generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import Provider, { errors } from 'oidc-provider';

const [tenant, clientId, certPath, secretClientId, secret] = process.argv.slice(2);
// API_URI names the API as another test's documents do (README's: api://contoso-orders).
const v2 = process.env.API_URI || 'api://keycred-test';
const v1 = `${v2}-v1`;
const API_APP_ID = 'c0ffee00-1111-4222-8333-444455556666';
const scopes = [`${v2}/.default`, `${v1}/.default`];
const roles = (process.env.TOKEN_ROLES ?? 'Orders.Read').split(',').filter(Boolean);

const cert = new X509Certificate(readFileSync(certPath));
const clientJwk = { ...cert.publicKey.export({ format: "jwk" }), use: "sig" };
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'keycred-test-1', use: 'sig', alg: 'RS256' };

const resourceServer = (audience) => ({
  scope: `${audience}/.default`,
  audience,
  accessTokenFormat: 'jwt',
  accessTokenTTL: Number(process.env.TOKEN_TTL || 3600),
  jwt: { sign: { alg: 'RS256' } },
});
// Microsoft Graph: any http(s) resource other than the two APIs is a Graph host (the tests' Graph server on
// 127.0.0.1, whose port is not known when this server starts). Its tokens are v1.0, as Graph's are: iss
// https://sts.windows.net/{tenant}/, aud the Graph URL, appid, and the application permissions in roles
// (GRAPH_ROLES, comma-separated; default Application.ReadWrite.All; empty for an app with none).
const graphRoles = (process.env.GRAPH_ROLES ?? 'Application.ReadWrite.All').split(',').filter(Boolean);
const isGraph = (resource) => resource !== v1 && resource !== v2 && /^https?:\/\//.test(resource);
// MSAL and keycred send only a scope, as with Entra: the resource is the scope's prefix.
const requested = (ctx) => {
  const scope = String(ctx.oidc.params.scope || '');
  if (scope.startsWith(`${v1}/`)) return v1;
  if (scope.startsWith(`${v2}/`)) return v2;
  // Any other resource is asked for as given: like Entra (AADSTS500011), the server then refuses a resource it
  // does not know (invalid_target).
  return scope.replace(/\/\.default$/, '');
};
const knownResource = (indicator) => indicator === v1 || indicator === v2 || isGraph(indicator);

// With GRAPH_STATE_FILE (a file the tests write with the Graph test server's URL), every application of that
// tenant is a client, registered with the certificates Graph holds for it now, as Entra trusts the app's current
// keyCredentials: a certificate added through Graph can sign in at once, a removed one no longer can. The
// certificate client is then not registered statically, so that it too follows the tenant. With
// REPLICATION_DELAY_MS, a certificate added through Graph signs in only that long after it was added, as Entra
// replicates a new credential, and until then the token endpoint answers AADSTS700027 as Entra does.
const graphState = process.env.GRAPH_STATE_FILE;
const replicationDelay = Number(process.env.REPLICATION_DELAY_MS ?? 0);
class TenantAdapter {
  static store = new Map();
  constructor(name) {
    this.name = name;
  }
  key(id) {
    return `${this.name}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    TenantAdapter.store.set(this.key(id), { payload, expires: Date.now() + (expiresIn ?? 3600) * 1000 });
  }
  async find(id) {
    if (this.name === 'Client' && graphState) return tenantClient(id);
    const found = TenantAdapter.store.get(this.key(id));
    return found && found.expires > Date.now() ? found.payload : undefined;
  }
  async findByUid() {}
  async findByUserCode() {}
  async consume(id) {
    const found = TenantAdapter.store.get(this.key(id));
    if (found) found.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    TenantAdapter.store.delete(this.key(id));
  }
  async revokeByGrantId() {}
}
async function tenantClient(id) {
  const url = readFileSync(graphState, 'utf8').trim();
  const apps = await (await fetch(`${url}/_test/apps`)).json();
  const app = apps.find((a) => a.appId === id);
  if (!app) return undefined;
  const now = Date.now();
  const keys = app.keyCredentials
    // Only Verify certificates authenticate an app, as in Entra: a Sign key (SAML, token signing) never does.
    .filter((k) => k.key && k.usage === 'Verify' && Date.parse(k.startDateTime) <= now + 300000 && now <= Date.parse(k.endDateTime))
    .filter((k) => !k.addedAt || now >= k.addedAt + replicationDelay)
    .map((k) => ({ ...new X509Certificate(Buffer.from(k.key, 'base64')).publicKey.export({ format: 'jwk' }), use: 'sig' }));
  return {
    client_id: id,
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    jwks: { keys },
  };
}

const configuration = {
  adapter: TenantAdapter,
  clients: [
    ...(graphState ? [] : [{
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: scopes.join(' '),
      jwks: { keys: [clientJwk] },
    }]),
    {
      client_id: secretClientId,
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: scopes.join(' '),
    },
  ],
  jwks: { keys: [signingJwk] },
  scopes,
  clientAuthSigningAlgValues: ['RS256', 'PS256'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: requested,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (!knownResource(indicator)) {
          throw new errors.InvalidTarget(`AADSTS500011: The resource principal named ${indicator} was not found in the tenant.`);
        }
        return resourceServer(indicator);
      },
    },
  },
  extraTokenClaims: () => ({ roles, tid: tenant, idtyp: 'app' }),
  formats: {
    customizers: {
      // Entra's issuer and client claim by token version.
      jwt: (ctx, token, jwt) => {
        const { payload } = jwt;
        if (isGraph(payload.aud)) {
          payload.iss = `https://sts.windows.net/${tenant}/`;
          payload.appid = token.clientId;
          payload.ver = '1.0';
          payload.roles = graphRoles;
          if (!graphRoles.length) delete payload.roles;
        } else if (payload.aud === v1) {
          payload.iss = `https://sts.windows.net/${tenant}/`;
          payload.appid = token.clientId;
          payload.ver = '1.0';
        } else {
          payload.aud = API_APP_ID;
          payload.iss = `${ctx.protocol}://${ctx.host}/${tenant}/v2.0`;
          payload.azp = token.clientId;
          payload.ver = '2.0';
        }
      },
    },
  },
  routes: { token: `/${tenant}/oauth2/v2.0/token`, jwks: `/${tenant}/discovery/v2.0/keys` },
};

const provider = new Provider('http://127.0.0.1', configuration);
// Entra records which credential each app sign-in used: here, every token the client credentials grant issues, with
// the x5t / x5t#S256 of the certificate that signed its client assertion (none for a secret). GET /_test/signins
// gives them (the Graph test server builds its usage report and sign-in log from them).
const signIns = [];
provider.on('grant.success', (ctx) => {
  const assertion = ctx.oidc.params?.client_assertion;
  let header = {};
  try {
    header = assertion ? JSON.parse(Buffer.from(String(assertion).split('.')[0], 'base64url').toString()) : {};
  } catch {
    header = {};
  }
  signIns.push({
    appId: ctx.oidc.client?.clientId ?? null,
    x5t: header.x5t ?? null,
    x5tS256: header['x5t#S256'] ?? null,
    time: new Date().toISOString(),
    requestId: randomUUID(),
  });
});
provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/signins') {
    ctx.body = signIns;
    return;
  }
  await next();
  // A client assertion no registered certificate of a tenant app verifies: Entra's AADSTS700027.
  if (graphState && ctx.path.endsWith('/token') && ctx.body?.error === 'invalid_client'
      && ctx.body?.error_description === 'client authentication failed') {
    ctx.body = {
      error: 'invalid_client',
      error_description: 'AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.]',
      error_codes: [700027],
      timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    };
  }
});
let server;
if (process.env.TLS_CERT && process.env.TLS_KEY) {
  const callback = provider.callback();
  const send = (res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  server = createServer(
    { cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) },
    (req, res) => {
      const origin = `https://${req.headers.host}`;
      const { pathname } = new URL(req.url, origin);
      const tenantBase = `${origin}/${tenant}`;
      if (req.method === 'GET' && pathname === '/common/discovery/instance') {
        send(res, {
          tenant_discovery_endpoint: `${tenantBase}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: req.headers.host, preferred_cache: req.headers.host, aliases: [req.headers.host] }],
        });
      } else if (req.method === 'GET' && pathname === `/${tenant}/v2.0/.well-known/openid-configuration`) {
        send(res, {
          issuer: `${tenantBase}/v2.0`,
          authorization_endpoint: `${tenantBase}/oauth2/v2.0/authorize`,
          token_endpoint: `${tenantBase}/oauth2/v2.0/token`,
          jwks_uri: `${tenantBase}/discovery/v2.0/keys`,
          end_session_endpoint: `${tenantBase}/oauth2/v2.0/logout`,
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          tenant_region_scope: null,
          cloud_instance_name: 'microsoftonline.com',
        });
      } else {
        callback(req, res);
      }
    },
  );
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
} else {
  server = provider.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}
process.on('SIGTERM', () => server.close(() => process.exit(0)));

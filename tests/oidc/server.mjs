// A real OAuth 2.0 authorization server (oidc-provider 9) on 127.0.0.1, laid out like Entra ID, for keycred's
// token tests: client credentials with private_key_jwt (the client registered with the test's certificate) or a
// client secret, the token endpoint at /{tenant}/oauth2/v2.0/token (so the assertion's aud is that URL, as with
// Entra), JWT access tokens with Entra's app-only claims (roles, tid, azp, ver), and the signing keys at /jwks.
//
// Usage: node server.mjs TENANT CLIENT_ID CERT_PEM SECRET_CLIENT_ID SECRET   (prints "listening PORT")
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [tenant, clientId, certPath, secretClientId, secret] = process.argv.slice(2);
const audience = 'api://keycred-test';
const scope = `${audience}/.default`;

const cert = new X509Certificate(readFileSync(certPath));
const clientJwk = { ...cert.publicKey.export({ format: "jwk" }), use: "sig" };
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'keycred-test-1', use: 'sig', alg: 'RS256' };

const resource = {
  scope,
  audience,
  accessTokenFormat: 'jwt',
  accessTokenTTL: Number(process.env.TOKEN_TTL || 3600),
  jwt: { sign: { alg: 'RS256' } },
};

const configuration = {
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope,
      jwks: { keys: [clientJwk] },
    },
    {
      client_id: secretClientId,
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope,
    },
  ],
  jwks: { keys: [signingJwk] },
  scopes: [scope],
  clientAuthSigningAlgValues: ['RS256', 'PS256'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => resource,
    },
  },
  extraTokenClaims: (ctx, token) => ({
    roles: ['Orders.Read'],
    tid: tenant,
    azp: token.clientId,
    appid: token.clientId,
    idtyp: 'app',
    ver: '2.0',
  }),
  routes: { token: `/${tenant}/oauth2/v2.0/token`, jwks: '/jwks' },
};

const provider = new Provider('http://127.0.0.1', configuration);
const server = provider.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

// An application's owners and federated identity credentials for the Graph test server (keycred's DESIGN.md
// "Graph at tenant scale"): GET /v1.0/applications/{id}/owners and /v1.0/applications/{id}/federatedIdentityCredentials,
// one page each, as Graph answers them.
//
// In the seed, an app's "owners" holds the appId of each service principal that owns it (as the OwnedBy
// permissions check it) and, for a user, an object {userPrincipalName, displayName}; its
// "federatedIdentityCredentials" holds {name, issuer, subject[, audiences, description]} (at most 20, as Graph
// allows).
import { createHash } from 'node:crypto';

// A stable object id made from a name, for seeded objects that give none.
const idOf = (name) => {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

// One owner as the directoryObject Graph returns: a user or a service principal, with its @odata.type.
function ownerWire(owner, apps) {
  if (typeof owner === 'string') {
    const named = apps.find((a) => a.appId === owner);
    return {
      '@odata.type': '#microsoft.graph.servicePrincipal',
      id: idOf(`sp:${owner}`),
      appId: owner,
      displayName: named?.displayName ?? null,
      servicePrincipalType: 'Application',
    };
  }
  return {
    '@odata.type': '#microsoft.graph.user',
    id: owner.id ?? idOf(`user:${owner.userPrincipalName}`),
    displayName: owner.displayName ?? null,
    userPrincipalName: owner.userPrincipalName ?? null,
    mail: owner.mail ?? owner.userPrincipalName ?? null,
  };
}

// Keeps what $select names; @odata.type stays, as Graph keeps it on directory objects of mixed types.
function selected(object, select) {
  if (!select) return object;
  return Object.fromEntries(Object.entries(object).filter(([k]) => k === '@odata.type' || select.includes(k)));
}

// The answer to GET …/owners or …/federatedIdentityCredentials of `app`.
export function navigation(app, collection, url, origin, apps) {
  const select = url.searchParams.get('$select')?.split(',');
  if (collection === 'owners') {
    return {
      '@odata.context': `${origin}/v1.0/$metadata#directoryObjects`,
      value: app.owners.map((o) => selected(ownerWire(o, apps), select)),
    };
  }
  return {
    '@odata.context': `${origin}/v1.0/$metadata#applications('${app.id}')/federatedIdentityCredentials`,
    value: app.federatedIdentityCredentials.map((f) => selected({
      id: f.id ?? idOf(`fic:${app.id}:${f.name}`),
      name: f.name,
      issuer: f.issuer,
      subject: f.subject,
      description: f.description ?? null,
      audiences: f.audiences ?? ['api://AzureADTokenExchange'],
    }, select)),
  };
}

// GET /v1.0/applications/delta for the Graph test server (keycred's DESIGN.md "Graph at tenant scale"): the first
// call (no $deltatoken) returns every application, page by page (@odata.nextLink), then an @odata.deltaLink; a call
// with that link returns only what changed since (each changed app with the properties the first call selected,
// each removed one as {id, "@removed": {"reason": "deleted"}}), then a new deltaLink. $deltatoken=latest starts
// from now with no apps. A token older than 7 days, or issued before the tests expired them all
// (POST /_test/delta {"expire": true}), is answered 410 syncStateNotFound, as Graph does.

const PAGE = 200;
const LIFETIME_MS = 7 * 24 * 3600 * 1000;
let sequence = 0;
let expiredBefore = 0;
const removed = [];

const encode = (state) => Buffer.from(JSON.stringify(state)).toString('base64url');
const decode = (token) => {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString());
  } catch {
    return null;
  }
};

// Marks an application changed (a write, or a test control).
export function changed(app) {
  sequence += 1;
  app.changedAt = sequence;
}

// Records an application removed from the tenant.
export function removedApp(app) {
  sequence += 1;
  removed.push({ id: app.id, at: sequence });
}

// Makes every delta token issued so far unusable.
export function expireTokens() {
  expiredBefore = Date.now() + 1;
}

// Answers one delta call: `visible` are the apps the caller may read, `wire(app, select)` an app as Graph shows it.
export function delta(url, origin, visible, wire, GraphError) {
  const params = url.searchParams;
  const link = (state) => `${origin}/v1.0/applications/delta?${state.page === undefined ? '$deltatoken' : '$skiptoken'}=${encode(state)}`;
  let state;
  if (params.has('$skiptoken')) {
    state = decode(params.get('$skiptoken'));
  } else if (params.get('$deltatoken') === 'latest') {
    return { '@odata.context': `${origin}/v1.0/$metadata#applications`, value: [], '@odata.deltaLink': link({ since: sequence, issued: Date.now(), select: params.get('$select') }) };
  } else if (params.has('$deltatoken')) {
    state = decode(params.get('$deltatoken'));
    if (state) Object.assign(state, { page: 0, at: sequence });
  } else {
    state = { since: 0, issued: Date.now(), select: params.get('$select'), page: 0, full: true, at: sequence };
  }
  if (!state || typeof state.page !== 'number') throw new GraphError(400, 'Request_BadRequest', 'Invalid delta token.');
  if (state.issued < expiredBefore || Date.now() - state.issued > LIFETIME_MS) {
    throw new GraphError(410, 'syncStateNotFound', 'The sync state generation is not found. Restart the delta query.');
  }
  const select = state.select?.split(',');
  const items = [
    ...visible.filter((a) => state.full || (a.changedAt ?? 0) > state.since).map((a) => wire(a, select)),
    ...(state.full ? [] : removed.filter((r) => r.at > state.since).map((r) => ({ id: r.id, '@removed': { reason: 'deleted' } }))),
  ];
  const page = items.slice(state.page * PAGE, (state.page + 1) * PAGE);
  const body = { '@odata.context': `${origin}/v1.0/$metadata#applications`, value: page };
  if ((state.page + 1) * PAGE < items.length) {
    body['@odata.nextLink'] = link({ ...state, page: state.page + 1 });
  } else {
    // The next link starts from what this round saw; a round that began before a change sees it next time.
    body['@odata.deltaLink'] = link({ since: state.at, issued: Date.now(), select: state.select });
  }
  return body;
}

// Graph's request budget, as the Graph test server enforces it (keycred's DESIGN.md "Microsoft Graph" and "Graph
// at tenant scale"): per tenant, reads that name keyCredentials in $select on one application (150 a minute),
// writes (3,000 per 150 s) and resource units (3,500 per 10 s; a read costs 2, 1 with $select, a write 1), each a
// sliding window over the requests as they arrive. A request past a limit is answered 429 with Retry-After (the
// seconds until the oldest request in that window leaves it), x-ms-throttle-scope and x-ms-throttle-information,
// and spends nothing. Above 80% of a limit the answer carries x-ms-throttle-limit-percentage. GRAPH_TIME_SCALE
// runs the windows' clock faster (60: a minute lasts a second), so that tests of the pacing stay short.

const SCALE = Number(process.env.GRAPH_TIME_SCALE ?? 1) || 1;

const LIMITS = {
  keyReads: { count: 150, spanMs: 60_000 / SCALE },
  writes: { count: 3000, spanMs: 150_000 / SCALE },
  units: { count: 3500, spanMs: 10_000 / SCALE },
};

const windows = Object.fromEntries(Object.keys(LIMITS).map((name) => [name, []]));

// What a request costs against each limit, from its method and URL.
export function costOf(method, url) {
  if (method !== 'GET') return { keyReads: 0, writes: 1, units: 1 };
  const select = url.searchParams.get('$select');
  const one = /^\/(v1\.0|beta)\/applications(\/[^/]+|\(appId='[^']*'\))$/.test(url.pathname);
  const keys = one && Boolean(select?.split(',').includes('keyCredentials'));
  return { keyReads: keys ? 1 : 0, writes: 0, units: select ? 1 : 2 };
}

// Spends `cost` at `now`, or throws what Graph answers past a limit (made by `refuse(retryAfter, headers)`).
// Returns the headers the answer carries.
export function spend(cost, now, refuse) {
  for (const [name, limit] of Object.entries(LIMITS)) {
    const window = windows[name];
    while (window.length && window[0].at + limit.spanMs <= now) window.shift();
    const used = window.reduce((n, w) => n + w.cost, 0);
    if (cost[name] && used + cost[name] > limit.count) {
      const retryAfter = Math.max(1, Math.ceil((window[0].at + limit.spanMs - now) / 1000));
      throw refuse(retryAfter, {
        'x-ms-throttle-scope': `Tenant_Application/ReadWrite/${name}`,
        'x-ms-throttle-information': `${name} limit of ${limit.count} reached`,
      });
    }
  }
  const headers = {};
  let closest = 0;
  for (const [name, limit] of Object.entries(LIMITS)) {
    if (!cost[name]) continue;
    windows[name].push({ at: now, cost: cost[name] });
    closest = Math.max(closest, windows[name].reduce((n, w) => n + w.cost, 0) / limit.count);
  }
  if (closest > 0.8) headers['x-ms-throttle-limit-percentage'] = closest.toFixed(2);
  return headers;
}

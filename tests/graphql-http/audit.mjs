// Runs the graphql-http server audit (GraphQL over HTTP conformance) against one endpoint.
//
//   node audit.mjs <url> [header-name=value ...]
//
// The headers are added to every request the audit sends (the gateway wants a bearer
// token, a subgraph a signed tenant context). Prints one JSON line per audit result:
// {"id","name","status","reason"} with status ok (passed), error (a MUST failed),
// warn (a SHOULD failed) or notice (a MAY failed). Exits 1 when any MUST failed, 2 on a
// usage error; the Rust test that starts the stack decides what to do with warnings.

import { auditServer } from 'graphql-http';

const [url, ...headerArguments] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs <url> [header-name=value ...]');
  process.exit(2);
}

const extraHeaders = headerArguments.map((argument) => {
  const separator = argument.indexOf('=');
  if (separator < 1) {
    console.error(`not a header-name=value pair: ${argument}`);
    process.exit(2);
  }
  return [argument.slice(0, separator), argument.slice(separator + 1)];
});

// The audit builds its own headers per request; ours are added unless it set the same name.
async function fetchWithHeaders(input, init = {}) {
  const headers = new Headers(init.headers);
  for (const [name, value] of extraHeaders) {
    if (!headers.has(name)) headers.set(name, value);
  }
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithHeaders });

let mustFailures = 0;
for (const result of results) {
  if (result.status === 'error') mustFailures += 1;
  const reason = result.status === 'ok' ? undefined : await describe(result);
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason }));
}
process.exit(mustFailures === 0 ? 0 : 1);

async function describe(result) {
  const reason = result.reason ?? '';
  if (!result.response) return reason;
  // The response body shows what the server answered instead.
  try {
    const body = await result.response.text();
    return `${reason} (HTTP ${result.response.status}: ${body.slice(0, 300)})`;
  } catch {
    return reason;
  }
}

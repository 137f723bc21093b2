// The TrentService client the console uses: the same signed JSON API as every other client.

import { signedHeaders } from "./sigv4.js";

export class KmsError extends Error {
  constructor(code, message, { status = 0, requestId = "", exchange = null } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.exchange = exchange;
  }
}

/**
 * Call `operation` with `payload`. Resolves to {data, exchange}; rejects with a KmsError whose
 * `code` is the API's own error name (`__type`). `exchange` records what went over the wire,
 * for display: {request: {method, path, headers, body}, response: {status, requestId, body}}.
 */
export async function callKms(session, operation, payload = {}) {
  const target = "TrentService." + operation;
  const body = JSON.stringify(payload);
  const headers = await signedHeaders({
    accessKeyId: session.accessKeyId,
    secretAccessKey: session.secretAccessKey,
    region: session.region || "us-east-1",
    host: location.host,
    target,
    body,
  });
  const exchange = {
    operation,
    request: { method: "POST", path: "/", headers: { Host: location.host, ...headers }, body: payload },
    response: null,
  };
  let response;
  try {
    response = await fetch(new URL("/", location.href), {
      method: "POST", headers, body, credentials: "omit", cache: "no-store",
      referrerPolicy: "no-referrer", redirect: "error",
    });
  } catch (error) {
    throw new KmsError("NetworkError", "The QKMS server did not answer: " + error.message, { exchange });
  }
  const requestId = response.headers.get("x-amzn-requestid") || "";
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : {}; } catch (_) { /* reported below */ }
  exchange.response = { status: response.status, requestId, body: data ?? text };
  if (response.ok && data !== null) return { data, exchange };
  const rawType = (data && (data.__type || data.code)) || response.headers.get("x-amzn-errortype") || "";
  // AWS may prefix a namespace ("com.amazonaws.kms#") or append ":..." details.
  const code = rawType.split("#").pop().split(":")[0] || `HTTP ${response.status}`;
  const message = (data && (data.message || data.Message)) || text.slice(0, 300);
  throw new KmsError(code, message, { status: response.status, requestId, exchange });
}

/** Every page of ListKeys, up to `max` keys. */
export async function listAllKeys(session, max = 1000) {
  const keys = [];
  let marker;
  do {
    const { data } = await callKms(session, "ListKeys", marker ? { Limit: 100, Marker: marker } : { Limit: 100 });
    keys.push(...(data.Keys || []));
    marker = data.Truncated ? data.NextMarker : undefined;
  } while (marker && keys.length < max);
  return keys;
}

/**
 * Alias names by target key id, or null when this server has no ListAliases
 * (UnknownOperationException) or refuses it: the console then shows "—".
 */
export async function aliasesByKey(session) {
  const byKey = new Map();
  let marker;
  try {
    for (let page = 0; page < 10; page++) {
      const { data } = await callKms(session, "ListAliases", marker ? { Limit: 100, Marker: marker } : { Limit: 100 });
      for (const alias of data.Aliases || []) {
        if (!alias.TargetKeyId) continue;
        if (!byKey.has(alias.TargetKeyId)) byKey.set(alias.TargetKeyId, []);
        byKey.get(alias.TargetKeyId).push(alias.AliasName);
      }
      marker = data.Truncated ? data.NextMarker : undefined;
      if (!marker) break;
    }
  } catch (error) {
    if (error instanceof KmsError) return null;
    throw error;
  }
  return byKey;
}

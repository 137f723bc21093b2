// AWS Signature Version 4 in the browser, with WebCrypto (HMAC-SHA-256, SHA-256).
// The canonical request is built exactly as AWS and botocore build it for a KMS call:
// POST, path "/", empty query, signed headers content-type;host;x-amz-date;x-amz-target,
// and the hex SHA-256 of the body.

const encoder = new TextEncoder();
const ALGORITHM = "AWS4-HMAC-SHA256";

export function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(bytes) {
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(keyBytes, text) {
  const key = await crypto.subtle.importKey(
    "raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}

/** "20240501T120000Z" for a Date. */
export function amzDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Headers for a signed TrentService call. `host` is what the browser will send as Host
 * (location.host): the browser sets that header itself, the server verifies against it.
 */
export async function signedHeaders({ accessKeyId, secretAccessKey, region, service = "kms",
                                      host, target, body, now = new Date() }) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const headers = {
    "content-type": "application/x-amz-json-1.1",
    "host": host,
    "x-amz-date": date,
    "x-amz-target": target,
  };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => n + ":" + headers[n].trim().replace(/\s+/g, " ") + "\n").join("");
  const signedNames = names.join(";");
  const canonicalRequest = [
    "POST", "/", "", canonicalHeaders, signedNames, await sha256Hex(encoder.encode(body)),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [
    ALGORITHM, date, scope, await sha256Hex(encoder.encode(canonicalRequest)),
  ].join("\n");
  let key = await hmac(encoder.encode("AWS4" + secretAccessKey), day);
  for (const part of [region, service, "aws4_request"]) key = await hmac(key, part);
  const signature = toHex(await hmac(key, stringToSign));
  return {
    "Content-Type": headers["content-type"],
    "X-Amz-Date": date,
    "X-Amz-Target": target,
    "Authorization":
      `${ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${signedNames}, Signature=${signature}`,
  };
}

// The signed-in identity. Kept in this tab's sessionStorage only: never localStorage, never a
// cookie; the secret leaves the tab only as SigV4 signatures. "Sign out" removes it.

const KEY = "qkms.console.session";

export function load() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (value && value.accessKeyId && value.secretAccessKey) return value;
  } catch (_) { /* a damaged entry is the same as none */ }
  return null;
}

export function save(session) {
  sessionStorage.setItem(KEY, JSON.stringify({
    accessKeyId: session.accessKeyId,
    secretAccessKey: session.secretAccessKey,
    region: session.region || "us-east-1",
  }));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

/**
 * Read an AWS shared-credentials file (or one profile of it): the profile named `wanted`, or
 * else the first one that has both keys. Returns {accessKeyId, secretAccessKey, region} or null.
 */
export function parseCredentials(text, wanted = "qkms") {
  const profiles = new Map();
  let current = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const section = line.match(/^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/);
    if (section) { current = section[1]; continue; }
    const pair = line.match(/^([A-Za-z0-9_]+)\s*[=:]\s*(.*)$/);
    if (!pair) continue;
    if (!profiles.has(current)) profiles.set(current, {});
    profiles.get(current)[pair[1].toLowerCase()] = pair[2].trim();
  }
  const complete = (p) => p && p.aws_access_key_id && p.aws_secret_access_key;
  const chosen = complete(profiles.get(wanted)) ? profiles.get(wanted)
    : [...profiles.values()].find(complete);
  if (!chosen) return null;
  return {
    accessKeyId: chosen.aws_access_key_id,
    secretAccessKey: chosen.aws_secret_access_key,
    region: chosen.region || null,
  };
}

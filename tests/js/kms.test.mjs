// The AWS SDK for JavaScript v3 (@aws-sdk/client-kms) against a real `qkms serve`.
// Run by tests/js/test_aws_sdk_js.py, which starts the server and passes QKMS_ENDPOINT and the
// admin access key in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.

import assert from "node:assert/strict";
import { createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, verify } from "node:crypto";
import { test } from "node:test";

import {
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  DisableKeyCommand,
  DisabledException,
  EncryptCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListKeysCommand,
  SignCommand,
  VerifyCommand,
} from "@aws-sdk/client-kms";

const endpoint = process.env.QKMS_ENDPOINT;
assert.ok(endpoint, "QKMS_ENDPOINT must name the qkms serve under test");

const kms = new KMSClient({
  endpoint,
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
  maxAttempts: 1, // the first answer, never a retried one
});

const TIMEOUT = { timeout: 15_000 };
// node:crypto's names for the KMS curves.
const CURVES = {
  ECC_NIST_P256: "prime256v1",
  ECC_NIST_P384: "secp384r1",
  ECC_NIST_P521: "secp521r1",
  ECC_SECG_P256K1: "secp256k1",
};

async function createKey(KeySpec, KeyUsage, Description = "aws-sdk-js") {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage, Description }));
  return KeyMetadata;
}

/** The error an SDK call rejects with; fails when the call succeeds. */
async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("the call succeeded, an error was expected");
}

/** Run `body`, or skip the test when this server does not have `operation` yet. */
async function unlessUnknown(t, operation, body) {
  try {
    await body();
  } catch (error) {
    if (error.name !== "UnknownOperationException") throw error;
    t.skip(`${operation} is not an operation of this QKMS yet (UnknownOperationException)`);
  }
}

for (const [spec, curve] of Object.entries(CURVES)) {
  test(`DeriveSharedSecret on ${spec} equals node:crypto ECDH`, TIMEOUT, async () => {
    const key = await createKey(spec, "KEY_AGREEMENT");
    assert.equal(key.KeyUsage, "KEY_AGREEMENT");
    assert.deepEqual(key.KeyAgreementAlgorithms, ["ECDH"]);

    const published = await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
    assert.equal(published.KeySpec, spec);
    assert.ok(published.PublicKey instanceof Uint8Array);
    const kmsPublic = createPublicKey({ key: Buffer.from(published.PublicKey), format: "der", type: "spki" });
    assert.equal(kmsPublic.asymmetricKeyDetails.namedCurve, curve);

    const peer = generateKeyPairSync("ec", { namedCurve: curve });
    const derived = await kms.send(new DeriveSharedSecretCommand({
      KeyId: key.Arn,
      KeyAgreementAlgorithm: "ECDH",
      PublicKey: peer.publicKey.export({ format: "der", type: "spki" }),
    }));
    assert.equal(derived.KeyId, key.Arn);
    assert.equal(derived.KeyAgreementAlgorithm, "ECDH");
    const ours = diffieHellman({ privateKey: peer.privateKey, publicKey: kmsPublic });
    assert.equal(Buffer.from(derived.SharedSecret).toString("hex"), ours.toString("hex"));
  });
}

test("ListKeys pages with Limit and Marker, each key once", TIMEOUT, async () => {
  const created = [];
  for (let n = 0; n < 5; n++) created.push((await createKey("ECC_NIST_P256", "KEY_AGREEMENT", `paging ${n}`)).KeyId);
  const seen = [];
  let marker;
  let pages = 0;
  do {
    const page = await kms.send(new ListKeysCommand(marker ? { Limit: 2, Marker: marker } : { Limit: 2 }));
    pages += 1;
    assert.ok(page.Keys.length <= 2, `a page of ${page.Keys.length} keys for Limit 2`);
    for (const entry of page.Keys) assert.match(entry.KeyArn, new RegExp(`:key/${entry.KeyId}$`));
    seen.push(...page.Keys.map((entry) => entry.KeyId));
    if (page.Truncated) assert.ok(page.NextMarker, "a truncated page carries NextMarker");
    marker = page.Truncated ? page.NextMarker : undefined;
    assert.ok(pages <= 100, "ListKeys did not come to an end");
  } while (marker);
  assert.ok(pages >= 3, `${seen.length} keys came in ${pages} page(s) of 2`);
  assert.equal(new Set(seen).size, seen.length, "a key was listed twice");
  for (const keyId of created) assert.ok(seen.includes(keyId), `${keyId} was not listed`);
});

test("a disabled key rejects with DisabledException", TIMEOUT, async () => {
  const key = await createKey("ECC_NIST_P256", "KEY_AGREEMENT");
  await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
  const peer = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const error = await rejection(kms.send(new DeriveSharedSecretCommand({
    KeyId: key.KeyId,
    KeyAgreementAlgorithm: "ECDH",
    PublicKey: peer.publicKey.export({ format: "der", type: "spki" }),
  })));
  assert.equal(error.name, "DisabledException");
  assert.ok(error instanceof DisabledException, "the SDK's own modeled exception class");
  assert.equal(error.$metadata.httpStatusCode, 400);
  assert.match(error.message, /is disabled/);
});

test("a malformed public key rejects with InvalidPublicKeyException", TIMEOUT, async () => {
  const key = await createKey("ECC_NIST_P256", "KEY_AGREEMENT");
  const other = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ format: "der", type: "spki" });
  for (const PublicKey of [randomBytes(91), other]) {
    const error = await rejection(kms.send(new DeriveSharedSecretCommand({
      KeyId: key.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey,
    })));
    assert.equal(error.name, "InvalidPublicKeyException");
    assert.equal(error.$metadata.httpStatusCode, 400);
  }
});

test("Encrypt and Decrypt round-trip on a symmetric key", TIMEOUT, async (t) => {
  const key = await createKey("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
  await unlessUnknown(t, "Encrypt", async () => {
    const plaintext = randomBytes(48);
    const context = { purpose: "aws-sdk-js" };
    const sealed = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: context }));
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: context }));
    assert.equal(opened.KeyId, key.Arn);
    assert.equal(Buffer.from(opened.Plaintext).toString("hex"), plaintext.toString("hex"));
  });
});

test("Sign and Verify on an ECC_NIST_P256 signing key", TIMEOUT, async (t) => {
  const key = await createKey("ECC_NIST_P256", "SIGN_VERIFY");
  await unlessUnknown(t, "Sign", async () => {
    const Message = Buffer.from("signed by qkms through the AWS SDK for JavaScript");
    const signed = await kms.send(new SignCommand({ KeyId: key.KeyId, Message, SigningAlgorithm: "ECDSA_SHA_256" }));
    const verified = await kms.send(new VerifyCommand({
      KeyId: key.KeyId, Message, Signature: signed.Signature, SigningAlgorithm: "ECDSA_SHA_256",
    }));
    assert.equal(verified.SignatureValid, true);
    // And node:crypto agrees, from the published SubjectPublicKeyInfo (DER ECDSA signature).
    const published = await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
    const kmsPublic = createPublicKey({ key: Buffer.from(published.PublicKey), format: "der", type: "spki" });
    assert.ok(verify("sha256", Message, kmsPublic, Buffer.from(signed.Signature)));
  });
});

import "reflect-metadata";
import type * as X509 from "@peculiar/x509";

/**
 * @peculiar/x509 resolves its crypto provider through tsyringe, which needs reflect-metadata loaded
 * first; a static import would let the bundler evaluate it too early in the compiled binary.
 */
let loaded: Promise<typeof X509> | undefined;
const library = () => (loaded ??= import("@peculiar/x509"));

/** PEM texts of a certificate and its private key (PKCS #8). */
export interface CertificatePem {
  cert: string;
  key: string;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 asks
  return Buffer.from(bytes).toString("hex");
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const x509 = await library();
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // An hour back, so a machine whose clock is a little behind accepts a certificate made just now.
  const now = Date.now();
  return { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + days * DAY_MS) };
}

/** A new certificate authority (ECDSA P-256), self-signed. */
export async function createCertificateAuthority(commonName: string, days = 3650): Promise<CertificatePem> {
  const x509 = await library();
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    ...validity(days),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await privateKeyPem(keys.privateKey) };
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+)$/;

/**
 * A certificate signed by the CA for the given host names and IP addresses, good for serving
 * (a manager or worker API) and for a client.
 * @example await issueCertificate(ca, "manager", ["cube.example.com", "127.0.0.1"])
 */
export async function issueCertificate(ca: CertificatePem, commonName: string, hosts: string[], days = 825): Promise<CertificatePem> {
  const x509 = await library();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await crypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(ca.key), ALGORITHM, false, ["sign"]);
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${commonName}`,
    issuer: caCert.subject,
    ...validity(days),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: IP.test(h) ? ("ip" as const) : ("dns" as const), value: h }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await privateKeyPem(keys.privateKey) };
}

// The emulator's local PKI: a CA, the HTTPS server certificate for localhost/127.0.0.1, the
// token-signing key, and test certificates for app registrations. Created once in the data
// dir and reused, so a client can trust the CA across restarts.
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto, createHash, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const DAY = 86_400_000;

export interface PemPair { certPem: string; keyPem: string; certPath: string; keyPath: string }

export interface Pki {
  ca: PemPair;
  server: PemPair;
  /** RSA key that signs every token the emulator issues. */
  signing: PemPair & { kid: string; x5t: string };
  dir: string;
}

async function toPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

/**
 * Write atomically (temp file + rename, key first) so that two emulators starting on one data
 * dir never read a certificate whose key belongs to another: a reader sees old or new, whole.
 */
function write(dir: string, name: string, cert: string, key: string): PemPair {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const tmp = `.${process.pid}.${Date.now()}`;
  writeFileSync(keyPath + tmp, key, { mode: 0o600 });
  writeFileSync(certPath + tmp, cert);
  renameSync(keyPath + tmp, keyPath);
  renameSync(certPath + tmp, certPath);
  return { certPem: cert, keyPem: key, certPath, keyPath };
}

function read(dir: string, name: string): PemPair | undefined {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8'), certPath, keyPath };
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex').replace(/^[89a-f]/, '1');

async function selfSigned(subject: string, notBefore: Date, notAfter: Date, extensions: x509.Extension[]): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: subject, notBefore, notAfter, keys, signingAlgorithm: ALG, extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await toPem(keys.privateKey) };
}

/** Create (or load) the CA, server certificate and signing key under dir. */
export async function ensurePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  let ca = read(dir, 'ca');
  if (!ca) {
    const now = Date.now();
    const made = await selfSigned('CN=copilog emulator local CA', new Date(now - DAY), new Date(now + 3650 * DAY), [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ]);
    ca = write(dir, 'ca', made.cert, made.key);
  }
  let server = read(dir, 'server');
  // Made again when missing, not issued by this CA, or within 30 days of expiry.
  if (!server || !new X509Certificate(server.certPem).checkIssued(new X509Certificate(ca.certPem))
    || Date.parse(new X509Certificate(server.certPem).validTo) < Date.now() + 30 * DAY) {
    const caCert = new x509.X509Certificate(ca.certPem);
    const caKey = await importKey(ca.keyPem);
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject: 'CN=localhost', issuer: caCert.subject,
      notBefore: new Date(now - DAY), notAfter: new Date(now + 825 * DAY),
      signingAlgorithm: ALG, publicKey: keys.publicKey, signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' },
        ]),
      ],
    });
    server = write(dir, 'server', cert.toString('pem') + '\n', await toPem(keys.privateKey));
  }
  let signing = read(dir, 'signing');
  if (!signing) {
    const now = Date.now();
    const made = await selfSigned('CN=copilog emulator token signing', new Date(now - DAY), new Date(now + 3650 * DAY), []);
    signing = write(dir, 'signing', made.cert, made.key);
  }
  const { x5t } = thumbprints(signing.certPem);
  return { ca, server, signing: { ...signing, kid: x5t, x5t }, dir };
}

/** SHA-1 (x5t) and SHA-256 (x5t#S256) thumbprints, base64url, and the hex SHA-1 Azure shows. */
export function thumbprints(certPem: string): { x5t: string; x5tS256: string; hex: string } {
  const der = new X509Certificate(certPem).raw;
  const sha1 = createHash('sha1').update(der).digest();
  return { x5t: sha1.toString('base64url'), x5tS256: createHash('sha256').update(der).digest('base64url'), hex: sha1.toString('hex').toUpperCase() };
}

/**
 * A client certificate for an app registration (the kind a developer uploads to Entra).
 * Kept under dir/apps/ and reused while the scenario asks for the same validity.
 */
export async function ensureAppCertificate(dir: string, name: string, notBefore: Date, notAfter: Date, validitySpec: string): Promise<PemPair> {
  const appDir = join(dir, 'apps');
  mkdirSync(appDir, { recursive: true });
  // The validity as the scenario writes it ("-30d|+365d") is part of the file name: scenarios that
  // give one certificate name different lifetimes (a healthy one, an expired one) never share
  // files, and a relative lifetime keeps one file, renewed when it has drifted by a day.
  const file = `${name}.${createHash('sha256').update(validitySpec).digest('hex').slice(0, 8)}`;
  const existing = read(appDir, file);
  if (existing) {
    const c = new X509Certificate(existing.certPem);
    if (Math.abs(Date.parse(c.validTo) - notAfter.getTime()) < DAY && Math.abs(Date.parse(c.validFrom) - notBefore.getTime()) < DAY) return existing;
  }
  const made = await selfSigned(`CN=${name}`, notBefore, notAfter, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  ]);
  return write(appDir, file, made.cert, made.key);
}

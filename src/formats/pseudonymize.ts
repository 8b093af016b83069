// --pseudonymize KEYFILE: every user id, UPN (any e-mail address) and display name becomes a keyed
// hash (HMAC-SHA256 with the key file's content). The same value and key give the same pseudonym in
// every run and format, so joins and counts per person still work; without the key nobody can
// recompute them from a directory listing. Replacement runs over every string of an interaction —
// identity fields, body text, card JSON, URLs — not only the fields known to name people.
import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { AiInteraction } from '../client/models.js';

/** Shortest key accepted: 32 characters (`openssl rand -hex 32` writes 64). */
export const MIN_KEY_CHARS = 32;
export const KEY_HOWTO = 'make one with: openssl rand -hex 32 > copilog.key (and keep it: the same key gives the same pseudonyms)';

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/** The key is the file's text without surrounding whitespace (a trailing newline from openssl is not part of it). */
export function readKeyFile(path: string): Buffer {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new KeyFileError(`--pseudonymize ${path} is a directory, not a key file; ${KEY_HOWTO}`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeyFileError(`--pseudonymize: cannot read the key file ${path} (${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}); ${KEY_HOWTO}`);
  }
  const key = text.trim();
  if (key.length === 0) throw new KeyFileError(`--pseudonymize: the key file ${path} is empty; ${KEY_HOWTO}`);
  if (key.length < MIN_KEY_CHARS) throw new KeyFileError(`--pseudonymize: the key in ${path} is ${key.length} characters; at least ${MIN_KEY_CHARS} are needed; ${KEY_HOWTO}`);
  return Buffer.from(key, 'utf8');
}

export interface Person {
  id?: string | null;
  userPrincipalName?: string | null;
  displayName?: string | null;
}

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/**
 * A GUID, with the markers that make a GUID a person in Teams URLs: a meeting join link's
 * `"Oid":"…"` (organizer, raw or percent-encoded) and a recap link's `organizerId=`.
 */
const GUID_RE = new RegExp(`(Oid(?:"|%22)\\s*(?::|%3A)\\s*(?:"|%22)|organizerId=)?(${GUID})`, 'g');
/** Addresses as they appear in UPNs, including guests' `name_domain#EXT#@tenant`. */
const EMAIL_RE = /[A-Za-z0-9._%+'#-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** Teams thread ids (`19:…@thread.skype`, `…@unq.gbl.spaces`) look like addresses but name no one. */
const TEAMS_THREAD_RE = /@(?:thread\.|unq\.gbl\.spaces$)/i;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Pseudonymizer {
  /** Person ids (lower case) to pseudonymize wherever they appear. */
  private readonly ids = new Set<string>();
  /** Display names and non-GUID ids (lower case) → the kind they are hashed as. */
  private readonly literals = new Map<string, 'name' | 'id'>();
  private literalRe: RegExp | null = null;
  private dirty = false;
  private readonly memo = new Map<string, string>();

  constructor(private readonly key: Buffer) {}

  private hmac(kind: string, value: string): Buffer {
    return createHmac('sha256', this.key).update(`${kind}\u0000${value}`).digest();
  }

  private cached(kind: string, value: string, make: (h: Buffer) => string): string {
    const k = `${kind}\u0000${value}`;
    let v = this.memo.get(k);
    if (v === undefined) {
      v = make(this.hmac(kind, value));
      if (this.memo.size < 100_000) this.memo.set(k, v);
    }
    return v;
  }

  /** A GUID-shaped pseudonym (UUID version 8, "custom"), so columns typed as ids stay valid. */
  id(value: string): string {
    return this.cached('id', value.toLowerCase(), (h) => {
      const b = Buffer.from(h.subarray(0, 16));
      b[6] = (b[6]! & 0x0f) | 0x80;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const x = b.toString('hex');
      return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
    });
  }

  upn(value: string): string {
    return this.cached('upn', value.toLowerCase(), (h) => `user-${h.toString('hex', 0, 8)}@pseudonymized.invalid`);
  }

  name(value: string): string {
    return this.cached('name', value.trim().toLowerCase(), (h) => `Person ${h.toString('hex', 0, 6)}`);
  }

  /** Teach it people to look for: the store's users, and identities an interaction names. */
  learn(p: Person): void {
    if (p.id) {
      if (new RegExp(`^${GUID}$`).test(p.id)) this.ids.add(p.id.toLowerCase());
      else this.addLiteral(p.id, 'id');
    }
    // A UPN is found by the e-mail pattern; one that is not an address is matched literally.
    if (p.userPrincipalName && !new RegExp(`^${EMAIL_RE.source}$`).test(p.userPrincipalName)) this.addLiteral(p.userPrincipalName, 'id');
    if (p.displayName) this.addLiteral(p.displayName, 'name');
  }

  private addLiteral(v: string, kind: 'name' | 'id'): void {
    const k = v.trim().toLowerCase();
    // A Teams MRI (8:orgid:<id>) is covered by its GUID; one- or two-letter names would eat words.
    if (k.length < 3 || /^8:orgid:/.test(k) || this.literals.has(k)) return;
    this.literals.set(k, kind);
    this.dirty = true;
  }

  /** The people an interaction names: the sender and every mentioned user. */
  learnFrom(item: AiInteraction): void {
    const from = item.from as { user?: { id?: string; displayName?: string } | null } | undefined;
    if (from?.user?.id) this.learn({ id: from.user.id });
    for (const m of (item.mentions ?? []) as { mentionText?: string; mentioned?: { user?: { id?: string; displayName?: string } | null } }[]) {
      const u = m?.mentioned?.user;
      if (u) {
        this.learn({ id: u.id, displayName: u.displayName });
        if (m.mentionText) this.learn({ displayName: m.mentionText });
      }
    }
  }

  /** Every known identity in a string replaced: addresses, then person GUIDs, then names. */
  text(s: string): string {
    if (s.length === 0) return s;
    let out = s.includes('@') ? s.replace(EMAIL_RE, (m) => (TEAMS_THREAD_RE.test(m) ? m : this.upn(m))) : s;
    out = out.replace(GUID_RE, (m, marker: string | undefined, guid: string) => {
      const g = guid.toLowerCase();
      if (marker) this.ids.add(g);
      return this.ids.has(g) ? `${marker ?? ''}${this.id(g)}` : m;
    });
    const re = this.literals.size ? this.literalPattern() : null;
    if (re) {
      out = out.replace(re, (m) => {
        const kind = this.literals.get(m.toLowerCase());
        return kind === 'id' ? this.id(m) : kind === 'name' ? this.name(m) : m;
      });
    }
    return out;
  }

  private literalPattern(): RegExp {
    if (this.dirty || !this.literalRe) {
      // Longest first, so "Adele Vance" wins over "Adele"; whole words only.
      const alts = [...this.literals.keys()].sort((a, b) => b.length - a.length).map(escapeRe);
      this.literalRe = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alts.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
      this.dirty = false;
    }
    return this.literalRe;
  }

  /** The interaction with every string passed through text(); the input is not modified. */
  interaction(item: AiInteraction): AiInteraction {
    this.learnFrom(item);
    return this.value(item) as AiInteraction;
  }

  private value(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.value(x);
      return o;
    }
    return v;
  }

  /** A user id column (the owner of a history): the same pseudonym as the id inside the JSON. */
  userId(id: string): string {
    this.learn({ id });
    return this.text(id);
  }
}

/** --no-bodies: prompt and response text go (body content, attachment content such as cards); structure, counts and ids stay. */
export function withoutBodies(item: AiInteraction): AiInteraction {
  const out = { ...item };
  if (out.body) out.body = { ...out.body, content: null as unknown as string };
  if (out.attachments) out.attachments = out.attachments.map((a) => (a.content == null ? a : { ...a, content: null }));
  return out;
}

// Which users an export reads: every user with the Graph-grounded chat plan enabled (found
// through Graph with paging), the users a file names, or a group's transitive members. Each
// target keeps what the directory said about it, so a refusal can be explained with the
// doctor's verdict code instead of a guess.
import { readFileSync } from 'node:fs';
import { GUID_RE } from '../client/config.js';
import { GraphRequestError } from '../client/errors.js';
import type { GraphClient } from '../client/graph.js';
import { keyValue } from '../client/graph.js';
import type { AssignedPlan, User } from '../client/models.js';
import { PLAN } from '../graph/licensing.js';

export interface TargetUser {
  /** Entra object id (or, when it could not be resolved, the UPN the file gave). */
  id: string;
  userPrincipalName: string | null;
  displayName: string | null;
  userType?: string | null;
  accountEnabled?: boolean | null;
  /** Whether M365_COPILOT_BUSINESS_CHAT is enabled, when the directory said. */
  businessChat?: 'enabled' | 'disabled' | 'absent';
}

export type UserSelection = { kind: 'licensed' } | { kind: 'file'; path: string } | { kind: 'group'; groupId: string };

/** A users file that cannot be used: the caller's input (exit 2). */
export class UsersFileError extends Error {}

const SELECT = 'id,userPrincipalName,displayName,userType,accountEnabled,assignedPlans';
const UPN_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function businessChatState(plans: AssignedPlan[] | undefined): TargetUser['businessChat'] {
  if (!plans) return undefined;
  const mine = plans.filter((p) => p.servicePlanId?.toLowerCase() === PLAN.M365_COPILOT_BUSINESS_CHAT);
  if (mine.length === 0) return 'absent';
  return mine.some((p) => p.capabilityStatus === 'Enabled') ? 'enabled' : 'disabled';
}

const toTarget = (u: User): TargetUser => ({
  id: u.id, userPrincipalName: u.userPrincipalName ?? null, displayName: u.displayName ?? null,
  userType: u.userType ?? null, accountEnabled: u.accountEnabled ?? null, businessChat: businessChatState(u.assignedPlans),
});

/** Ids and UPNs from a file: one a line, blank lines and # comments ignored, duplicates once. */
export function readUsersFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsersFileError(`cannot read the users file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const seen = new Set<string>();
  const out: string[] = [];
  const bad: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    // A CSV export with a header or extra columns: the first column is the user.
    const line = raw.replace(/^\uFEFF/, '').split('#')[0]!.split(',')[0]!.trim().replace(/^"|"$/g, '');
    if (line === '') return;
    if (i === 0 && /^(id|userprincipalname|upn|user|objectid)$/i.test(line)) return;
    if (!GUID_RE.test(line) && !UPN_RE.test(line)) {
      bad.push(`line ${i + 1}: '${line.slice(0, 60)}'`);
      return;
    }
    const key = line.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    out.push(line);
  });
  if (bad.length) throw new UsersFileError(`the users file ${path} has ${bad.length} line(s) that are neither an object id (GUID) nor a userPrincipalName (name@domain): ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? '; …' : ''}`);
  if (out.length === 0) throw new UsersFileError(`the users file ${path} names no user (one object id or userPrincipalName a line)`);
  return out;
}

/** Why the directory could not be read, in words that say what to grant. */
export class DirectoryReadError extends Error {
  constructor(message: string, cause: GraphRequestError) {
    super(message, { cause });
  }
}

export async function resolveTargets(graph: GraphClient, sel: UserSelection, o: { signal?: AbortSignal } = {}): Promise<TargetUser[]> {
  if (sel.kind === 'file') {
    const entries = readUsersFile(sel.path);
    const out: TargetUser[] = [];
    for (const key of entries) {
      try {
        out.push(toTarget(await graph.get<User>(`users/${encodeURIComponent(key)}`, { $select: SELECT }, { signal: o.signal })));
      } catch (e) {
        // A user the directory does not show is still tried (the export API decides); one it
        // cannot read at all (no User.Read.All) is tried under the name the file gave.
        if (!(e instanceof GraphRequestError) || (e.status !== 404 && e.status !== 403)) throw e;
        out.push({ id: key, userPrincipalName: key.includes('@') ? key : null, displayName: null });
      }
    }
    return out;
  }
  const path = sel.kind === 'group'
    ? `groups/${keyValue(sel.groupId)}/transitiveMembers/microsoft.graph.user`
    : 'users';
  const users: TargetUser[] = [];
  try {
    // 200 a page, not Graph's maximum of 999: a user's assignedPlans run to ~100 entries, and a
    // 999-user page (14 MB of JSON) alone would double the export's peak memory.
    for await (const page of graph.pages<User>(path, { $select: SELECT, $top: 200 }, { signal: o.signal })) {
      for (const u of page.value ?? []) {
        const t = toTarget(u);
        if (sel.kind === 'licensed' && t.businessChat !== 'enabled') continue;
        users.push(t);
      }
    }
  } catch (e) {
    if (e instanceof GraphRequestError && (e.status === 403 || e.status === 401)) {
      throw new DirectoryReadError(sel.kind === 'group'
        ? `Graph refused to list group ${sel.groupId}'s members (${e.status} ${e.code}): grant the app GroupMember.Read.All (and User.Read.All), or pass --users FILE`
        : `Graph refused to list the tenant's users (${e.status} ${e.code}): grant the app User.Read.All to find the licensed users, or pass --users FILE with their ids`, e);
    }
    if (e instanceof GraphRequestError && e.status === 404 && sel.kind === 'group') {
      throw new DirectoryReadError(`group ${sel.groupId} was not found (404 ${e.code}); pass the group's object id`, e);
    }
    throw e;
  }
  return users;
}

/** The doctor's verdict code for a user Graph refused, where the directory shows the cause. */
export function verdictFor(u: TargetUser, status: number): string | undefined {
  if (status === 404 && u.userType === undefined && u.businessChat === undefined) return 'user.not-found';
  if (u.userType === 'Guest') return 'user.guest';
  if (u.businessChat === 'disabled') return 'license.plan-disabled';
  if (u.businessChat === 'absent') return 'license.no-copilot';
  if (u.accountEnabled === false) return 'user.disabled';
  if (status === 404) return 'user.not-found';
  return undefined;
}

export const isGuid = (v: string): boolean => GUID_RE.test(v);

// Why Graph refused a subscription, in the doctor's vocabulary: the same verdict codes and fixes
// a `copilog doctor` run would give, so a refusal in watch's log leads to the same next step.
// Graph's 403s for subscriptions say which rule failed only in their message; the patterns below
// match the rules of graph-facts §6 (permission, licence plan, the four quotas).
import { GraphRequestError } from '../client/errors.js';

export interface Refusal {
  /** A doctor verdict code, or `subscriptions.quota` (the doctor's subscriptions check). */
  verdict: string;
  fix: string;
}

const EXPORT_ROLE = 'AiEnterpriseInteraction.Read.All';

export function explainRefusal(e: unknown, userId: string | null): Refusal | undefined {
  if (!(e instanceof GraphRequestError)) return undefined;
  const m = e.message;
  const doctor = `copilog doctor${userId ? ` --user ${userId}` : ''} (with the same target options) confirms it`;
  if (e.status === 404) return { verdict: 'user.not-found', fix: `the user ${userId ?? ''} is not in this tenant's directory; drop it from --users. ${doctor}.` };
  if (e.status !== 403) return undefined;
  if (/quota|limit of \d/i.test(m)) {
    const which = /per app per tenant/i.test(m) ? 'one tenant-wide subscription per app per tenant'
      : /per app per user/i.test(m) ? 'one subscription per app per user'
      : /per user/i.test(m) ? 'ten subscriptions per user, across apps'
      : /organi[sz]ation/i.test(m) ? '10,000 subscriptions per organization' : 'a subscription quota';
    return { verdict: 'subscriptions.quota', fix: `Graph allows ${which}: reuse or renew the existing subscription (GET /subscriptions lists what this app holds; watch adopts its own on restart) or DELETE the ones no longer needed. ${doctor}.` };
  }
  if (/service plan|licen[cs]e|3f30311c/i.test(m)) {
    return { verdict: 'license.no-copilot', fix: `assign a Microsoft 365 Copilot licence with its plans enabled${userId ? ` to ${userId}` : ' in the tenant'}; ${doctor}.` };
  }
  if (/permission|role|scope/i.test(m)) {
    return { verdict: 'permission.missing-role', fix: `grant the application permission ${EXPORT_ROLE} to the app and give admin consent, then get a new token; ${doctor}.` };
  }
  return { verdict: 'unknown', fix: `${doctor} and writes a support bundle (--bundle DIR) with the request ids.` };
}

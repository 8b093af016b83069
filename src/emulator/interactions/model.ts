// The v1.0 `aiInteraction` entity as Microsoft Graph returns it from
// GET /copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions.
// Property set from the v1.0 CSDL (graph.aiInteraction and its complex types); the identity shapes
// and the property order follow Microsoft's published response examples. Every item carries every
// property (collections as [] and nullable strings as null) and nothing else.
import { COPILOT_BOT_APP_ID } from '../../graph/ids.js';

export type AiInteractionType = 'userPrompt' | 'aiResponse';

export const INTERACTION_TYPES: readonly AiInteractionType[] = ['userPrompt', 'aiResponse'];

/** `graph.itemBody` (v1.0). Beta's `chatMessageBody` adds `messageBodyContentType`; the HTTP layer adds it. */
export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}

export interface AiInteractionAttachment {
  attachmentId: string;
  /** For adaptive cards: the card JSON serialised as a string. */
  content: string | null;
  /** `reference`, `file`, `image/…`, `application/vnd.microsoft.card.adaptive`, … */
  contentType: string;
  contentUrl: string | null;
  name: string | null;
}

export interface AiInteractionLink {
  displayName: string;
  /** Observed: `File`, `Meeting`, `Event`. */
  linkType: string;
  linkUrl: string;
}

export interface AiInteractionContext {
  contextReference: string;
  /** e.g. `TeamsMeeting`. */
  contextType: string;
  displayName: string;
}

export interface TeamworkUserIdentity {
  '@odata.type': '#microsoft.graph.teamworkUserIdentity';
  id: string;
  /** In `from.user` this is a Teams MRI (`8:orgid:<userId>`), not a name. */
  displayName: string;
  userIdentityType: 'aadUser';
  tenantId: string;
}

export interface TeamworkApplicationIdentity {
  '@odata.type': '#microsoft.graph.teamworkApplicationIdentity';
  id: string;
  displayName: string;
  applicationIdentityType: 'bot';
}

export interface AiInteractionMentionedIdentitySet {
  '@odata.type': '#microsoft.graph.aiInteractionMentionedIdentitySet';
  user: TeamworkUserIdentity | null;
  application: null;
  device: null;
  conversation: null;
  tag: null;
}

export interface AiInteractionMention {
  /** Edm.Int32 */
  mentionId: number;
  mentionText: string;
  mentioned: AiInteractionMentionedIdentitySet;
}

/** `from` is typed `identitySet` in the CSDL; observed payloads always use this subtype. */
export interface ChatMessageFromIdentitySet {
  '@odata.type': '#microsoft.graph.chatMessageFromIdentitySet';
  /** Set on aiResponse items (the Copilot bot), null on prompts. */
  application: TeamworkApplicationIdentity | null;
  device: null;
  /** Set on userPrompt items, null on responses. */
  user: TeamworkUserIdentity | null;
}

export interface AiInteraction {
  /** Epoch milliseconds of createdDateTime, as a string; equals etag. Unique per user, not across users. */
  id: string;
  /** `19:…@thread.v2`; not unique across users. */
  sessionId: string;
  /** Pairs a prompt with its response(s); may be null. */
  requestId: string | null;
  appClass: string;
  interactionType: AiInteractionType;
  conversationType: string | null;
  etag: string;
  /** ISO 8601 UTC with milliseconds, e.g. `2026-01-01T10:00:00.123Z`. */
  createdDateTime: string;
  locale: string;
  body: ItemBody;
  attachments: AiInteractionAttachment[];
  links: AiInteractionLink[];
  mentions: AiInteractionMention[];
  contexts: AiInteractionContext[];
  from: ChatMessageFromIdentitySet;
}

/** The properties of graph.aiInteraction (including `id` from graph.entity), in response order. */
export const AI_INTERACTION_PROPERTIES = [
  'id', 'sessionId', 'requestId', 'appClass', 'interactionType', 'conversationType', 'etag',
  'createdDateTime', 'locale', 'body', 'attachments', 'links', 'mentions', 'contexts', 'from',
] as const satisfies readonly (keyof AiInteraction)[];

export const APP_CLASS_PREFIX = 'IPM.SkypeTeams.Message.Copilot.';

/** The appClass suffixes the generator produces by default. */
export const DEFAULT_APPS = ['BizChat', 'Teams', 'WebChat', 'Word', 'Excel', 'PowerPoint', 'Outlook', 'Loop'] as const;
export type CopilotApp = (typeof DEFAULT_APPS)[number];

export const appClassOf = (app: string): string => (app.startsWith('IPM.') ? app : APP_CLASS_PREFIX + app);

/** The Copilot bot that every aiResponse comes from. */
export const COPILOT_BOT_ID: string = COPILOT_BOT_APP_ID;
export const BOT_NAME_CHAT = 'Microsoft 365 Chat';
export const BOT_NAME_TEAMS = 'Copilot in Teams';

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const TEAMS_MEETING_CONTEXT_TYPE = 'TeamsMeeting';
export const TEAMS_MEETING_CONTEXT_NAME = 'Teams Meeting Copilot';

export function userIdentity(tenantId: string, userId: string): TeamworkUserIdentity {
  return {
    '@odata.type': '#microsoft.graph.teamworkUserIdentity',
    id: userId,
    displayName: `8:orgid:${userId}`,
    userIdentityType: 'aadUser',
    tenantId,
  };
}

export function botIdentity(displayName: string = BOT_NAME_CHAT): TeamworkApplicationIdentity {
  return {
    '@odata.type': '#microsoft.graph.teamworkApplicationIdentity',
    id: COPILOT_BOT_ID,
    displayName,
    applicationIdentityType: 'bot',
  };
}

export function fromUser(tenantId: string, userId: string): ChatMessageFromIdentitySet {
  return {
    '@odata.type': '#microsoft.graph.chatMessageFromIdentitySet',
    application: null,
    device: null,
    user: userIdentity(tenantId, userId),
  };
}

export function fromBot(displayName: string = BOT_NAME_CHAT): ChatMessageFromIdentitySet {
  return {
    '@odata.type': '#microsoft.graph.chatMessageFromIdentitySet',
    application: botIdentity(displayName),
    device: null,
    user: null,
  };
}

/** `createdDateTime` in Graph's form: UTC, milliseconds, `Z`. */
export const isoMs = (ms: number): string => new Date(ms).toISOString();

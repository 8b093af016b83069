// What every route handler of the emulator may reach: the world, the clock, the token service,
// the interaction store and the log. One object, built once in server.ts.
import type { FastifyBaseLogger } from 'fastify';
import type { LicensingCatalog } from '../graph/licensing.js';
import type { Clock } from './clock.js';
import type { InteractionStore } from './interactions/store.js';
import type { Pki } from './pki.js';
import type { EmulatorState } from './state.js';
import type { TokenService } from './identity/tokens.js';
import type { Throttle } from './graph/throttle.js';
import type { SubscriptionService } from './subscriptions.js';
import type { RequestStats } from './graph/stats.js';

export interface EmulatorContext {
  state: EmulatorState;
  readonly clock: Clock;
  readonly tokens: TokenService;
  readonly pki: Pki;
  readonly store: InteractionStore;
  readonly throttle: Throttle;
  /** Change-notification subscriptions and their deliveries. */
  readonly subscriptions: SubscriptionService;
  /** Export-API requests per tenant and per app (GET /_emulator/stats); replaced on reset. */
  readonly stats: RequestStats;
  readonly catalog: LicensingCatalog;
  readonly dataDir: string;
  log: FastifyBaseLogger;
  /** jti of client assertions already used, with their expiry (replay protection). */
  readonly seenAssertions: Map<string, number>;
  /** Replace the world with another scenario (control API). */
  load(scenario: unknown, source: string): Promise<void>;
}

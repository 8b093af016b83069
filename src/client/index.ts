// copilog's Microsoft Graph client library: configuration (Azure SDK conventions), one transport,
// tokens through MSAL (or any TokenCredential-shaped object), and a typed Graph client.
// The CLI's doctor, export and watch commands are built on this; it never imports the emulator.
import { MsalCredential, StaticTokenCredential, type TokenCredentialLike } from './credential.js';
import type { ClientConfig } from './config.js';
import { GraphClient } from './graph.js';
import { Transport, type TransportOptions } from './transport.js';

export * from './config.js';
export * from './copilot.js';
export * from './credential.js';
export * from './errors.js';
export * from './graph.js';
export * from './models.js';
export * from './transport.js';

export interface CopilogClient {
  config: ClientConfig;
  transport: Transport;
  credential: TokenCredentialLike;
  graph: GraphClient;
  close(): Promise<void>;
}

/**
 * Everything wired from a resolved configuration. `credential` overrides the configured one (an
 * @azure/identity credential, say); `accessToken` uses a token the caller already holds.
 */
export function createClient(config: ClientConfig, o: { credential?: TokenCredentialLike; accessToken?: string; transport?: TransportOptions } = {}): CopilogClient {
  const transport = new Transport({ ca: config.ca, ...o.transport });
  const credential = o.credential ?? (o.accessToken !== undefined ? new StaticTokenCredential(o.accessToken) : new MsalCredential(config, transport));
  const graph = new GraphClient({ baseUrl: config.graphBaseUrl, credential, scope: config.scope, transport });
  return { config, transport, credential, graph, close: () => transport.close() };
}

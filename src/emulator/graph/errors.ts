// Graph's error envelope, written in exactly one place (like Azurite's StorageErrorFactory):
// handlers throw a GraphError; the server's error handler renders it with innerError ids.
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra innerError members some Graph errors carry (e.g. 429's code/status). */
    readonly inner: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

const WWW_AUTHENTICATE = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

/** Graph's innerError date: UTC, seconds, no zone designator. */
export const innerDate = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, '');

export function graphErrorBody(err: GraphError, ids: { requestId: string; clientRequestId: string }, now: Date): unknown {
  return {
    error: {
      code: err.code,
      message: err.message,
      innerError: { ...err.inner, date: innerDate(now), 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId },
    },
  };
}

export const graphErrors = {
  unauthenticated: (message: string) => new GraphError(401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': WWW_AUTHENTICATE }),
  directoryDenied: () => new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  forbidden: (message = 'UnknownError') => new GraphError(403, 'Forbidden', message),
  badRequest: (message: string, code = 'BadRequest') => new GraphError(400, code, message),
  invalidRequest: (message: string) => new GraphError(400, 'invalidRequest', message),
  segmentNotFound: (segment: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`),
  userNotFound: (id: string) => new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`),
  notFound: (message: string, code = 'NotFound') => new GraphError(404, code, message),
  methodNotAllowed: () => new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.'),
  tooManyRequests: (retryAfter: string) => new GraphError(429, 'TooManyRequests', 'Please retry again later.', { 'Retry-After': retryAfter }, { code: '429', message: 'Please retry after', status: '429' }),
  unavailable: (status: number, retryAfter: string) => new GraphError(status, status === 504 ? 'GatewayTimeout' : status === 500 ? 'generalException' : 'serviceNotAvailable', status === 504 ? 'The request timed out.' : 'The service is temporarily unavailable. Please retry later.', { 'Retry-After': retryAfter }),
  internal: () => new GraphError(500, 'generalException', 'An unexpected error occurred.'),
};

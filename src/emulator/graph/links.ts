// @odata.nextLink, built in one place for every paged Graph answer: the request's own path and
// query options, with a new $skiptoken. Option names keep their literal '$' as Graph writes
// them ("?$top=2&$skiptoken=…"); values are percent-encoded.
import type { GraphRequest } from './request.js';

export function nextLink(r: GraphRequest, skiptoken: string): string {
  const path = r.req.url.replace(/^\/[^/?]+/, '').split('?')[0]!;
  const options = Object.entries(r.query).filter(([k]) => k !== '$skiptoken');
  options.push(['$skiptoken', skiptoken]);
  const query = options.map(([k, v]) => `${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(v)}`).join('&');
  return `${r.base}${path}?${query}`;
}

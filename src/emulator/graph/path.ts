// Graph resource paths as segments: "servicePrincipals(appId='x')/appRoleAssignments" →
// [servicePrincipals] [key appId=x] [appRoleAssignments]. Literal segments compare
// case-insensitively and lose the "microsoft.graph." prefix and a trailing "()", as Graph does.
import { GraphError, graphErrors } from './errors.js';

export type Segment =
  | { kind: 'name'; name: string; raw: string }
  | { kind: 'key'; value: string; property?: string; raw: string };

export function parseGraphPath(path: string): Segment[] {
  const out: Segment[] = [];
  for (const rawPart of path.split('/').filter(Boolean)) {
    let part: string;
    try {
      part = decodeURIComponent(rawPart);
    } catch {
      throw graphErrors.badRequest(`Invalid URL segment '${rawPart}'.`);
    }
    const open = part.indexOf('(');
    if (open < 0 || !part.endsWith(')')) {
      out.push({ kind: 'name', name: normalise(part), raw: part });
      continue;
    }
    const name = part.slice(0, open);
    const inner = part.slice(open + 1, -1).trim();
    out.push({ kind: 'name', name: normalise(name), raw: name });
    if (inner === '') continue; // a function call with no parameters: getAllEnterpriseInteractions()
    const named = /^([A-Za-z]+)\s*=\s*'((?:[^']|'')*)'$/.exec(inner);
    if (named) out.push({ kind: 'key', property: named[1]!.toLowerCase(), value: named[2]!.replace(/''/g, "'"), raw: inner });
    else if (/^'((?:[^']|'')*)'$/.test(inner)) out.push({ kind: 'key', value: inner.slice(1, -1).replace(/''/g, "'"), raw: inner });
    else out.push({ kind: 'key', value: inner, raw: inner });
  }
  return out;
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/^microsoft\.graph\./, '');
}

export interface RouteMatch<H> { handler: H; template: string; params: Segment[] }

/** A route table: patterns like "users/{id}/licensedetails" matched against parsed segments. */
export class GraphRouter<H> {
  private readonly routes: { parts: string[]; template: string; handler: H }[] = [];

  add(pattern: string, handler: H): this {
    this.routes.push({ parts: pattern.split('/'), template: '/' + pattern, handler });
    return this;
  }

  match(segments: Segment[]): RouteMatch<H> | GraphError {
    for (const r of this.routes) {
      if (r.parts.length !== segments.length) continue;
      const params: Segment[] = [];
      let ok = true;
      for (let i = 0; i < r.parts.length && ok; i++) {
        const want = r.parts[i]!;
        const seg = segments[i]!;
        if (want === '{id}') {
          // users/{id} also takes users('{id}'); a name segment is an id here.
          params.push(seg);
        } else ok = seg.kind === 'name' && seg.name === want;
      }
      if (ok) return { handler: r.handler, template: r.template, params };
    }
    // Graph names the first segment it could not resolve.
    // (an id is resolved by position: /users/{id}/nope names 'nope', not the id).
    const prefixMatches = (n: number) => this.routes.some((r) => r.parts.length >= n
      && segments.slice(0, n).every((seg, i) => r.parts[i] === '{id}' || (seg.kind === 'name' && seg.name === r.parts[i])));
    const badAt = segments.findIndex((_, i) => !prefixMatches(i + 1));
    const bad = badAt >= 0 ? segments[badAt] : undefined;
    return graphErrors.segmentNotFound(bad?.raw ?? segments[segments.length - 1]?.raw ?? '');
  }
}

import type { HttpFetch, HttpRequest, HttpResponse } from '../../src/api/client';

export interface Call {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

type Reply = { status: number; body?: unknown } | Error;
type Handler = (call: Call) => Reply | Promise<Reply>;

/**
 * The gateway's REST API as a test double for the network: routes `METHOD /path` to handlers and
 * records every call. Unknown routes answer 404 in the API's error shape.
 */
export class FakeGateway {
  readonly calls: Call[] = [];
  private readonly routes = new Map<string, Handler>();

  on(route: string, handler: Handler | Reply): this {
    this.routes.set(route, typeof handler === 'function' ? handler : () => handler);
    return this;
  }

  callsTo(route: string): Call[] {
    return this.calls.filter((c) => `${c.method} ${c.path}` === route);
  }

  readonly fetch: HttpFetch = async (url: string, init: HttpRequest): Promise<HttpResponse> => {
    const path = new URL(url).pathname;
    const body =
      typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : (init.body ?? null);
    const call: Call = { method: init.method, path, url, headers: init.headers, body };
    this.calls.push(call);
    const handler = this.routes.get(`${init.method} ${path}`);
    const reply: Reply = handler
      ? await handler(call)
      : { status: 404, body: { error: { code: 'not_found', message: 'Not found.' } } };
    if (reply instanceof Error) throw reply;
    return {
      status: reply.status,
      ok: reply.status >= 200 && reply.status < 300,
      json: async () => reply.body,
      text: async () => JSON.stringify(reply.body),
    };
  };
}

export function tokenPair(n: number) {
  return {
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    token_type: 'bearer' as const,
    expires_in: 900,
  };
}

export const unauthorized = {
  status: 401,
  body: { error: { code: 'token_expired', message: 'The access token has expired.' } },
};

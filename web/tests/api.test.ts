import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, memoryTokenStore } from "@/lib/api";
import type { TokenPair } from "@/lib/types";

function pair(n: number): TokenPair {
  return { access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "bearer", expires_in: 900 };
}

function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("ApiClient", () => {
  it("refreshes once on 401 for concurrent requests and retries them", async () => {
    const store = memoryTokenStore(pair(1));
    const calls: string[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      const path = new URL(url).pathname;
      const auth = (init.headers as Record<string, string>).Authorization ?? "";
      calls.push(`${init.method} ${path} ${auth}`);
      if (path === "/v1/auth/refresh") {
        expect(JSON.parse(String(init.body))).toEqual({ refresh_token: "refresh-1" });
        return json(200, pair(2));
      }
      if (auth !== "Bearer access-2") return json(401, { error: { code: "token_expired", message: "expired" } });
      return json(200, { id: "u1", email: "a@b.c", name: null, created_at: "2026-11-25T10:00:00Z" });
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://api.test", store, fetchImpl);
    const [a, b] = await Promise.all([client.me(), client.me()]);
    expect(a.id).toBe("u1");
    expect(b.id).toBe("u1");
    expect(calls.filter((c) => c.includes("/v1/auth/refresh"))).toHaveLength(1);
    expect(store.get()?.access_token).toBe("access-2");
  });

  it("signs out locally when the refresh is refused", async () => {
    const store = memoryTokenStore(pair(1));
    const seen: boolean[] = [];
    const fetchImpl = (async (url: string) => {
      if (new URL(url).pathname === "/v1/auth/refresh") return json(401, { error: { code: "invalid_token", message: "Refresh token was revoked." } });
      return json(401, { error: { code: "token_expired", message: "expired" } });
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://api.test", store, fetchImpl);
    client.onAuthChange((s) => seen.push(s));
    await expect(client.listSessions()).rejects.toMatchObject({ status: 401, code: "token_expired" });
    expect(store.get()).toBeNull();
    expect(seen).toEqual([false]);
  });

  it("turns the error body into an ApiError with code, message and details", async () => {
    const fetchImpl = (async () =>
      json(422, { error: { code: "validation_error", message: "Invalid input.", details: [{ loc: ["body", "email"], msg: "not an email" }] } })) as unknown as typeof fetch;
    const client = new ApiClient("http://api.test", memoryTokenStore(), fetchImpl);
    const err = await client.signup("nope", "pw").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: "validation_error", message: "Invalid input." });
    expect((err as ApiError).details).toEqual([{ loc: ["body", "email"], msg: "not an email" }]);
  });

  it("builds query strings and the live URL from the base", () => {
    const client = new ApiClient("https://ayka.example/", memoryTokenStore());
    expect(client.url("/v1/sessions", { q: "budget call", cursor: undefined, limit: 20 })).toBe("https://ayka.example/v1/sessions?q=budget+call&limit=20");
    expect(client.listenUrl()).toBe("wss://ayka.example/v1/listen");
  });

  it("stores the pair on login and forgets it on logout even if the server fails", async () => {
    const store = memoryTokenStore();
    const fetchImpl = (async (url: string) => {
      const path = new URL(url).pathname;
      if (path === "/v1/auth/login") return json(200, pair(5));
      return json(500, { error: { code: "internal", message: "boom" } });
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://api.test", store, fetchImpl);
    await client.login("a@b.c", "pw");
    expect(store.get()?.refresh_token).toBe("refresh-5");
    await expect(client.logout()).rejects.toBeInstanceOf(ApiError);
    expect(store.get()).toBeNull();
  });
});

"use client";
// Who is signed in, for every page. The token pair lives in the API client's store.
import { createContext, useCallback, useContext, useMemo, useSyncExternalStore, type ReactNode } from "react";
import { api } from "@/lib/api";

interface AuthValue {
  /** False until the page has hydrated (the static HTML knows nobody). */
  ready: boolean;
  signedIn: boolean;
  login: (email: string, password: string) => Promise<void>;
  signup: (email: string, password: string, name?: string) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

function subscribe(onChange: () => void): () => void {
  const off = api().onAuthChange(onChange);
  window.addEventListener("storage", onChange); // another tab signed in or out
  return () => {
    off();
    window.removeEventListener("storage", onChange);
  };
}

const noop = () => () => undefined;

export function AuthProvider({ children }: { children: ReactNode }) {
  const ready = useSyncExternalStore(noop, () => true, () => false);
  const signedIn = useSyncExternalStore(subscribe, () => api().signedIn, () => false);
  const login = useCallback(async (email: string, password: string) => void (await api().login(email, password)), []);
  const signup = useCallback(async (email: string, password: string, name?: string) => void (await api().signup(email, password, name)), []);
  const logout = useCallback(async () => {
    try {
      await api().logout();
    } catch {
      // signed out locally either way
    }
  }, []);
  const value = useMemo(() => ({ ready, signedIn, login, signup, logout }), [ready, signedIn, login, signup, logout]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}

"use client";
// The sign-up and log-in form.
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { ApiError } from "@/lib/api";
import { useAuth } from "@/hooks/useAuth";
import { ErrorMessage } from "./StatusMessage";
import { Button, Card, TextField } from "./ui";

function safeNext(next: string | null): string {
  // Only same-site paths: never bounce to another origin after signing in.
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/live/";
}

export function AuthForm({ mode }: { mode: "login" | "signup" }) {
  const { login, signup } = useAuth();
  const router = useRouter();
  const params = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const isSignup = mode === "signup";

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (isSignup) await signup(email.trim(), password, name.trim() || undefined);
      else await login(email.trim(), password);
      router.replace(safeNext(params.get("next")));
    } catch (err) {
      if (err instanceof ApiError && Array.isArray(err.details) && err.details.length > 0) {
        setError((err.details as { msg?: string }[]).map((d) => d.msg).filter(Boolean).join(" "));
      } else {
        setError(err instanceof Error ? err.message : "Something went wrong.");
      }
      setBusy(false);
    }
  };

  return (
    <Card className="mx-auto mt-8 max-w-md">
      <h1 className="mb-4 text-xl font-semibold">{isSignup ? "Create your account" : "Log in"}</h1>
      <form onSubmit={onSubmit} className="space-y-4" noValidate={false}>
        {isSignup ? <TextField id="name" label="Name (optional)" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" /> : null}
        <TextField id="email" label="Email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" />
        <TextField
          id="password"
          label="Password"
          type="password"
          required
          minLength={isSignup ? 8 : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete={isSignup ? "new-password" : "current-password"}
        />
        {error ? <ErrorMessage error={error} /> : null}
        <Button type="submit" variant="primary" disabled={busy} className="w-full">
          {busy ? "Please wait…" : isSignup ? "Sign up" : "Log in"}
        </Button>
      </form>
      <p className="mt-4 text-sm text-slate-700">
        {isSignup ? "Already have an account? " : "New here? "}
        <Link href={isSignup ? "/login/" : "/signup/"} className="font-medium text-indigo-800 underline">
          {isSignup ? "Log in" : "Create an account"}
        </Link>
      </p>
    </Card>
  );
}

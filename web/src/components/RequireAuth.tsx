"use client";
// Pages for signed-in people: send everyone else to the login page, coming back here after.
import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useAuth } from "@/hooks/useAuth";
import { Loading } from "./StatusMessage";

export function RequireAuth({ children }: { children: ReactNode }) {
  const { ready, signedIn } = useAuth();
  const router = useRouter();
  const pathname = usePathname();
  useEffect(() => {
    if (ready && !signedIn) {
      const next = `${pathname ?? "/"}${window.location.search}`;
      router.replace(`/login/?next=${encodeURIComponent(next)}`);
    }
  }, [ready, signedIn, pathname, router]);
  if (!ready || !signedIn) return <Loading />;
  return <>{children}</>;
}

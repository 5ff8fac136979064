"use client";
// "/" sends people where they belong: Live when signed in, else the login page.
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { Loading } from "@/components/StatusMessage";
import { useAuth } from "@/hooks/useAuth";

export default function Home() {
  const { ready, signedIn } = useAuth();
  const router = useRouter();
  useEffect(() => {
    if (ready) router.replace(signedIn ? "/live/" : "/login/");
  }, [ready, signedIn, router]);
  return <Loading />;
}

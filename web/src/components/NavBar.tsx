"use client";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useAuth } from "@/hooks/useAuth";

const LINKS = [
  { href: "/live/", label: "Live" },
  { href: "/sessions/", label: "Sessions" },
  { href: "/leads/", label: "Leads" },
  { href: "/events/", label: "Events" },
  { href: "/settings/", label: "Settings" },
];

export function NavBar() {
  const { ready, signedIn, logout } = useAuth();
  const pathname = usePathname() ?? "/";
  const router = useRouter();
  const onLogout = async () => {
    await logout();
    router.replace("/login/");
  };
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-5xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3 sm:px-6">
        <Link href="/" className="text-lg font-bold tracking-tight text-indigo-800">
          AYKA
        </Link>
        {ready && signedIn ? (
          <>
            <ul className="flex flex-1 flex-wrap gap-1 text-sm">
              {LINKS.map((link) => {
                const active = pathname.startsWith(link.href.replace(/\/$/, ""));
                return (
                  <li key={link.href}>
                    <Link
                      href={link.href}
                      aria-current={active ? "page" : undefined}
                      className={`block rounded-md px-2.5 py-1.5 font-medium ${active ? "bg-indigo-50 text-indigo-800" : "text-slate-700 hover:bg-slate-100"}`}
                    >
                      {link.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
            <button type="button" onClick={onLogout} className="rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100">
              Log out
            </button>
          </>
        ) : (
          <ul className="ml-auto flex gap-1 text-sm">
            <li>
              <Link href="/login/" className="block rounded-md px-2.5 py-1.5 font-medium text-slate-700 hover:bg-slate-100">
                Log in
              </Link>
            </li>
            <li>
              <Link href="/signup/" className="block rounded-md bg-indigo-700 px-2.5 py-1.5 font-medium text-white hover:bg-indigo-800">
                Sign up
              </Link>
            </li>
          </ul>
        )}
      </nav>
    </header>
  );
}

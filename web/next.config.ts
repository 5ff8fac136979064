import type { NextConfig } from "next";

// A static export: the gateway serves web/out at "/". trailingSlash makes every page
// out/<page>/index.html, which a plain static file server finds without rewrites.
const nextConfig: NextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;

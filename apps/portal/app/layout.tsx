import type { Metadata } from "next";
import "./globals.css";

// Every page is rendered per request: its scripts carry that response's CSP nonce (a page prerendered
// at build time would have none, and the browser would refuse to run it).
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "Attested PKI", template: "%s · Attested PKI" },
  description: "Dynamic PKI and ACME for attested, managed Apple devices",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}

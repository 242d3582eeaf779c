import type { Metadata } from "next";
import "./globals.css";

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
